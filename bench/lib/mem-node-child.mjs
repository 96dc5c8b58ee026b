// One memory run in a fresh Node process (so that nothing earlier inflates or pre-grows its heap or the wasm memory):
//   node --expose-gc mem-node-child.mjs <ours|ali-oss|fetch> <emulator JSON> <file> <partSize>
// Setup and a 4 KiB warm-up append come first; then the peak RSS is reset (clear_refs) and the 1 GiB file is
// appended. Prints JSON: { baseline, hwm, growth, ms, next } (bytes, ms).
import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { resetPeak, status } from './procmem.mjs';

const [variant, emuJson, file, partArg] = process.argv.slice(2);
const emu = JSON.parse(emuJson);
const part = Number(partArg);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { OSS } = await import(join(process.env.OSS_APPEND_PKG || join(ROOT, 'pkg'), 'node.mjs'));
const oursOptions = {
  region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
  endpoint: emu.url, pathStyle: true, timeout: 300_000,
};
const size = (await stat(file)).size;
const warm = new Uint8Array(4096).fill(1);
const key = `bench/mem-${variant}-${process.pid}.bin`;

let run;
if (variant === 'ours') {
  const oss = new OSS(oursOptions);
  await oss.append(`${key}.warm`, warm);
  run = async () => (await oss.append(key, file, { partSize: part })).nextAppendPosition;
} else if (variant === 'ali-oss') {
  const AliOSS = require('ali-oss');
  const ali = new AliOSS({
    region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url, secure: false, timeout: 300_000,
  });
  await ali.append(`${key}.warm`, Buffer.from(warm));
  // ali-oss's own way to append a file: append(name, path) streams it as one request.
  run = async () => (await ali.append(key, file)).nextAppendPosition;
} else if (variant === 'fetch') {
  const oss = new OSS(oursOptions);
  const sign = (k, at) => oss.signatureUrl(k, { method: 'POST', expires: 3600, subResource: { append: '', position: String(at) } });
  await (await fetch(sign(`${key}.warm`, 0), { method: 'POST', body: warm })).arrayBuffer();
  const urls = [];
  for (let at = 0; at < size; at += part) urls.push(sign(key, at));
  // The bound: one reused part-sized buffer, read from the file and posted, part after part.
  run = async () => {
    const fh = await open(file);
    const buf = Buffer.alloc(part);
    let next;
    try {
      for (let i = 0, at = 0; at < size; i++, at += part) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(part, size - at), at);
        const res = await fetch(urls[i], { method: 'POST', body: buf.subarray(0, bytesRead) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        next = res.headers.get('x-oss-next-append-position');
      }
    } finally {
      await fh.close();
    }
    return next;
  };
} else {
  throw new Error(`unknown variant ${variant}`);
}

globalThis.gc?.();
const baseline = resetPeak();
const t = performance.now();
const next = await run();
const ms = performance.now() - t;
const { hwm } = status();
if (next !== String(size)) throw new Error(`${variant}: ended at ${next}, expected ${size}`);
process.stdout.write(`${JSON.stringify({ baseline, hwm, growth: hwm - baseline, ms, next })}\n`);
