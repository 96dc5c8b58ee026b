// Test data, an independent CRC-64/XZ, an independent reader (ali-oss), and assertion helpers.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

import { seededBytes } from '../pages/rng.js';

// ---- CRC-64/XZ in plain JS, independent of the package under test --------------------------------------------------
// ECMA-182 polynomial reflected (0xC96C5795D7870F42), init and xorout all ones; the 64-bit state is kept as two
// 32-bit halves so that it runs at table speed without BigInt in the loop.
const POLY_HI = 0xC96C5795;
const POLY_LO = 0xD7870F42;
const T_HI = new Uint32Array(256);
const T_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  T_HI[i] = hi;
  T_LO[i] = lo;
}

/** The byte-at-a-time CRC-64/XZ tables (high and low halves), also the base of helpers/crc64-fast.mjs. */
export { T_HI as CRC64_TABLE_HI, T_LO as CRC64_TABLE_LO };

/** CRC-64/XZ of `bytes`, continuing from `init` (the CRC of the bytes before them); a decimal string. */
export function refCrc64(bytes, init = '0') {
  const start = ~BigInt(init) & 0xFFFFFFFFFFFFFFFFn;
  let hi = Number(start >> 32n) >>> 0;
  let lo = Number(start & 0xFFFFFFFFn) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    const idx = (lo ^ bytes[i]) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ T_LO[idx]) >>> 0;
    hi = ((hi >>> 8) ^ T_HI[idx]) >>> 0;
  }
  return (((BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0))).toString();
}

if (refCrc64(Buffer.from('123456789')) !== '11051210869376104954'
  || refCrc64(Buffer.from('bar'), refCrc64(Buffer.from('foo'))) !== '6001682485122215966') {
  throw new Error('the reference CRC-64 in helpers/util.mjs is wrong');
}

// ---- data -----------------------------------------------------------------------------------------------------------

/** `n` deterministic bytes from `seed` (a number or a label), covering the whole byte range; a Buffer. */
export function payload(n, seed) {
  const bytes = seededBytes(n, seed);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A key unique to this run. */
export function uniqueKey(label, suffix = 'obj.bin') {
  return `e2e/${label}/${randomBytes(5).toString('hex')}/${suffix}`;
}

// ---- what the emulator stores, read through its unsigned control plane -------------------------------------------

/** The user metadata of a stored object (the control plane's `meta`), without the `x-oss-meta-` prefix. */
export function userMeta(obj) {
  return Object.fromEntries(Object.entries(obj.meta ?? {}).map(([k, v]) => [k.replace(/^x-oss-meta-/, ''), v]));
}

/**
 * Asserts that `key` holds exactly `expected` (length, MD5 and the server's whole-object CRC-64 all match);
 * resolves the stored object's description.
 */
export async function assertStored(emu, key, expected, message = key) {
  const bytes = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  const obj = await emu.object(key);
  assert.ok(obj, `${message}: the object does not exist`);
  assert.equal(obj.size, bytes.length, `${message}: stored length`);
  assert.equal(obj.md5, createHash('md5').update(bytes).digest('hex'), `${message}: stored bytes differ (MD5)`);
  assert.equal(obj.crc64, refCrc64(bytes), `${message}: server CRC-64`);
  return obj;
}

/**
 * `promise`, or a rejection "<what> did not settle within <ms> ms" once `ms` pass first: a wait in a test that must
 * fail, not hang, when the code under test never answers. `what` is a string, or a function called only then.
 */
export function settleWithin(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${typeof what === 'function' ? what() : what} did not settle within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// ---- assertions -------------------------------------------------------------------------------------------------------

/** Awaits `promise`, asserts it rejects with an Error whose fields match `expected`; returns the error. */
export async function rejects(promise, expected = {}) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a rejection ${JSON.stringify(expected)}, got success`);
  assert.ok(err instanceof Error, `expected an Error, got ${Object.prototype.toString.call(err)}: ${String(err)}`);
  for (const [k, v] of Object.entries(expected)) {
    if (v instanceof RegExp) assert.match(String(err[k]), v, `error.${k} (message: ${err.message})`);
    else assert.equal(err[k], v, `error.${k} (message: ${err.message})`);
  }
  return err;
}

/** Asserts that `secret` appears nowhere in the error: message, stack, own fields, JSON, String(). */
export function assertNoSecret(err, secret) {
  const seen = new Set();
  const texts = [String(err), err.message, err.stack ?? ''];
  try { texts.push(JSON.stringify(err)); } catch { /* circular: covered by the walk */ }
  const walk = (v, depth) => {
    if (depth > 6 || v === null || v === undefined) return;
    if (typeof v === 'string') { texts.push(v); return; }
    if (typeof v !== 'object' && typeof v !== 'function') { texts.push(String(v)); return; }
    if (seen.has(v)) return;
    seen.add(v);
    if (v instanceof Uint8Array) { texts.push(Buffer.from(v).toString('latin1')); return; }
    for (const k of Reflect.ownKeys(v)) {
      let child;
      try { child = v[k]; } catch { continue; }
      texts.push(String(k));
      walk(child, depth + 1);
    }
  };
  walk(err, 0);
  for (const t of texts) {
    assert.ok(!t.includes(secret), `the secret leaks into the error: ${t.slice(0, 300)}`);
  }
}

/** A deep snapshot of an options object (functions, signals and bigints kept by identity/value) for mutation checks. */
export function snapshot(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(snapshot);
  if (typeof AbortSignal !== 'undefined' && value instanceof AbortSignal) return value;
  const out = {};
  for (const k of Reflect.ownKeys(value)) out[k] = snapshot(value[k]);
  return out;
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
