// One live recording through an outage, in a fresh Node process:
//   node outage-child.mjs <ours|ali-oss> <emulator JSON> <key> <seconds> <chunkBytes> <everyMs>
// Prints `ready` once set up (the parent starts its outage clock then), records `chunkBytes` every `everyMs` for
// `seconds`, ends the upload and prints JSON: { written, md5, baseline, hwm, growth, ms } (bytes, ms). The peak RSS
// is reset (clear_refs) right before the recording starts, after one request (the HTTP stack's first use). With
// OUTAGE_TRACE=1 it also prints the memory by kind every 500 ms on stderr.
import { createHash, randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { resetPeak, status } from './procmem.mjs';

const [variant, emuJson, key, secondsArg, chunkArg, everyArg] = process.argv.slice(2);
const emu = JSON.parse(emuJson);
const [seconds, chunkBytes, everyMs] = [secondsArg, chunkArg, everyArg].map(Number);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

// Tracing watches the wasm memory's size: the instance the package makes is caught as it is made.
let wasmInstance;
if (process.env.OUTAGE_TRACE === '1') {
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = function (...args) { wasmInstance = new Instance(...args); return wasmInstance; };
}

let write;
let end;
if (variant === 'ours') {
  const { OSS } = await import(join(process.env.OSS_APPEND_PKG || join(ROOT, 'pkg'), 'node.mjs'));
  const oss = new OSS({
    region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url, pathStyle: true,
  });
  // Every default: maxBuffered 64 MiB, partSize 8 MiB, maxRetryDelay 30 s, giveUpAfter never.
  // One request first (the object does not exist yet): Node loads its fetch on first use, a one-time cost
  // that is not the recording's.
  await oss.head(key).catch(() => {});
  const w = await oss.openAppender(key);
  write = (bytes) => { w.write(bytes).catch(() => {}); };
  end = () => w.close();
} else if (variant === 'ali-oss') {
  const AliOSS = require('ali-oss');
  const ali = new AliOSS({
    region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url, secure: false,
  });
  await ali.head(key).catch(() => {});
  // What an app does with ali-oss: each chunk appended in turn at the known position; one that fails is gone.
  let position = 0;
  let queue = Promise.resolve();
  write = (bytes) => {
    // Copied at once, as our write() does: the recording reuses its buffer.
    const copy = Buffer.from(bytes);
    queue = queue.then(async () => {
      try {
        position = Number((await ali.append(key, copy, { position })).nextAppendPosition);
      } catch { /* lost */ }
    });
  };
  end = () => queue;
} else {
  throw new Error(`unknown variant ${variant}`);
}

// OUTAGE_TRACE=1: every 500 ms, one line on stderr with the process's memory by kind (MiB) and the wasm memory.
const wasmMemory = () => wasmInstance?.exports.memory?.buffer.byteLength ?? 0;
const traceTimer = process.env.OUTAGE_TRACE === '1' && setInterval(() => {
  const m = process.memoryUsage();
  const mib = (n) => (n / 2 ** 20).toFixed(1);
  process.stderr.write(`trace ${variant} t=${((performance.now() - t0) / 1000).toFixed(1)} rss=${mib(m.rss)} ` +
    `heap=${mib(m.heapUsed)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)} ` +
    `hwm=${mib(status().hwm)} wasm=${mib(wasmMemory())}\n`);
}, 500);
const md5 = createHash('md5');
globalThis.gc?.();
process.stdout.write('ready\n');
const baseline = resetPeak();
const t0 = performance.now();
let written = 0;
// One buffer refilled for every chunk: both clients copy what they are given at once, so a fresh buffer per chunk
// would only measure the garbage of the test's own data generation.
const bytes = new Uint8Array(chunkBytes);
for (let next = t0; next - t0 < seconds * 1000; next += everyMs) {
  randomFillSync(bytes);
  md5.update(bytes);
  written += bytes.length;
  write(bytes);
  await sleep(Math.max(0, next + everyMs - performance.now()));
}
await end();
const ms = performance.now() - t0;
if (traceTimer) clearInterval(traceTimer);
const { hwm } = status();
process.stdout.write(`${JSON.stringify({ written, md5: md5.digest('hex'), baseline, hwm, growth: hwm - baseline, ms })}\n`);
process.exit(0);
