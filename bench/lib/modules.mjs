// Size per module: the package's .wasm built again the way scripts/build-pkg.sh builds it, but with the function
// names kept (wasm-opt -g), so each function body can be charged to the module its name says it comes from.
// Inlining moves code into its callers, so the split is by where code ends up, not where it was written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

import { gzipped } from './size.mjs';

// First match wins; a name is tested as wasm-bindgen demangles it, without crate hashes (`core[c593…]`), e.g.
// `<oss_append::error::Error as core::fmt::Display>::fmt`, `sha2::sha256::compress256`.
export const MODULES = [
  ['formatting', /\bcore::fmt\b|\balloc::fmt\b|\bfmt::num\b|::fmt::h[0-9a-f]+$|::fmt$/],
  ['hashes', /^<?(sha1|sha2|hmac|digest|block_buffer)::|\boss_append::crc64\b|\boss_append::sign::[^:]+::(hmac|sha)/],
  ['allocator', /^<?dlmalloc::|__rust_(alloc|dealloc|realloc)|__rdl_|\balloc::(alloc|raw_vec)::|^(malloc|free|realloc|memcpy|memmove|memset|memcmp)$/],
  // The exports' shims have no path: `oss_new externref shim`, `crc64_update`.
  ['bindings', /^<?(oss_append::wasm|wasm_bindgen|wasm_bindgen_futures|js_sys|web_sys)\b|__wbg|__wbindgen|^[^:<]+$/],
  ['core', /^<?(&(mut )?)?oss_append::/],
];

function uleb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

/** The sections of a wasm module: code body sizes by function index, function names, and the data size. */
export function parseWasm(bytes) {
  let at = 8;
  let imports = 0;
  const bodies = [];
  const names = new Map();
  let data = 0;
  let total = 0;
  const other = {};
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = uleb(bytes, at);
    const start = at;
    const end = at + size;
    if (id === 2) {
      let n;
      [n, at] = uleb(bytes, at);
      for (let i = 0; i < n; i++) {
        for (let s = 0; s < 2; s++) { let len; [len, at] = uleb(bytes, at); at += len; }
        const kind = bytes[at++];
        if (kind === 0) { imports++; [, at] = uleb(bytes, at); }
        else if (kind === 1) { at += 1; const flags = bytes[at++]; [, at] = uleb(bytes, at); if (flags & 1) [, at] = uleb(bytes, at); }
        else if (kind === 2) { const flags = bytes[at++]; [, at] = uleb(bytes, at); if (flags & 1) [, at] = uleb(bytes, at); }
        else if (kind === 3) { at += 2; }
        else if (kind === 4) { at += 1; [, at] = uleb(bytes, at); }
      }
    } else if (id === 10) {
      let n;
      [n, at] = uleb(bytes, at);
      for (let i = 0; i < n; i++) {
        const headed = at;
        let len;
        [len, at] = uleb(bytes, at);
        bodies.push(at - headed + len);
        at += len;
      }
    } else if (id === 11) {
      data = size;
    } else if (id === 0) {
      let len;
      [len, at] = uleb(bytes, at);
      const name = new TextDecoder().decode(bytes.subarray(at, at + len));
      at += len;
      if (name === 'name') {
        while (at < end) {
          const sub = bytes[at++];
          let subSize;
          [subSize, at] = uleb(bytes, at);
          const subEnd = at + subSize;
          if (sub === 1) {
            let n;
            [n, at] = uleb(bytes, at);
            for (let i = 0; i < n; i++) {
              let index;
              let nameLen;
              [index, at] = uleb(bytes, at);
              [nameLen, at] = uleb(bytes, at);
              names.set(index, new TextDecoder().decode(bytes.subarray(at, at + nameLen)));
              at += nameLen;
            }
          }
          at = subEnd;
        }
      } else {
        other[`custom:${name}`] = size;
      }
    } else {
      other[id] = size;
    }
    at = end;
    total += end - start;
  }
  return { bodies: bodies.map((size, i) => ({ size, name: names.get(imports + i) ?? `function ${imports + i}` })), data, other };
}

