// What the ali-oss suite needs besides the emulator (tests/support/emulator.mjs): the identity it starts it with, an
// HTTP agent that resolves test host names, a small CRC-64/XZ and test data (from the suites' one seeded generator).
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';

import { seededBytes } from '../e2e/pages/rng.js';

export const BUCKET = 'interop-bucket';
export const ACCESS_KEY_ID = 'LTAIinteropTestKeyId';
export const ACCESS_KEY_SECRET = 'interopTestSecretKey0123456789';
export const REGION = 'cn-hangzhou';
export const STS_TOKEN = 'CAIS-interop-sts-token+/=with.odd~chars';
/** The emulator options that give it the bucket, key pair and region above. */
export const IDENTITY = {
  bucket: BUCKET, accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, region: REGION,
};

/** Hosts under this (reserved) domain resolve to 127.0.0.1 through `testAgent`: cname and virtual-host tests. */
export const TEST_DOMAIN = 'interop.test';

function lookup(hostname, options, callback) {
  if (hostname === TEST_DOMAIN || hostname.endsWith(`.${TEST_DOMAIN}`)) {
    if (options && options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    return callback(null, '127.0.0.1', 4);
  }
  return dns.lookup(hostname, options, callback);
}

/** An HTTP agent resolving `*.interop.test` to 127.0.0.1 (and everything else as usual). */
export const testAgent = new http.Agent({ keepAlive: true, lookup });

/** GET `url` through `testAgent`; resolves { status, headers, body: Buffer }. */
export function httpGet(url, headers = {}, timeoutMs = 10_000) {
  return new Promise((resolvePromise, reject) => {
    const req = http.get(url, { agent: testAgent, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// ---- CRC-64/XZ (the ECMA-182 polynomial, reflected, init and xorout all ones), as OSS reports it ----------------

const MASK = (1n << 64n) - 1n;
const POLY_REFLECTED = 0xC96C5795D7870F42n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = (c & 1n) ? (c >> 1n) ^ POLY_REFLECTED : c >> 1n;
  return c;
});

/** CRC-64 of `bytes` continuing from the CRC `init` of the bytes before them; returns a decimal string. */
export function crc64(bytes, init = '0') {
  let c = ~BigInt(init) & MASK;
  for (const b of bytes) c = TABLE[Number((c ^ BigInt(b)) & 0xffn)] ^ (c >> 8n);
  return (~c & MASK).toString();
}

if (crc64(Buffer.from('123456789')) !== '11051210869376104954') {
  throw new Error('the test CRC-64 implementation is wrong');
}

/** `n` deterministic bytes from `seed` (a number or a label), covering the whole byte range; a Buffer. */
export function payload(n, seed) {
  const bytes = seededBytes(n, seed);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A key unique to this run. */
export function uniqueKey(label, suffix = 'obj.bin') {
  return `interop/ali-oss/${label}/${randomBytes(5).toString('hex')}/${suffix}`;
}
