// The hostile-input run: the public API driven with random values a careless or hostile caller could pass (detached
// and resizable buffers, streams that fail or never end, option objects with throwing getters, Proxies, huge strings,
// wrong types), from a seeded generator. The process must never die, every promise must settle (within a bound) and
// an ordinary append, appender and CRC must still work afterwards.
// Knobs: OSS_APPEND_HOSTILE_SEED (default: from the clock, printed), OSS_APPEND_HOSTILE_RUNS (default 10000; the
// longer run is e.g. 200000).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, settleWithin, uniqueKey } from './helpers/util.mjs';
import { Rng } from './pages/rng.js';

let combineCrc64;

const RUNS = Number(process.env.OSS_APPEND_HOSTILE_RUNS || 10_000);
const SEED = Number(process.env.OSS_APPEND_HOSTILE_SEED || (Date.now() % 0x7fffffff));
// Every call must settle within this; hostile calls that reach the emulator answer in milliseconds.
const SETTLE_MS = 10_000;
// Calls in flight at once (1 replays a failure call by call).
const BATCH = Number(process.env.OSS_APPEND_HOSTILE_BATCH || 64);
const TRACE = process.env.OSS_APPEND_HOSTILE_TRACE === '1';

let OSS;
let crc64;
let Crc64;
let emu;
let client;
const unhandled = [];
const onUnhandled = (e) => unhandled.push(e);

before(async () => {
  ({ default: OSS, crc64, Crc64, combineCrc64 } = await loadEsm());
  emu = await startEmulator();
  client = new OSS(emu.clientOptions({ retryMax: 0, timeout: 5_000 }));
  process.on('unhandledRejection', onUnhandled);
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await emu?.stop();
});

const HUGE = 'x'.repeat(8 * 1024 * 1024);

