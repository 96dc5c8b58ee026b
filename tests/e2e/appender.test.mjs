// client.openAppender, for live sources: ordered, coalesced writes that each reach the object exactly once, the
// WritableStream form, resuming an existing object, faults in the middle of a recording, and abort.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, refCrc64, rejects, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 40_000 };

let OSS;
let emu;
let client;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
  client = new OSS(emu.clientOptions());
});
after(async () => { await emu?.stop(); });

/** `count` chunks of irregular sizes, as a MediaRecorder hands them out. */
function recording(count, seed) {
  return Array.from({ length: count }, (_, i) => payload(1 + ((i * 7919) % 9000), `${seed}-${i}`));
}

const appendsOf = async (key) => (await emu.requestsFor(key)).filter((e) => e.op === 'append');

describe('openAppender', () => {
  test('writes of every byte form, not awaited one by one, land in order; close gives length and CRC', T,
    async () => {
      const key = uniqueKey('appender', 'live.webm');
      const chunks = recording(60, 'live');
      const whole = Buffer.concat(chunks);
      const w = await client.openAppender(key, { minPartSize: 32 << 10 });
      const forms = [(b) => b, (b) => new Blob([b]), (b) => new Uint8Array(b),
        (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length)];
      const writes = chunks.map((c, i) => w.write(forms[i % forms.length](c)));
      const done = await w.close();
      await Promise.all(writes);
      assert.deepEqual(done, { name: key, nextAppendPosition: String(whole.length), crc64: refCrc64(whole) });
      assert.equal(w.position, String(whole.length));
      assert.equal(w.crc64, refCrc64(whole));
      assert.equal(Number(w.pending), 0);
      const stored = await assertStored(emu, key, whole);
      assert.equal(stored.content_type, 'video/webm');
      const appends = await appendsOf(key);
      assert.ok(appends.length < chunks.length / 4, `${chunks.length} writes coalesced into ${appends.length} appends`);
      assert.ok(appends.every((e) => e.status === 200));
      await rejects(w.write(new Uint8Array(1)), {});
    });

  test('readable.pipeTo(appender.writable)', T, async () => {
    const key = uniqueKey('appender-pipe');
    const chunks = recording(40, 'pipe');
    const whole = Buffer.concat(chunks);
    const source = chunks.slice();
    const readable = new ReadableStream({
      pull(c) {
        const next = source.shift();
        if (next) c.enqueue(new Uint8Array(next));
        else c.close();
      },
    });
    const w = await client.openAppender(key, { minPartSize: 16 << 10 });
    await readable.pipeTo(w.writable);
    assert.equal(w.position, String(whole.length));
    assert.equal(w.crc64, refCrc64(whole));
    await assertStored(emu, key, whole);
  });

  test("position: 'resume' continues an object after one HEAD, with the CRC still verified", T, async () => {
    const key = uniqueKey('appender-resume');
    const first = payload(10_000, 'resume-1');
    await client.append(key, first);
    const more = recording(10, 'resume-2');
    const w = await client.openAppender(key, { position: 'resume' });
    assert.equal(w.position, String(first.length));
    assert.equal(w.crc64, refCrc64(first));
    const writes = more.map((c) => w.write(c)); // a write resolves once durable: the producer does not wait
    const whole = Buffer.concat([first, ...more]);
    assert.deepEqual(await w.close(), { name: key, nextAppendPosition: String(whole.length), crc64: refCrc64(whole) });
    await Promise.all(writes);
    await assertStored(emu, key, whole);

    const fresh = uniqueKey('appender-resume-new');
    const w2 = await client.openAppender(fresh, { position: 'resume' });
    assert.equal(w2.position, '0');
    await w2.write(Buffer.from('new'));
    await w2.close();
    await assertStored(emu, fresh, Buffer.from('new'));
  });

  test('faults in the middle of a recording: every byte exactly once', T, async () => {
    const key = uniqueKey('appender-faults');
    const chunks = recording(50, 'faults');
    const whole = Buffer.concat(chunks);
    await emu.armFault([
      { kind: 'drop_after_commit', op: 'append', key },
      { kind: 'error_before_commit', status: 503, op: 'append', key },
      { kind: 'reset_mid_body', op: 'append', key },
    ]);
    const w = await client.openAppender(key, { minPartSize: 8 << 10, partSize: 16 << 10 });
    const writes = chunks.map((c) => w.write(c));
    assert.deepEqual(await w.close(), { name: key, nextAppendPosition: String(whole.length), crc64: refCrc64(whole) });
    await Promise.all(writes);
    assert.deepEqual(await emu.faults(), []);
    await assertStored(emu, key, whole);
  });

  test('flush sends what is buffered; abort stops, later writes reject, what was flushed stays', T, async () => {
    const key = uniqueKey('appender-abort');
    const w = await client.openAppender(key, { minPartSize: 1 << 20, flushInterval: 60_000 });
    const a = payload(5000, 'abort-a');
    const wrote = w.write(a);
    await w.flush();
    await wrote;
    assert.equal(w.position, '5000');
    await assertStored(emu, key, a);
    const pending = w.write(payload(100, 'abort-b'));
    await w.abort();
    await rejects(pending, { name: 'AbortError' });
    await rejects(w.write(new Uint8Array(1)), {});
    await assertStored(emu, key, a);
  });

  test('bad input: a write that is not bytes, a bad position', T, async () => {
    const w = await client.openAppender(uniqueKey('appender-bad'));
    await rejects(w.write(42), { code: 'InvalidArgument' });
    await w.abort();
    await rejects(client.openAppender(uniqueKey('appender-bad'), { position: -1 }), { code: 'InvalidArgument' });
  });
});