/** Each module's share of the function bodies (raw bytes, and the gzipped total of their bodies alone). */
export function splitByModule(parsed) {
  const modules = new Map([...MODULES.map(([m]) => [m, { raw: 0, functions: 0, largest: [] }]), ['other', { raw: 0, functions: 0, largest: [] }]]);
  for (const body of parsed.bodies) {
    const name = body.name.replace(/\[[0-9a-f]+\]/g, '');
    const module = MODULES.find(([, re]) => re.test(name))?.[0] ?? 'other';
    const m = modules.get(module);
    m.raw += body.size;
    m.functions++;
    m.largest.push(body);
  }
  for (const m of modules.values()) {
    m.largest = m.largest.sort((a, b) => b.size - a.size).slice(0, 3).map((b) => `${b.name.replace(/\[[0-9a-f]+\]|::h[0-9a-f]{16}$/g, '')} (${b.size} B)`);
  }
  modules.set('data', { raw: parsed.data, functions: 0, largest: [] });
  return modules;
}

const TOOLS = join(homedir(), '.cache', 'oss-append-tools', 'node_modules', '.bin');

/** Builds the names-kept .wasm from cargo's output and splits it; compares its code size with the shipped one. */
export function wasmModules({ root, pkgDir }) {
  const raw = join(root, 'target', 'wasm32-unknown-unknown', 'release', 'oss_append.wasm');
  const shipped = join(pkgDir, 'oss_append_bg.wasm');
  if (!existsSync(raw)) return { problem: `no ${raw}: run scripts/build-pkg.sh (make pkg) first` };
  if (!existsSync(shipped)) return { problem: `no ${shipped}` };
  const dir = mkdtempSync(join(tmpdir(), 'oss-append-modules-'));
  try {
    const bindgen = existsSync(join(homedir(), '.cargo', 'bin', 'wasm-bindgen')) ? join(homedir(), '.cargo', 'bin', 'wasm-bindgen') : 'wasm-bindgen';
    execFileSync(bindgen, ['--target', 'web', '--no-typescript', '--out-name', 'm', '--out-dir', dir, raw]);
    const named = join(dir, 'named.wasm');
    // As scripts/build-pkg.sh optimizes, with -g: the name section stays.
    execFileSync(join(TOOLS, 'wasm-opt'), ['-Oz', '--converge', '-g', join(dir, 'm_bg.wasm'), '-o', named]);
    const parsed = parseWasm(readFileSync(named));
    const shippedParsed = parseWasm(readFileSync(shipped));
    const modules = splitByModule(parsed);
    const code = parsed.bodies.reduce((s, b) => s + b.size, 0);
    const shippedCode = shippedParsed.bodies.reduce((s, b) => s + b.size, 0);
    const order = ['core', 'bindings', 'hashes', 'allocator', 'formatting', 'other', 'data'];
    return {
      modules: Object.fromEntries(order.map((m) => [m, modules.get(m)])),
      code,
      shippedCode,
      shippedRaw: statSync(shipped).size,
      shippedGz: gzipped(shipped),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/lib/modules.mjs [pkg dir]`: the table alone, without the rest of the suite.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('../..', import.meta.url).pathname;
  const r = wasmModules({ root, pkgDir: process.argv[2] ?? join(root, 'pkg') });
  if (r.problem) throw new Error(r.problem);
  const total = [...Object.values(r.modules)].reduce((s, m) => s + m.raw, 0);
  for (const [name, m] of Object.entries(r.modules)) {
    console.log(`${name.padEnd(11)} ${String(m.raw).padStart(7)} B ${(100 * m.raw / total).toFixed(1).padStart(5)} %  ${m.largest.join('; ')}`);
  }
  console.log(`code ${r.code} B with names kept (shipped: ${r.shippedCode} B); shipped .wasm ${r.shippedRaw} B, ${r.shippedGz} B gzipped`);
}
