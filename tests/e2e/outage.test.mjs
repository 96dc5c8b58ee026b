// Live recordings ride out outages, in Node against the emulator: the emulator stopped and started again on the same
// port and data dir in the middle of a recording, another writer during an outage, maxBuffered, abort during a retry
// wait, giveUpAfter, bad options, and a one-shot append() that fails after some parts landed. The randomized outages
// are in outage-random.test.mjs; the same recording in headless Chromium is in browser-outage.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertDigest, patternDigest } from './helpers/streaming.mjs';
import { assertStored, payload, refCrc64, rejects, sleep, uniqueKey } from './helpers/util.mjs';
import { record } from './pages/outage.js';

const T = { timeout: 120_000 };

let OSS;
let emu;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
});
after(async () => { await emu?.stop(); });

/** Resolves once `predicate()` holds, polling every 20 ms; fails after `ms`. */
async function until(predicate, ms, what) {
  const t0 = Date.now();
  while (!predicate()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** An outage: the emulator stopped after `atMs`, started again `forMs` later on the same port and data dir. */
async function outage(atMs, forMs) {
  await sleep(atMs);
  await emu.halt();
  const down = Date.now();
  await sleep(forMs);
  await emu.restart();
  return { down, up: Date.now() };
}

describe('outages', () => {
  test('a recording with a write every 100 ms goes on while the emulator is down for 20 s', T, async () => {
    const key = uniqueKey('outage-restart', 'rec.webm');
    const seed = 11;
    const [out, window] = await Promise.all([
      record(OSS, { options: emu.clientOptions(), key, seed, durationMs: 25_000, appender: { maxRetryDelay: 3000 } }),
      outage(2000, 20_000),
    ]);
    assert.deepEqual(out.rejected, [], 'no write rejected');
    const want = patternDigest(seed, out.size);
    assert.deepEqual(out.closed, { name: key, nextAppendPosition: String(out.size), crc64: want.crc64 });
    await assertDigest(emu, key, want, 'byte-identical to everything written');
    // 'closing' shows only when something was still to send at close()
    const states = out.states.map((s) => s.s).filter((s) => s !== 'closing');
    assert.deepEqual(states, ['retrying', 'open', 'closed'], JSON.stringify(out.states));
    assert.ok(out.retries.length >= 3, `retried during the outage: ${JSON.stringify(out.retries)}`);
    assert.ok(out.retries.every((r) => r.delayMs <= 3000), 'no wait passes maxRetryDelay');
    assert.ok(out.retries[0].delayMs < 1000, 'the first wait is under 1 s');
    assert.ok(out.retries.every((r) => r.code === 'RequestError'), JSON.stringify(out.retries));
    assert.ok(out.maxBuffered > 20 * 10 * 16 * 1024 * 0.8, `the outage was buffered: ${out.maxBuffered}`);
    const back = out.states.find((s) => s.s === 'open');
    assert.ok(back.t >= window.up && back.t - window.up < 3000 + 1500,
      `open again ${back.t - window.up} ms after the emulator was back`);
    assert.equal(out.state, 'closed');
    assert.equal(out.buffered, 0);
  });

  test('another writer during an outage: the error\'s unsent holds exactly the unconfirmed bytes, theirs survive',
    T, async () => {
      const key = uniqueKey('outage-other-writer');
      const client = new OSS(emu.clientOptions());
      const retries = [];
      const w = await client.openAppender(key, { minPartSize: 0, maxRetryDelay: 600_000,
        onRetry: (r) => retries.push(r) });
      const first = payload(5000, 'first');
      await w.write(first);
      await emu.halt();
      const pending = [payload(3000, 'b'), payload(4000, 'c'), payload(100, 'd')].map((b) => w.write(b));
      pending.forEach((p) => p.catch(() => {}));
      w.flush().catch(() => {});
      // a long wait, so that the other writer goes first when the emulator is back
      await until(() => retries.at(-1)?.delayMs >= 3000, 60_000, 'a retry wait of at least 3 s');
      await emu.restart();
      const theirs = payload(1234, 'theirs');
      const other = new OSS(emu.clientOptions());
      await other.append(key, theirs, { position: 5000 });
      const closing = w.close();
      assert.equal(w.retryNow(), true, 'a part was waiting');
      const err = await rejects(closing, { code: 'PositionNotEqualToLength', nextAppendPosition: '6234' });
      for (const p of pending) assert.equal(await p.catch((e) => e), err, 'every pending write rejects with it');
      assert.ok(err.unsent instanceof Blob, 'unsent is a Blob');
      const unsent = Buffer.from(await err.unsent.arrayBuffer());
      assert.deepEqual(unsent, Buffer.concat([payload(3000, 'b'), payload(4000, 'c'), payload(100, 'd')]));
      assert.equal(w.state, 'failed');
      assert.equal(w.position, '5000', 'position stays at what was confirmed');
      assert.equal(w.crc64, refCrc64(first));
      await assertStored(emu, key, Buffer.concat([first, theirs]), 'theirs kept, nothing of ours after them');
      const later = await rejects(w.write(new Uint8Array(1)), { code: 'PositionNotEqualToLength' });
      assert.equal(later, err);
    });

  test('maxBuffered during an outage: writes past it reject with BufferFull, the ones before land in order', T,
    async () => {
      const key = uniqueKey('outage-max-buffered');
      const client = new OSS(emu.clientOptions());
      const w = await client.openAppender(key, { minPartSize: 0, maxBuffered: 64 * 1024, maxRetryDelay: 500 });
      await emu.halt();
      const chunks = Array.from({ length: 8 }, (_, i) => payload(10 * 1024, `mb-${i}`));
      const results = chunks.map((c) => w.write(c).then(() => 'ok', (e) => e));
      const settled = await Promise.race([Promise.all(results.slice(6)), sleep(1000).then(() => null)]);
      assert.ok(settled, 'the writes past maxBuffered reject at once');
      for (const e of settled) {
        assert.equal(e.code, 'BufferFull');
        assert.equal(e.name, 'BufferFullError');
        assert.match(e.message, /maxBuffered/);
      }
      assert.equal(w.buffered, 60 * 1024);
      assert.notEqual(w.state, 'failed', 'the appender goes on');
      await emu.restart();
      const more = payload(4 * 1024, 'mb-more');
      const wrote = w.write(more);
      await w.close();
      assert.deepEqual(await Promise.all([...results.slice(0, 6), wrote.then(() => 'ok')]), Array(7).fill('ok'));
      await assertStored(emu, key, Buffer.concat([...chunks.slice(0, 6), more]));
    });

  test('close() during an outage waits until the data lands; retryNow() tries at once', T, async () => {
    const key = uniqueKey('outage-close');
    const client = new OSS(emu.clientOptions());
    const w = await client.openAppender(key, { minPartSize: 0, maxRetryDelay: 600_000 });
    const a = payload(3000, 'close-a');
    await w.write(a);
    await emu.halt();
    let closed = null;
    const b = payload(2000, 'close-b');
    const wrote = w.write(b);
    w.close().then((r) => { closed = r; }, (e) => { closed = e; });
    await sleep(1500);
    assert.equal(closed, null, 'close() waits');
    assert.equal(w.state, 'retrying');
    assert.equal(w.buffered, 2000);
    await emu.restart();
    w.retryNow();
    await until(() => closed !== null, 5000, 'close() resolves once the data lands');
    await wrote;
    assert.deepEqual(closed, { name: key, nextAppendPosition: '5000', crc64: refCrc64(Buffer.concat([a, b])) });
    assert.equal(w.state, 'closed');
    await assertStored(emu, key, Buffer.concat([a, b]));
  });

  test('abort() during a retry wait settles every pending promise within 100 ms', T, async () => {
    const key = uniqueKey('outage-abort');
    const client = new OSS(emu.clientOptions());
    const retries = [];
    const w = await client.openAppender(key, { minPartSize: 0, onRetry: (r) => retries.push(r) });
    await w.write(payload(1000, 'abort-a'));
    await emu.halt();
    try {
      const pending = [w.write(payload(100, 'abort-b')), w.flush(), w.write(payload(100, 'abort-c')), w.close()];
      await until(() => retries.some((r) => r.delayMs >= 500), 30_000, 'a retry wait of at least 500 ms');
      const t0 = Date.now();
      await w.abort('the user stopped');
      const settled = await Promise.all(pending.map((p) => p.then(() => 'resolved', (e) => [e.name, Date.now() - t0])));
      for (const s of settled) {
        assert.equal(s[0], 'AbortError', JSON.stringify(settled));
        assert.ok(s[1] < 100, `settled ${s[1]} ms after abort()`);
      }
      assert.equal(w.state, 'aborted');
      assert.equal(w.retryNow(), false);
    } finally {
      await emu.restart();
    }
    await assertStored(emu, key, payload(1000, 'abort-a'));
  });

  test('giveUpAfter: no confirmed part for that long fails it with GaveUp, unsent exact, position confirmed', T,
    async () => {
      const key = uniqueKey('outage-give-up');
      const client = new OSS(emu.clientOptions());
      const states = [];
      const w = await client.openAppender(key, { minPartSize: 0, giveUpAfter: 1500, onStateChange: (s) => states.push(s) });
      await w.write(payload(777, 'gu-a'));
      await emu.halt();
      try {
        const t0 = Date.now();
        const err = await rejects(w.write(payload(500, 'gu-b')), { code: 'GaveUp', name: 'GaveUpError' });
        const ms = Date.now() - t0;
        assert.ok(ms >= 1400 && ms < 4000, `gave up after ${ms} ms`);
        assert.equal(err.cause?.code, 'RequestError', 'the last failure is its cause');
        assert.deepEqual(Buffer.from(await err.unsent.arrayBuffer()), payload(500, 'gu-b'));
        assert.equal(w.position, '777');
        assert.deepEqual(states, ['retrying', 'failed']);
      } finally {
        await emu.restart();
      }
    });

  test('bad options: InvalidArgument naming the option, before anything is sent', T, async () => {
    const key = uniqueKey('outage-bad-options');
    const client = new OSS(emu.clientOptions());
    const cases = {
      'maxBuffered: 0': [{ maxBuffered: 0 }, /maxBuffered/],
      'maxBuffered: -1': [{ maxBuffered: -1 }, /maxBuffered/],
      'maxBuffered: 1.5': [{ maxBuffered: 1.5 }, /maxBuffered/],
      "maxBuffered: 'lots'": [{ maxBuffered: 'lots' }, /maxBuffered/],
      'maxRetryDelay: 0': [{ maxRetryDelay: 0 }, /maxRetryDelay/],
      'maxRetryDelay: Infinity': [{ maxRetryDelay: Infinity }, /maxRetryDelay/],
      'giveUpAfter: 0': [{ giveUpAfter: 0 }, /giveUpAfter.*Infinity/],
      'giveUpAfter: NaN': [{ giveUpAfter: NaN }, /giveUpAfter/],
      "onRetry: 'log'": [{ onRetry: 'log' }, /onRetry.*function/],
      'onStateChange: 5': [{ onStateChange: 5 }, /onStateChange.*function/],
    };
    for (const [what, [o, re]] of Object.entries(cases)) {
      const e = await rejects(client.openAppender(key, { position: 5, ...o }), { code: 'InvalidArgument' });
      assert.match(e.message, re, what);
    }
    assert.deepEqual(await emu.requestsFor(key), [], 'nothing was sent');
    const w = await client.openAppender(key, { giveUpAfter: Infinity, maxBuffered: 1, maxRetryDelay: 1 });
    assert.equal(w.state, 'open');
    await w.abort();
  });

  test('a 64 MiB append() that fails mid-way says how far it got: position and CRC equal the HEAD', T, async () => {
    const key = uniqueKey('outage-one-shot');
    const client = new OSS(emu.clientOptions({ retryMax: 1 }));
    const data = payload(64 << 20, 'one-shot');
    // the fourth 8 MiB part is refused more often than retryMax allows
    const log = [];
    const original = globalThis.fetch;
    let appends = 0;
    globalThis.fetch = async (input, init) => {
      const url = String(typeof input === 'string' ? input : input.url);
      if (url.includes('append') && ++appends === 4) {
        await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 3 });
      }
      log.push(url);
      return original(input, init);
    };
    let err;
    try {
      err = await rejects(client.append(key, data, { partSize: 8 << 20 }), { code: 'ServiceUnavailable' });
    } finally {
      globalThis.fetch = original;
    }
    const head = await client.head(key);
    assert.equal(err.nextAppendPosition, head.nextAppendPosition);
    assert.equal(err.crc64, head.crc64);
    assert.equal(err.nextAppendPosition, String(3 * (8 << 20)));
    assert.equal(err.crc64, refCrc64(data.subarray(0, 3 * (8 << 20))));
    await emu.clearFaults();
    const rest = await client.append(key, data.subarray(3 * (8 << 20)),
      { position: err.nextAppendPosition, initCrc64: err.crc64 });
    assert.equal(rest.crc64, refCrc64(data));
  });
});
