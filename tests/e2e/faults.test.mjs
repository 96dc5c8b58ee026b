// Fault injection through the emulator's control plane: a response lost after the commit, a 5xx before it, a reset in
// the middle of the body, a response delayed past the timeout. Appends are not idempotent, so each recovery must end
// with the object byte-identical to the input: nothing lost, nothing duplicated, the CRC-64 verified. Then timeouts
// and aborts that cannot recover, and retryMax.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, refCrc64, rejects, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 40_000 };

let OSS;
let emu;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
});
after(async () => { await emu?.stop(); });

const FAULTS = [
  { label: 'drop_after_commit (the append applied, its response lost)', spec: { kind: 'drop_after_commit' } },
  { label: 'error_before_commit 503', spec: { kind: 'error_before_commit', status: 503 } },
  { label: 'error_before_commit 500', spec: { kind: 'error_before_commit' } },
  { label: 'reset_mid_body', spec: { kind: 'reset_mid_body' } },
  { label: 'delay 3 s with a 1 s timeout (applied, answered too late)', spec: { kind: 'delay', delay_ms: 3000 },
    client: { timeout: 1000 } },
];

describe('recovery keeps every byte exactly once', () => {
  for (const { label, spec, client: clientExtra = {} } of FAULTS) {
    for (const where of ['first append (position 0)', 'second append']) {
      test(`${label}: ${where}`, T, async () => {
        const client = new OSS(emu.clientOptions(clientExtra));
        const key = uniqueKey(`fault-${spec.kind}`);
        const part1 = payload(50_000, `${label}-1`);
        const part2 = payload(30_001, `${label}-2`);
        const whole = Buffer.concat([part1, part2]);
        if (where.startsWith('first')) await emu.armFault({ ...spec, op: 'append', key });
        const r1 = await client.append(key, part1);
        assert.equal(r1.nextAppendPosition, String(part1.length));
        assert.equal(r1.crc64, refCrc64(part1));
        if (where.startsWith('second')) await emu.armFault({ ...spec, op: 'append', key });
        const r2 = await client.append(key, part2, { position: r1.nextAppendPosition });
        assert.equal(r2.nextAppendPosition, String(whole.length));
        assert.equal(r2.crc64, refCrc64(whole));
        assert.deepEqual(await emu.faults(), [], 'the fault was hit');
        const log = await emu.requestsFor(key);
        if (spec.kind === 'delay') {
          // the delayed request is logged only if its late answer goes out; the client gave up on it before and
          // must have asked the server what happened (a HEAD) instead of sending the bytes again
          assert.ok(log.some((e) => e.op === 'head'), `a reconciling HEAD: ${JSON.stringify(log)}`);
        } else {
          assert.ok(log.some((e) => e.fault === spec.kind), `the log shows the fault: ${JSON.stringify(log)}`);
        }
        await assertStored(emu, key, whole);
      });
    }
  }

  test('a fault in the middle of a multi-part append (partSize 16 KiB)', T, async () => {
    const client = new OSS(emu.clientOptions());
    const key = uniqueKey('fault-multipart');
    const data = payload(100_000, 'fault-multipart');
    await emu.armFault({ kind: 'drop_after_commit', op: 'append', key, count: 2 });
    await emu.armFault({ kind: 'reset_mid_body', op: 'append', key });
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key });
    const seen = [];
    const r = await client.append(key, new Blob([data]), { partSize: 16 << 10, progress: (p) => seen.push(p) });
    assert.equal(r.nextAppendPosition, String(data.length));
    assert.equal(r.crc64, refCrc64(data));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], 'progress never goes backwards');
    await assertStored(emu, key, data);
  });
});

describe('failures that cannot recover', () => {
  test('every request delayed past the timeout: ConnectionTimeoutError, status -2, within bounded time', T,
    async () => {
      const client = new OSS(emu.clientOptions({ timeout: 500, retryMax: 0 }));
      const key = uniqueKey('timeout');
      await emu.armFault({ kind: 'delay', delay_ms: 5000, op: 'any', key, count: 20 });
      const started = Date.now();
      await rejects(client.append(key, Buffer.from('slow')), { name: 'ConnectionTimeoutError', status: -2 });
      assert.ok(Date.now() - started < 4500, `gave up after ${Date.now() - started} ms`);
      await emu.clearFaults();
    });

  test('a per-call timeout overrides the client\'s', T, async () => {
    const client = new OSS(emu.clientOptions({ timeout: 30_000, retryMax: 0 }));
    const key = uniqueKey('call-timeout');
    await emu.armFault({ kind: 'delay', delay_ms: 5000, op: 'any', key, count: 20 });
    const started = Date.now();
    await rejects(client.append(key, Buffer.from('slow'), { timeout: 500 }), { status: -2 });
    assert.ok(Date.now() - started < 4500);
    await emu.clearFaults();
  });

  test('503 on every attempt: the error after retryMax retries (retryMax counts retries after the first)', T,
    async () => {
      const client = new OSS(emu.clientOptions({ retryMax: 2 }));
      const key = uniqueKey('retry-max');
      await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 10 });
      await rejects(client.append(key, Buffer.from('data')), { status: 503 });
      const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
      assert.equal(appends.length, 3, 'the first attempt and 2 retries');
      await emu.clearFaults();
    });

  test('an AbortSignal already aborted rejects with AbortError / Aborted, nothing sent', T, async () => {
    const client = new OSS(emu.clientOptions());
    const key = uniqueKey('pre-aborted');
    const before = (await emu.requestLog()).length;
    await rejects(client.append(key, Buffer.from('x'), { signal: AbortSignal.abort() }),
      { name: 'AbortError', code: 'Aborted' });
    assert.equal((await emu.requestLog()).length, before);
  });

  test('aborting in flight rejects promptly with AbortError / Aborted', T, async () => {
    const client = new OSS(emu.clientOptions());
    const key = uniqueKey('abort');
    await emu.armFault({ kind: 'delay', delay_ms: 4000, op: 'append', key });
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.append(key, payload(10_000, 'abort'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await rejects(pending, { name: 'AbortError', code: 'Aborted' });
    assert.ok(Date.now() - started < 3000, `rejected after ${Date.now() - started} ms`);
  });

  test('aborting between parts stops the upload; the object keeps whole parts only', T, async () => {
    const client = new OSS(emu.clientOptions());
    const key = uniqueKey('abort-parts');
    const PART = 8 << 10;
    const data = payload(20 * PART, 'abort-parts');
    const controller = new AbortController();
    await rejects(client.append(key, data, {
      partSize: PART,
      signal: controller.signal,
      progress: (p, info) => { if (Number(info.loaded) >= 3 * PART) controller.abort(); },
    }), { name: 'AbortError', code: 'Aborted' });
    const head = await new OSS(emu.clientOptions()).head(key);
    const length = Number(head.nextAppendPosition);
    assert.ok(length >= 3 * PART && length < data.length, `stopped early at ${length}`);
    assert.equal(length % PART, 0, 'only whole parts');
    await assertStored(emu, key, data.subarray(0, length));
  });
});
