// CRC-64/XZ throughput in Node: oss-append's wasm vs its previous crc64fast build vs crc64-ecma182.js vs native crc64fast.
//
//   node bench/crc64/run.mjs            builds what is missing (pkg/, the two bench crates, node_modules), then measures
//   CRC_BENCH_MIB=64 CRC_BENCH_RUNS=9   buffer size and timed rounds (defaults shown)
//   CRC_BENCH_NO_BUILD=1                use pkg/ as it is instead of running scripts/build-pkg.sh first
//
// Every round runs each implementation once, in turn, so a busy machine slows them alike; the table shows medians.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const TARGET = join(HERE, 'target');
const MIB = Number(process.env.CRC_BENCH_MIB ?? 64);
const RUNS = Number(process.env.CRC_BENCH_RUNS ?? 9);
const WARMUP = 2;

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
const log = (msg) => process.stderr.write(`${msg}\n`);

// ---- build what the bench needs ----
if (!existsSync(join(HERE, 'node_modules/crc64-ecma182.js'))) {
  log('npm ci (crc64-ecma182.js)');
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HERE });
}
if (!process.env.CRC_BENCH_NO_BUILD || !existsSync(join(ROOT, 'pkg/node.mjs'))) {
  log('scripts/build-pkg.sh');
  run(join(ROOT, 'scripts/build-pkg.sh'), [], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
const cargoEnv = { ...process.env, CARGO_TARGET_DIR: TARGET };
log('cargo build: bench/crc64/native, bench/crc64/old-wasm');
run('cargo', ['build', '-q', '--release', '--locked', '--manifest-path', join(HERE, 'native/Cargo.toml')], { env: cargoEnv });
run('cargo', ['build', '-q', '--release', '--locked', '--target', 'wasm32-unknown-unknown',
  '--manifest-path', join(HERE, 'old-wasm/Cargo.toml')], { env: cargoEnv });

// ---- the implementations: each maps a Uint8Array to its CRC as a decimal string ----
const ours = await import(join(ROOT, 'pkg/node.mjs'));
const ecma = createRequire(import.meta.url)('crc64-ecma182.js');
const old = (await WebAssembly.instantiate(
  readFileSync(join(TARGET, 'wasm32-unknown-unknown/release/crc64_bench_old_wasm.wasm')))).instance.exports;

const OLD_CHUNK = 1 << 20; // what oss-append's feed_bytes copied per step before
const oldPtr = old.buffer(OLD_CHUNK);
const ECMA_CHUNK = 8 << 20; // its fixed 16 MiB heap takes no more than about 15 MiB per call

function streamed(bytes, step) {
  const crc = new ours.Crc64();
  for (let at = 0; at < bytes.length; at += step) crc.update(bytes.subarray(at, at + step));
  const value = crc.digest();
  crc.free();
  return value;
}

const impls = [
  { name: 'oss-append crc64(bytes), incl. copy into wasm', fn: (b) => ours.crc64(b), ours: true },
  { name: 'oss-append Crc64.update × 4 MiB', fn: (b) => streamed(b, 4 << 20), ours: true },
  { name: 'oss-append Crc64.update × 64 KiB', fn: (b) => streamed(b, 64 << 10), ours: true },
  {
    name: 'previous: crc64fast tables in wasm, 1 MiB copies',
    old: true,
    fn: (b) => {
      const mem = () => new Uint8Array(old.memory.buffer, oldPtr, OLD_CHUNK);
      old.reset();
      for (let at = 0; at < b.length; at += OLD_CHUNK) {
        const chunk = b.subarray(at, at + OLD_CHUNK);
        mem().set(chunk);
        old.write(oldPtr, chunk.length);
      }
      return BigInt.asUintN(64, old.sum()).toString();
    },
  },
  {
    name: 'crc64-ecma182.js 2.0.2, 8 MiB calls',
    ecma: true,
    fn: (b) => {
      let prev = '0';
      for (let at = 0; at < b.length; at += ECMA_CHUNK) {
        const chunk = b.subarray(at, Math.min(b.length, at + ECMA_CHUNK));
        prev = ecma.crc64(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length), prev);
      }
      return prev;
    },
  },
];

// ---- agreement first: every length 0..4096 at odd offsets, and lengths around the wasm code's switch points ----
const sample = randomFillSync(new Uint8Array((3 << 20) + 64));
const lengths = [...Array(4097).keys()];
for (const period of [32767, 131071]) for (const rows of [1, 8, 9, 17]) for (const d of [-1, 0, 1, 9]) lengths.push(rows * period + d);
lengths.push((256 << 10) - 1, 256 << 10, 3 << 20);
for (const [i, len] of lengths.entries()) {
  const at = i % 61;
  const bytes = sample.subarray(at, at + len);
  const got = impls.map((x) => x.fn(bytes));
  if (new Set(got).size !== 1) throw new Error(`CRCs differ at length ${len}: ${JSON.stringify(got)}`);
}
log(`all ${impls.length} implementations agree on ${lengths.length} lengths`);

// ---- timing ----
const bytes = randomFillSync(new Uint8Array(MIB << 20));
const tmp = join(HERE, '.tmp');
mkdirSync(tmp, { recursive: true });
writeFileSync(join(tmp, 'buffer.bin'), bytes);

const expected = impls[0].fn(bytes);
const times = impls.map(() => []);
const nativeMs = { simd: [], table: [] };
for (let round = -WARMUP; round < RUNS; round++) {
  impls.forEach((impl, i) => {
    const t = performance.now();
    const value = impl.fn(bytes);
    const ms = performance.now() - t;
    if (value !== expected) throw new Error(`${impl.name}: ${value}, expected ${expected}`);
    if (round >= 0) times[i].push(ms);
  });
  // The native binary takes its turn in the same round (it reads the file, then times one run of each).
  const native = JSON.parse(execFileSync(join(TARGET, 'release/crc64-bench-native'),
    [join(tmp, 'buffer.bin'), '1'], { encoding: 'utf8' }));
  for (const [k, v] of Object.entries(native)) {
    if (v.crc !== expected) throw new Error(`native ${k}: ${v.crc}, expected ${expected}`);
    if (round >= 0) nativeMs[k].push(...v.ms);
  }
}

rmSync(tmp, { recursive: true, force: true });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mbps = (ms) => bytes.length / (ms / 1e3) / 1e6;
const rows = impls.map((impl, i) => ({ ...impl, ms: times[i] }));
rows.push({ name: 'native crc64fast, PCLMULQDQ (x86_64)', native: true, ms: nativeMs.simd });
rows.push({ name: 'native crc64fast, its slice-by-16 tables', ms: nativeMs.table });
for (const r of rows) [r.mbps, r.best] = [mbps(median(r.ms)), mbps(Math.min(...r.ms))];

const ecmaRate = rows.find((r) => r.ecma).mbps;
const oldRate = rows.find((r) => r.old).mbps;
const nativeRate = rows.find((r) => r.native).mbps;
const W = Math.max(...rows.map((r) => r.name.length));
console.log(`CRC-64/XZ of ${MIB} MiB of random bytes; Node ${process.version}; median of ${RUNS} runs; MB/s = 10^6 bytes/s`);
console.log(`CRC ${expected}, the same from every implementation`);
console.log(`${'implementation'.padEnd(W)}  ${'MB/s'.padStart(6)}  ${'best'.padStart(6)}  ${'× ecma182'.padStart(9)}  `
  + `${'× previous'.padStart(10)}  ${'/ native'.padStart(8)}`);
for (const r of rows) {
  console.log(`${r.name.padEnd(W)}  ${r.mbps.toFixed(0).padStart(6)}  ${r.best.toFixed(0).padStart(6)}  `
    + `${(r.mbps / ecmaRate).toFixed(2).padStart(9)}  ${(r.mbps / oldRate).toFixed(2).padStart(10)}  `
    + `${(r.mbps / nativeRate).toFixed(2).padStart(8)}`);
}

// ---- smaller inputs: per-call costs and the switch from tables to folding (at 256 KiB) ----
const sized = [impls[0], impls.find((x) => x.old), impls.find((x) => x.ecma)];
console.log(`\nby input size (one call each, best of 7 batches of about 4 MiB), MB/s; the previous build is called`);
console.log(`through raw exports, without the wasm-bindgen glue (type checks, a string result) that oss-append's crc64 has`);
console.log(`${'size'.padStart(8)}  ${sized.map((x) => x.name.split(/[,:]/)[0].padStart(20)).join('  ')}`);
for (const kib of [4, 64, 256, 1024, 8192]) {
  const b = bytes.subarray(0, kib << 10);
  const calls = Math.max(1, Math.round((4 << 20) / b.length));
  const cells = sized.map((impl) => {
    let best = Infinity;
    for (let rep = 0; rep < 7; rep++) {
      const t = performance.now();
      for (let i = 0; i < calls; i++) impl.fn(b);
      best = Math.min(best, (performance.now() - t) / calls);
    }
    return (b.length / best / 1e3).toFixed(0).padStart(20);
  });
  console.log(`${(kib >= 1024 ? `${kib >> 10} MiB` : `${kib} KiB`).padStart(8)}  ${cells.join('  ')}`);
}
