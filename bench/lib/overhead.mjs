// Per-append client cost for a 4 KiB part.
//
// 1. Transport stubbed (the primary figure): each client runs its whole `append` path (options, signing, CRC,
//    request build, response parsing and checks) but the HTTP exchange is replaced by a canned 200 answer carrying
//    the headers the emulator really returned for this append. oss-append sends through the global `fetch`, which
//    is swapped for a function returning `new Response(null, { status: 200, headers })`; ali-oss takes an `urllib`
//    option, given an object whose `request()` resolves `{ status, headers, data, res }`. Both append the same
//    4 KiB at position 0 over and over (so the canned answer stays right), with V1 and with V4 signatures.
// 2. Loopback round trip (a cross-check): 4 KiB appends to the emulator one after another, ours vs ali-oss vs a bare
//    fetch POST to a presigned URL; ours minus bare fetch is the client's share of a real round trip.
import { randomFillSync } from 'node:crypto';

import { presignParts, aliClient, bareFetchParts } from './append.mjs';
import { log, median, rotate } from './stats.mjs';

const PART = 4096;

async function timeLoop(fn, n) {
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return ((performance.now() - t) * 1e3) / n; // µs per call
}

export async function overheadStubbed({ emu, OSS, AliOSS, runs, warmup = 1, iterations }) {
  log(`per-append overhead (transport stubbed): 4 KiB, ${iterations} appends × (${warmup} warm-up + ${runs} rounds)`);
  const part = randomFillSync(new Uint8Array(PART));
  const partBuf = Buffer.from(part.buffer, part.byteOffset, part.length);
  // The answer the emulator gives to this very append, replayed to both clients.
  const real = await new OSS(emu.clientOptions()).append('bench/overhead-capture.bin', part, { position: 0 });
  await emu.reset();
  const headers = { ...real.res.headers };
  if (headers['x-oss-next-append-position'] !== String(PART)) throw new Error('unexpected capture');

  const fakeFetch = async () => new Response(null, { status: 200, headers });
  const urllib = {
    async request(url) {
      const h = { ...headers };
      return { status: 200, headers: h, data: Buffer.alloc(0), res: { status: 200, statusCode: 200, headers: h, size: 0, rt: 0, requestUrls: [url] } };
    },
  };
  const base = { region: `oss-${emu.region}`, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret };
  // The endpoint is never contacted (port 9, discard); both clients address it path-style or by IP as above.
  const endpoint = 'http://127.0.0.1:9';
  const clients = {
    'ours V1': new OSS({ ...base, endpoint, pathStyle: true, authorizationV4: false }),
    'ours V4': new OSS({ ...base, endpoint, pathStyle: true, authorizationV4: true }),
    'ali-oss V1': new AliOSS({ ...base, endpoint, secure: false, urllib, authorizationV4: false }),
    'ali-oss V4': new AliOSS({ ...base, endpoint, secure: false, urllib, authorizationV4: true }),
  };
  const impls = {
    'ours V1': () => clients['ours V1'].append('bench/o.bin', part, { position: 0 }),
    'ali-oss V1': () => clients['ali-oss V1'].append('bench/o.bin', partBuf, { position: '0' }),
    'ours V4': () => clients['ours V4'].append('bench/o.bin', part, { position: 0 }),
    'ali-oss V4': () => clients['ali-oss V4'].append('bench/o.bin', partBuf, { position: '0' }),
  };
  const realFetch = globalThis.fetch;
  const us = Object.fromEntries(Object.keys(impls).map((n) => [n, []]));
  let stubCost;
  try {
    globalThis.fetch = fakeFetch;
    for (const [name, fn] of Object.entries(impls)) {
      const r = await fn();
      if (r.nextAppendPosition !== String(PART)) throw new Error(`${name}: nextAppendPosition ${r.nextAppendPosition}`);
      if (name.startsWith('ours') && r.crc64 !== headers['x-oss-hash-crc64ecma']) throw new Error(`${name}: crc ${r.crc64}`);
    }
    for (let round = -warmup; round < runs; round++) {
      for (const name of rotate(Object.keys(impls), round + warmup)) {
        const t = await timeLoop(impls[name], iterations);
        if (round >= 0) us[name].push(t);
      }
    }
    // What the stubs themselves cost per call (included in the figures above).
    stubCost = {
      fetch: await timeLoop(() => fakeFetch().then((r) => r.arrayBuffer()), iterations),
      urllib: await timeLoop(() => urllib.request('http://127.0.0.1:9/'), iterations),
    };
  } finally {
    globalThis.fetch = realFetch;
  }
  return { ...Object.fromEntries(Object.entries(us).map(([n, xs]) => [n, { us: median(xs), samples: xs }])), stubCost };
}

export async function overheadLoopback({ emu, OSS, AliOSS, runs, warmup = 1, iterations }) {
  log(`4 KiB append round trip on loopback: ${iterations} appends × (${warmup} warm-up + ${runs} rounds)`);
  const data = randomFillSync(Buffer.alloc(PART * iterations));
  const ours = new OSS(emu.clientOptions());
  const ali = aliClient(AliOSS, emu);
  let seq = 0;
  const impls = {
    ours: async () => {
      const key = `bench/rt-ours-${++seq}.bin`;
      let position = '0';
      const t = performance.now();
      for (let i = 0; i < iterations; i++) {
        position = (await ours.append(key, data.subarray(i * PART, (i + 1) * PART), { position })).nextAppendPosition;
      }
      return ((performance.now() - t) * 1e3) / iterations;
    },
    'ali-oss': async () => {
      const key = `bench/rt-ali-${++seq}.bin`;
      let position = '0';
      const t = performance.now();
      for (let i = 0; i < iterations; i++) {
        position = (await ali.append(key, data.subarray(i * PART, (i + 1) * PART), { position })).nextAppendPosition;
      }
      return ((performance.now() - t) * 1e3) / iterations;
    },
    fetch: async () => {
      const key = `bench/rt-fetch-${++seq}.bin`;
      const urls = presignParts(ours, key, data.length, PART);
      const t = performance.now();
      await bareFetchParts(urls, data, PART);
      return ((performance.now() - t) * 1e3) / iterations;
    },
  };
  const us = Object.fromEntries(Object.keys(impls).map((n) => [n, []]));
  for (let round = -warmup; round < runs; round++) {
    for (const name of rotate(Object.keys(impls), round + warmup)) {
      await emu.reset();
      const t = await impls[name]();
      if (round >= 0) us[name].push(t);
    }
  }
  await emu.reset();
  return Object.fromEntries(Object.entries(us).map(([n, xs]) => [n, { us: median(xs), samples: xs }]));
}
