// The Node side of the streaming suites: the control callback the shared runner (pages/streams.js) calls to arm
// faults, expire tokens, move the clock and play another writer; the expected digest of a pattern stream; and a
// Chromium page that has the package, the runner and that control callback.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { openTestPage } from './browser.mjs';
import { FastCrc64 } from './crc64-fast.mjs';
import { Pattern } from '../pages/streams.js';

/** What `length` bytes of Pattern(seed) from `offset` hash to: { size, md5, crc64 }. Generated 4 MiB at a time. */
export function patternDigest(seed, length, offset = 0) {
  const p = new Pattern(seed);
  const md5 = createHash('md5');
  const crc = new FastCrc64();
  for (let at = offset; at < offset + length;) {
    const n = Math.min(4 << 20, offset + length - at);
    const chunk = p.read(at, n);
    md5.update(chunk);
    crc.update(chunk);
    at += n;
  }
  return { size: length, md5: md5.digest('hex'), crc64: crc.digest() };
}

/** The digest of a concatenation of byte arrays. */
export function digestOf(parts) {
  const md5 = createHash('md5');
  const crc = new FastCrc64();
  let size = 0;
  for (const p of parts) {
    md5.update(p);
    crc.update(p);
    size += p.length;
  }
  return { size, md5: md5.digest('hex'), crc64: crc.digest() };
}

/** Asserts the emulator holds exactly `expected` ({ size, md5, crc64 }) at `key`. */
export async function assertDigest(emu, key, expected, message = key) {
  const obj = await emu.object(key);
  assert.ok(obj, `${message}: the object does not exist`);
  assert.equal(obj.size, expected.size, `${message}: stored length`);
  assert.equal(obj.md5, expected.md5, `${message}: stored bytes differ (MD5)`);
  assert.equal(obj.crc64, expected.crc64, `${message}: server CRC-64`);
  return obj;
}

/**
 * The control callback for the shared runner and scenarios: ('arm', action), ('credentials'), ('object', { key })
 * (size, CRC-64, type, MD5 as stored) and ('requests', { key }) (the emulator's log for the key). Actions: an
 * emulator fault (on the action's key; op 'any' and count 1 unless given), { kind: 'sts_expire' },
 * { kind: 'clock', offset_ms }, and { kind: 'foreign', length, seed }: another writer appends `length` bytes of
 * Pattern(seed) at the object's current length. `stats` counts what happened.
 */
export function controller(emu, OSS) {
  const stats = { armed: 0, expired: 0, clock: 0, credentials: 0, foreign: 0 };
  let other = null; // another writer, with credentials of its own (a test may expire the suite's token)
  const control = async (what, action) => {
    if (what === 'credentials') {
      stats.credentials += 1;
      return emu.issueCredentials();
    }
    if (what === 'object') {
      const obj = await emu.object(action.key);
      return obj && { size: obj.size, crc64: obj.crc64, type: obj.type, md5: obj.md5 };
    }
    if (what === 'requests') {
      return (await emu.requestsFor(action.key)).map(({ method, op, position, status, code, fault }) =>
        ({ method, op, position, status, code, fault }));
    }
    if (what !== 'arm') throw new Error(`unknown control ${what}`);
    const { key, ...spec } = action;
    switch (spec.kind) {
      case 'sts_expire':
        stats.expired += 1;
        return emu.expireToken();
      case 'clock':
        stats.clock += 1;
        return emu.setClockOffset(spec.offset_ms);
      case 'foreign': {
        const at = (await emu.object(key))?.size ?? 0;
        const bytes = new Pattern(spec.seed).read(0, spec.length);
        other ??= new OSS(emu.clientOptions({ retryMax: 0, ...(await emu.issueCredentials()) }));
        await withoutHook(() => other.append(key, bytes, { position: at }));
        stats.foreign += 1;
        return null;
      }
      default:
        stats.armed += 1;
        return emu.armFault({ op: 'any', count: 1, ...spec, key });
    }
  };
  return { control, stats };
}

/**
 * Runs `fn` with the global fetch the runner wrapped put back for its duration, so that another writer's requests
 * for the same key are neither counted nor faulted.
 */
async function withoutHook(fn) {
  const wrapped = globalThis.fetch;
  const original = wrapped.original;
  if (!original) return fn();
  globalThis.fetch = original;
  try {
    return await fn();
  } finally {
    globalThis.fetch = wrapped;
  }
}

/**
 * Opens pages/streams.html (the package's browser entry and the shared runner) with `control` exposed to the page
 * as window.e2eControl. Resolves { page, problems }.
 */
export async function openStreamsPage(browser, origin, control, { ignore = [] } = {}) {
  const context = await browser.newContext();
  await context.exposeFunction('e2eControl', control);
  // openTestPage wants something with newPage(): the context, so that the exposed function is there from the start
  const { page, problems } = await openTestPage({ newPage: () => context.newPage() }, `${origin}/streams.html`,
    { ignore });
  return { page, problems, context };
}

/** Runs the shared runner inside `page` with `cfg`; resolves what it returns. */
export function runInPage(page, cfg) {
  return page.evaluate((c) => window.streams.runUpload(window.ossAppend.default, c, window.e2eControl), cfg);
}
