// Shipped size: every file a runtime loads, each gzipped at level 9 (as a server would send it), summed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** `file`'s size after `gzip -9` (zlib's level 9 where there is no gzip). */
export function gzipped(file) {
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

export function shippedSize({ pkgDir, benchDir }) {
  // A runtime loads its entry (the bindings and the crate's JS are bundled into it) and the one .wasm.
  const files = (entries) => [...entries, 'oss_append_bg.wasm'].map((f) => join(pkgDir, f));
  return {
    web: measure(files(['web.js'])),
    node: measure(files(['node.cjs', 'node.mjs', 'spool-node.cjs'])),
    ali: measure([join(benchDir, 'node_modules', 'ali-oss', 'dist', 'aliyun-oss-sdk.min.js')]),
  };
}
