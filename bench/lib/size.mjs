// Shipped size: every file a runtime loads, each gzipped at level 9 (as a server would send it), summed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function gzipped(file) {
  try {
    return Number(execFileSync('sh', ['-c', 'gzip -9 -c "$1" | wc -c', 'sh', file], { encoding: 'utf8' }).trim());
  } catch {
    return gzipSync(readFileSync(file), { level: 9 }).length;
  }
}

function measure(files) {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) return { problem: `missing ${missing.join(', ')}` };
  const parts = files.map((f) => ({ file: f, raw: statSync(f).size, gz: gzipped(f) }));
  return { parts, raw: parts.reduce((s, p) => s + p.raw, 0), gz: parts.reduce((s, p) => s + p.gz, 0) };
}

// A runtime loads its entry files and everything in its directory (bindings, .wasm and the JS they import).
function runtimeFiles(pkgDir, dir, entries) {
  const inDir = existsSync(join(pkgDir, dir)) ? readdirSync(join(pkgDir, dir)).map((f) => join(dir, f)) : [`${dir}/`];
  return [...inDir.sort(), ...entries].map((f) => join(pkgDir, f));
}

export function shippedSize({ pkgDir, benchDir }) {
  return {
    web: measure(runtimeFiles(pkgDir, 'web', ['web.js'])),
    node: measure(runtimeFiles(pkgDir, 'node', ['node.cjs', 'node.mjs'])),
    ali: measure([join(benchDir, 'node_modules', 'ali-oss', 'dist', 'aliyun-oss-sdk.min.js')]),
  };
}
