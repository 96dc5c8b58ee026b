// One live recording through an outage, in a fresh Node process:
//   node outage-child.mjs <ours|ali-oss> <emulator JSON> <key> <seconds> <chunkBytes> <everyMs>
// Prints `ready` once set up (the parent starts its outage clock then), records `chunkBytes` every `everyMs` for
// `seconds`, ends the upload and prints JSON: { written, md5, baseline, hwm, growth, ms } (bytes, ms). The peak RSS
// is reset (clear_refs) right before the recording starts.
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

let write;
let end;
if (variant === 'ours') {
  const { OSS } = await import(join(process.env.OSS_APPEND_PKG || join(ROOT, 'pkg'), 'node.mjs'));
  const oss = new OSS({
    region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url, pathStyle: true,
  });
  // Every default: maxBuffered 64 MiB, partSize 8 MiB, maxRetryDelay 30 s, giveUpAfter never.
  const w = await oss.openAppender(key);
  write = (bytes) => { w.write(bytes).catch(() => {}); };
  end = () => w.close();
} else if (variant === 'ali-oss') {
  const AliOSS = require('ali-oss');
  const ali = new AliOSS({
    region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url, secure: false,
  });
  // What an app does with ali-oss: each chunk appended in turn at the known position; one that fails is gone.
  let position = 0;
  let queue = Promise.resolve();
  write = (bytes) => {
    queue = queue.then(async () => {
      try {
        position = Number((await ali.append(key, Buffer.from(bytes), { position })).nextAppendPosition);
      } catch { /* lost */ }
    });
  };
  end = () => queue;
} else {
  throw new Error(`unknown variant ${variant}`);
}

const md5 = createHash('md5');
globalThis.gc?.();
process.stdout.write('ready\n');
const baseline = resetPeak();
const t0 = performance.now();
let written = 0;
for (let next = t0; next - t0 < seconds * 1000; next += everyMs) {
  // A fresh buffer per chunk, as MediaRecorder hands out a fresh Blob.
  const bytes = randomFillSync(new Uint8Array(chunkBytes));
  md5.update(bytes);
  written += bytes.length;
  write(bytes);
  await sleep(Math.max(0, next + everyMs - performance.now()));
}
await end();
const ms = performance.now() - t0;
const { hwm } = status();
process.stdout.write(`${JSON.stringify({ written, md5: md5.digest('hex'), baseline, hwm, growth: hwm - baseline, ms })}\n`);
process.exit(0);