function detached(make) {
  const buffer = new ArrayBuffer(16);
  const value = make(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return value;
}

function throwing(keys) {
  const o = {};
  for (const k of keys) {
    Object.defineProperty(o, k, { enumerable: true, configurable: true, get() { throw new Error(`getter ${k}`); } });
  }
  return o;
}

function trapProxy(target) {
  const fail = () => { throw new Error('trap'); };
  return new Proxy(target, { get: fail, ownKeys: fail, getPrototypeOf: fail, has: fail, getOwnPropertyDescriptor: fail });
}

function revoked(target) {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** Byte-ish values, most of them unusable. */
function hostileBytes(rng) {
  return rng.pick([
    () => detached((b) => b),
    () => detached((b) => new Uint8Array(b, 4, 8)),
    () => detached((b) => new DataView(b)),
    () => detached((b) => new Float32Array(b)),
    () => {
      const rab = new ArrayBuffer(8, { maxByteLength: 32 });
      const view = new Uint8Array(rab, rng.int(0, 8));
      rab.resize(rng.int(0, 32));
      return view;
    },
    () => new Uint8Array(rng.int(0, 64)).fill(rng.int(0, 255)),
    () => new Proxy(new Uint8Array(8), {}),
    () => trapProxy(new Uint8Array(8)),
    () => revoked(new Uint8Array(8)),
    () => new Proxy(new Blob(['abc']), {}),
    () => Object.create(Uint8Array.prototype),
    () => Object.create(Blob.prototype),
    () => new Blob([new Uint8Array(rng.int(0, 32))]),
  ])();
}

// Streams that never yield: only a signal can end a call reading one, so such calls always get one.
const NEVER_ENDING = new WeakSet();
function neverEnding(stream) {
  NEVER_ENDING.add(stream);
  return stream;
}

/** Streams that fail, never end, yield junk, or pose as streams. */
const KIND = new WeakMap();
function hostileStream(rng) {
  const kind = rng.int(0, 9);
  const stream = hostileStreamOfKind(rng, kind);
  if (stream !== null && typeof stream === 'object') {
    try { KIND.set(stream, kind); } catch { /* a revoked Proxy */ }
  }
  return stream;
}

function hostileStreamOfKind(rng, kind) {
  return [
    () => new ReadableStream({ pull(c) { c.error(new Error('broken')); } }),
    () => new ReadableStream({ start(c) { c.enqueue(new Uint8Array(3)); c.error(new Error('cut')); } }),
    () => neverEnding(new ReadableStream({ pull: () => new Promise(() => {}) })),
    () => new ReadableStream({ start(c) { c.enqueue(hostileBytes(rng)); c.enqueue('text'); c.close(); } }),
    () => new ReadableStream({ start(c) { c.enqueue(detached((b) => new Uint8Array(b))); c.close(); } }),
    () => new ReadableStream({ pull() { throw new Error('pull threw'); } }),
    // Node's streams work through a Proxy; this one never yields.
    () => neverEnding(new Proxy(new ReadableStream(), {})),
    () => trapProxy(new ReadableStream()),
    () => { const s = new ReadableStream(); s.getReader(); return s; },
    () => new ReadableStream({ start(c) { c.enqueue(new Uint8Array(5)); c.close(); } }),
  ][kind]();
}

/** Anything at all. */
function hostileValue(rng) {
  return rng.pick([
    () => undefined, () => null, () => rng.int(-5, 5), () => NaN, () => -Infinity, () => 2 ** 53 + 1, () => 10n ** 30n,
    () => Symbol('s'), () => 'ok', () => '', () => HUGE, () => '\uD800', () => () => 1, () => [],
    () => ({ toString() { throw new Error('toString'); }, valueOf() { throw new Error('valueOf'); } }),
    () => throwing(['x']), () => trapProxy({}), () => revoked({}), () => new Date(), () => /re/,
    () => hostileBytes(rng), () => hostileStream(rng),
  ])();
}

const OPTION_KEYS = ['position', 'partSize', 'minPartSize', 'flushInterval', 'headers', 'meta', 'mime', 'progress',
  'signal', 'timeout', 'initCrc64', 'range'];

/** Options with throwing getters, Proxies, wrong types, huge values, and a short abort so no call waits forever. */
function hostileOptions(rng) {
  const abort = AbortSignal.timeout(rng.int(0, 30));
  const kind = rng.int(0, 6);
  if (kind === 0) return undefined;
  if (kind === 1) return rng.pick([() => trapProxy({ signal: abort }), () => revoked({}), () => throwing(OPTION_KEYS),
    () => 'options', () => 42])();
  const o = { signal: abort };
  const set = (key, value) => Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
  for (let i = rng.int(0, 3); i > 0; i--) {
    const key = rng.pick(OPTION_KEYS);
    if (key === 'signal') {
      set('signal', rng.pick([() => new Proxy(abort, {}), () => trapProxy(abort), () => AbortSignal.abort('early'), () => abort])());
    } else if (key === 'headers' || key === 'meta') {
      set(key, rng.pick([
        () => ({ [rng.pick(['Expect', 'Host', 'Cache-Control', 'x-oss-meta-a', 'Content-MD5', 'x-oss-storage-class'])]: hostileValue(rng) }),
        () => ({ 'Cache-Control': HUGE }),
        () => Object.fromEntries(Array.from({ length: rng.int(60, 5000) }, (_, j) => [`x-oss-meta-k${j}`, 'v'])),
        () => throwing(['Cache-Control']), () => trapProxy({}), () => revoked({}), () => hostileValue(rng),
      ])());
    } else if (key === 'progress') {
      set('progress', rng.pick([() => () => { throw new Error('progress'); },
        () => new Proxy(() => {}, { apply() { throw new Error('apply'); } }), () => hostileValue(rng)])());
    } else {
      set(key, hostileValue(rng));
    }
    if (rng.float() < 0.2) {
      Object.defineProperty(o, rng.pick(OPTION_KEYS), { enumerable: true, configurable: true, get() { throw new Error('getter'); } });
    }
  }
  return o;
}

function hostileName(rng) {
  return rng.pick([
    () => uniqueKey('hostile'), () => uniqueKey('hostile'), () => `h/\uD83D${rng.int(0, 9)}`, () => HUGE, () => '',
    () => '/', () => 'a/../b', () => hostileValue(rng),
  ])();
}

/** A short description of a generated value, for the report of a call that did not settle. */
function show(v) {
  try {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
      return typeof v === 'string' ? `string(${v.length})` : `${typeof v}`;
    }
    if (KIND.has(v)) return `stream#${KIND.get(v)}`;
    const name = Object.getPrototypeOf(v)?.constructor?.name ?? 'object';
    if (name === 'Object') return `{${Object.keys(v).map((k) => `${k}: ${show(v[k])}`).join(', ')}}`;
    return name;
  } catch {
    return 'unreadable (Proxy)';
  }
}

/** One random call on the public API; resolves when it settled (or rejects if it did not within SETTLE_MS). */
function hostileCall(rng, appender) {
  const op = rng.int(0, 14);
  const input = () => (rng.float() < 0.5 ? hostileBytes(rng) : hostileStream(rng));
  let label;
  let args;
  let target = client;
  switch (op) {
    case 0: case 1: case 2: label = 'append'; args = [hostileName(rng), input(), hostileOptions(rng)]; break;
    case 3: label = 'append'; args = [hostileName(rng), hostileValue(rng), hostileOptions(rng)]; break;
    case 4: label = 'put'; args = [hostileName(rng), input(), hostileOptions(rng)]; break;
    case 5: label = rng.pick(['head', 'get', 'delete']); args = [hostileName(rng), hostileOptions(rng)]; break;
    case 6: target = appender; label = 'write'; args = [rng.float() < 0.8 ? hostileBytes(rng) : hostileValue(rng)]; break;
    case 7: target = null; label = 'crc64'; args = [hostileValue(rng)]; break;
    case 8: target = null; label = 'Crc64.update'; args = [rng.float() < 0.3 ? hostileValue(rng) : undefined, hostileValue(rng)]; break;
    case 9:
      target = null;
      label = 'new OSS';
      args = [rng.pick([() => hostileValue(rng), () => throwing(['bucket', 'region']), () => ({ ...emu.clientOptions(),
        [rng.pick(['region', 'accessKeyId', 'stsToken', 'endpoint', 'timeout', 'refreshSTSToken'])]: hostileValue(rng) })])()];
      break;
    case 10: label = 'openAppender'; args = [hostileName(rng), hostileOptions(rng)]; break;
    case 11: label = 'signatureUrl'; args = [hostileName(rng), rng.pick([() => hostileOptions(rng), () => ({ response: hostileValue(rng), subResource: hostileValue(rng), expires: hostileValue(rng) })])()]; break;
    case 12: label = 'sealAppend'; args = [hostileName(rng), hostileValue(rng), hostileOptions(rng)]; break;
    case 13: target = null; label = 'combineCrc64'; args = [hostileValue(rng), hostileValue(rng), hostileValue(rng)]; break;
    default:
      label = 'signatureUrlV4';
      args = ['GET', hostileValue(rng), rng.pick([() => ({ queries: hostileValue(rng) }), () => hostileValue(rng)])(), hostileName(rng)];
  }
  if ((label === 'append' || label === 'put') && NEVER_ENDING.has(args[1]) && args[2] === undefined) {
    args[2] = { signal: AbortSignal.timeout(rng.int(0, 30)) };
  }
  const run = () => {
    if (label === 'crc64') return crc64(args[0]);
    if (label === 'Crc64.update') return new Crc64(args[0]).update(args[1]);
    if (label === 'new OSS') return new OSS(args[0]);
    if (label === 'combineCrc64') return combineCrc64(...args);
    return target[label](...args);
  };
  const what = () => `${label}(${args.map(show).join(', ')})`;
  if (TRACE) console.log(what());
  let outcome;
  try {
    outcome = Promise.resolve(run());
  } catch (e) {
    // A synchronous throw is fine as long as it is an Error (a TypeError or an ali-oss shaped error).
    outcome = Promise.reject(e);
  }
  const checked = outcome.then(async (value) => {
    // An appender opened by a hostile call is closed again, so nothing lingers.
    if (value && typeof value.abort === 'function' && typeof value.write === 'function') await value.abort();
    return 'resolved';
  }, (e) => {
    assert.ok(e instanceof Error, `${what()} rejected with a non-Error: ${Object.prototype.toString.call(e)}`);
    assert.doesNotMatch(e.message, /memory access out of bounds|unreachable|recursive use of an object/, what());
    return 'rejected';
  });
  return settleWithin(checked, SETTLE_MS, what);
}

describe('hostile inputs', () => {
  test(`${RUNS} random calls never kill the process or the module; every call settles`, { timeout: 600_000 }, async () => {
    console.log(`hostile-input run: seed ${SEED} (OSS_APPEND_HOSTILE_SEED=${SEED} replays it), ${RUNS} calls`);
    const rng = new Rng(SEED);
    const appender = await client.openAppender(uniqueKey('hostile-appender'), { flushInterval: 10 });
    const tally = { resolved: 0, rejected: 0 };
    for (let done = 0; done < RUNS; done += BATCH) {
      const calls = [];
      for (let i = 0; i < Math.min(BATCH, RUNS - done); i++) calls.push(hostileCall(rng, appender));
      for (const outcome of await Promise.all(calls)) tally[outcome]++;
    }
    await appender.abort();
    console.log(`hostile-input run: ${tally.resolved} resolved, ${tally.rejected} rejected`);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');

    // The module still works: an append in parts, an appender and the CRC helpers.
    const key = uniqueKey('after-hostile');
    const data = payload(300_000, 'after-hostile');
    const r = await client.append(key, data, { partSize: 100_000 });
    assert.equal(r.nextAppendPosition, String(data.length));
    const w = await client.openAppender(key, { position: r.nextAppendPosition });
    await w.write(Buffer.from('tail'));
    await w.close();
    await assertStored(emu, key, Buffer.concat([data, Buffer.from('tail')]));
    assert.equal(crc64(Buffer.concat([data, Buffer.from('tail')])), (await client.head(key)).crc64);
  });
});
