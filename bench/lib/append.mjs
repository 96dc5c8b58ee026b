// Append throughput to the emulator on loopback: `total` bytes in `part`-sized appends. Every round runs each
// implementation once (the order rotates), with an emulator reset between runs (not timed) to free its disk.
import { randomFillSync } from 'node:crypto';

import { log, mbps, median, rotate } from './stats.mjs';

let seq = 0;
const uniqueKey = (name) => `bench/${name}-${process.pid}-${++seq}.bin`;

/** Presigned V1 append URLs for every part (what the bare fetch posts to; made before the clock starts). */
export function presignParts(oss, key, total, part) {
  const urls = [];
  for (let at = 0; at < total; at += part) {
    urls.push(oss.signatureUrl(key, { method: 'POST', expires: 3600, subResource: { append: '', position: String(at) } }));
  }
  return urls;
}

export async function bareFetchParts(urls, data, part) {
  let next;
  for (let i = 0; i < urls.length; i++) {
    const res = await fetch(urls[i], { method: 'POST', body: data.subarray(i * part, Math.min(data.length, (i + 1) * part)) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bare fetch: status ${res.status} for part ${i}`);
    next = res.headers.get('x-oss-next-append-position');
  }
  return next;
}

export function aliClient(AliOSS, emu, extra = {}) {
  // ali-oss's IP-endpoint mode: /key on 127.0.0.1 with `Host: <bucket>.oss-<region>.aliyuncs.com`, V1 (its default).
  return new AliOSS({
    region: `oss-${emu.region}`,
    bucket: emu.bucket,
    accessKeyId: emu.accessKeyId,
    accessKeySecret: emu.accessKeySecret,
    endpoint: emu.url,
    secure: false,
    timeout: 120_000,
    ...extra,
  });
}

export async function appendNode({ emu, OSS, AliOSS, crc64, runs, warmup = 1, total, part }) {
  log(`append in Node: ${total / 2 ** 20} MiB in ${part / 2 ** 20} MiB parts, ${warmup} warm-up + ${runs} rounds`);
  const data = randomFillSync(Buffer.alloc(total));
  const expectedCrc = crc64(data);
  const ours = new OSS(emu.clientOptions({ timeout: 120_000 }));
  const ali = aliClient(AliOSS, emu);
  const impls = {
    ours: async () => {
      const key = uniqueKey('ours');
      const t = performance.now();
      const r = await ours.append(key, data, { partSize: part });
      const ms = performance.now() - t;
      if (r.nextAppendPosition !== String(total) || r.crc64 !== expectedCrc) {
        throw new Error(`oss-append: next ${r.nextAppendPosition}, crc ${r.crc64}, expected ${total}, ${expectedCrc}`);
      }
      return ms;
    },
    'ali-oss': async () => {
      const key = uniqueKey('ali');
      const t = performance.now();
      let position = '0';
      for (let at = 0; at < total; at += part) {
        const r = await ali.append(key, data.subarray(at, Math.min(total, at + part)), { position });
        position = r.nextAppendPosition;
      }
      const ms = performance.now() - t;
      if (position !== String(total)) throw new Error(`ali-oss: ended at ${position}, expected ${total}`);
      return ms;
    },
    fetch: async () => {
      const key = uniqueKey('fetch');
      const urls = presignParts(ours, key, total, part);
      const t = performance.now();
      const next = await bareFetchParts(urls, data, part);
      const ms = performance.now() - t;
      if (next !== String(total)) throw new Error(`bare fetch: ended at ${next}, expected ${total}`);
      return ms;
    },
  };
  return runRounds(emu, impls, { runs, warmup, bytes: total });
}

export async function appendChrome({ emu, page, runs, warmup = 1, total, part }) {
  log(`append in Chrome: ${total / 2 ** 20} MiB in ${part / 2 ** 20} MiB parts, ${warmup} warm-up + ${runs} rounds`);
  await page.evaluate((n) => window.bench.prepare(n), total);
  const opts = {
    endpoint: emu.url, region: `oss-${emu.region}`, bucket: emu.bucket,
    accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, timeout: 120_000,
  };
  const call = (fn) => async () => {
    const r = await page.evaluate(([f, o, k, p]) => window.bench[f](o, k, p), [fn, opts, uniqueKey(fn), part]);
    if (r.next !== String(total)) throw new Error(`${fn}: ended at ${r.next}, expected ${total}`);
    return r.ms;
  };
  return runRounds(emu, { ours: call('appendOurs'), fetch: call('appendBare') }, { runs, warmup, bytes: total });
}

export async function runRounds(emu, impls, { runs, warmup, bytes }) {
  const names = Object.keys(impls);
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -warmup; round < runs; round++) {
    for (const name of rotate(names, round + warmup)) {
      await emu.reset();
      const t = await impls[name]();
      if (round >= 0) ms[name].push(t);
    }
  }
  await emu.reset();
  return Object.fromEntries(names.map((n) => {
    const samples = ms[n].map((t) => mbps(bytes, t));
    return [n, { mbps: median(samples), samples }];
  }));
}
