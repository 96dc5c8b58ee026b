// The streaming and fault-tolerance cases, shared by streaming.test.mjs (Node) and browser-streaming.test.mjs
// (headless Chromium): each names a scenario of pages/scenarios.js or a runUpload plan of pages/streams.js, and checks
// what it resolved against what the emulator stored.
import assert from 'node:assert/strict';

import { digestOf, patternDigest } from './streaming.mjs';
import { Pattern } from '../pages/streams.js';

const KIB = 1024;
export const RECOVERY_SIZE = 1536 * KIB;
const TIMEOUT_MS = 1000;

/** The faults each recovery case puts on the third append of a stream (a token expiry and a clock jump included). */
export const FAULT_KINDS = {
  'a response lost after the server applied the append': { action: { kind: 'drop_after_commit' }, log: 'drop_after_commit' },
  'a 503 before applying': { action: { kind: 'error_before_commit', status: 503 }, log: 'error_before_commit' },
  'a connection reset mid-body': { action: { kind: 'reset_mid_body', after_bytes: 100_000 }, log: 'reset_mid_body' },
  'a response slower than the timeout': { action: { kind: 'delay', delay_ms: TIMEOUT_MS + 600 }, log: null },
  'an STS token that expires mid-stream (refreshSTSToken)': { action: { kind: 'sts_expire' }, code: 'SecurityTokenExpired' },
  // A header-signed append (Node) is refused as RequestTimeTooSkewed; a query-signed one (browsers) as an expired URL.
  'a server clock 20 minutes ahead, from mid-stream': { action: { kind: 'clock', offset_ms: 20 * 60_000 },
    code: ['RequestTimeTooSkewed', 'AccessDenied'] },
};

const MODES = {
  write: 'openAppender writes',
  stream: 'append(ReadableStream)',
};

/** Asserts a runUpload outcome: success, the whole pattern stored, progress monotonic with the expected total. */
async function assertUploaded(ctx, out, { size, seed, total = 'null' }) {
  assert.equal(out.ok, true, `${JSON.stringify(out.error)}\ninjected: ${JSON.stringify(out.injected)}\n` +
    `log: ${JSON.stringify(await ctx.log())}`);
  const want = patternDigest(seed, size);
  assert.equal(out.result.nextAppendPosition, String(size));
  assert.equal(out.result.crc64, want.crc64, 'the CRC-64 the client reports');
  await ctx.assertDigest(want);
  assert.deepEqual(out.progress.problems, [], 'progress never goes backwards');
  assert.deepEqual(out.progress.totals, [total]);
  assert.ok(out.progress.inRange, 'p in [0, 1]');
  assert.equal(out.progress.last.loaded, size);
  assert.equal(out.progress.last.position, String(size));
}

/** Formats the emulator log compactly, for messages. */
export function compactLog(log) {
  return log.map((e) => `${e.method} ${e.position ?? ''} ${e.status}${e.code ? ` ${e.code}` : ''}` +
    `${e.fault ? ` [${e.fault}]` : ''}`);
}

const cases = [];

// ---- recovery from every fault, in the middle of a stream -----------------------------------------------------------
for (const [label, fault] of Object.entries(FAULT_KINDS)) {
  for (const [mode, modeLabel] of Object.entries(MODES)) {
    cases.push({
      group: 'recovery',
      name: `${modeLabel}: ${label}: every byte exactly once, CRC verified`,
      // Node's existing suites cover the appender with the first three faults (appender.test.mjs)
      node: !(mode === 'write' && ['drop_after_commit', 'error_before_commit', 'reset_mid_body'].includes(fault.action.kind)),
      scenario: 'runUpload',
      cfg: (ctx) => ({
        options: ctx.options,
        key: ctx.key,
        seed: ctx.seed,
        size: RECOVERY_SIZE,
        mode,
        partSize: 256 * KIB,
        minPartSize: 128 * KIB,
        flushInterval: 50,
        writeMax: 96 * KIB,
        refresh: true,
        timeout: TIMEOUT_MS,
        faults: { type: 'schedule', items: [{ method: 'POST', nth: 2, action: fault.action }] },
      }),
      async check(out, ctx) {
        await assertUploaded(ctx, out, { size: RECOVERY_SIZE, seed: ctx.seed });
        assert.equal(out.injected.length, 1, 'the fault was put on the third append');
        const log = await ctx.log();
        if (fault.log) {
          assert.ok(log.some((e) => e.fault === fault.log), `the log shows the fault: ${compactLog(log)}`);
          assert.deepEqual((await ctx.emu.faults()).filter((f) => f.key === ctx.key), [], 'the fault was hit');
        }
        if (fault.code) {
          assert.ok(log.some((e) => [fault.code].flat().includes(e.code)),
            `refused once with ${fault.code}: ${compactLog(log)}`);
        }
        if (fault.action.kind === 'sts_expire') assert.ok(ctx.stats.credentials >= 1, 'refreshSTSToken was called');
        if (fault.action.kind === 'delay' || fault.action.kind === 'drop_after_commit') {
          assert.ok(log.some((e) => e.method === 'HEAD'), `a reconciling HEAD: ${compactLog(log)}`);
        }
      },
    });
  }
}

// The reconciling HEAD itself refused: a HEAD error has no body (OSS puts it in x-oss-err), and a browser reads only
// the headers the CORS rule exposes, so the client must still tell an expired token or a skewed clock.
for (const [label, action, code] of [
  ['the STS token expires before the reconciling HEAD', { kind: 'sts_expire' }, 'SecurityTokenExpired'],
  ['the server clock jumps 20 minutes before the reconciling HEAD', { kind: 'clock', offset_ms: -20 * 60_000 },
    'RequestTimeTooSkewed'],
]) {
  for (const [mode, modeLabel] of Object.entries(MODES)) {
    cases.push({
      group: 'recovery',
      name: `${modeLabel}: a 503, then ${label}: every byte exactly once`,
      scenario: 'runUpload',
      cfg: (ctx) => ({
        options: ctx.options, key: ctx.key, seed: ctx.seed, size: RECOVERY_SIZE, mode, partSize: 256 * KIB,
        minPartSize: 128 * KIB, flushInterval: 50, writeMax: 96 * KIB, refresh: true, timeout: TIMEOUT_MS,
        faults: {
          type: 'schedule',
          items: [
            { method: 'POST', nth: 2, action: { kind: 'error_before_commit', status: 503 } },
            { method: 'HEAD', nth: 0, action },
          ],
        },
      }),
      async check(out, ctx) {
        await assertUploaded(ctx, out, { size: RECOVERY_SIZE, seed: ctx.seed });
        const log = await ctx.log();
        assert.ok(log.some((e) => e.method === 'HEAD' && e.code === code), `the HEAD met ${code}: ${compactLog(log)}`);
      },
    });
  }
}

// ---- progress --------------------------------------------------------------------------------------------------------
cases.push({
  group: 'progress',
  name: 'progress over retries: a Blob reports total = its size, loaded and position never go back, p ends at 1',
  scenario: 'runUpload',
  cfg: (ctx) => ({
    options: ctx.options, key: ctx.key, seed: ctx.seed, size: 1000 * KIB, mode: 'blob', partSize: 128 * KIB,
    writeMax: 200 * KIB, timeout: TIMEOUT_MS, progressEvery: true,
    faults: {
      type: 'schedule',
      items: [
        { method: 'POST', nth: 1, action: { kind: 'drop_after_commit' } },
        { method: 'POST', nth: 3, action: { kind: 'error_before_commit', status: 503 } },
        { method: 'POST', nth: 5, action: { kind: 'reset_mid_body' } },
      ],
    },
  }),
  async check(out, ctx) {
    await assertUploaded(ctx, out, { size: 1000 * KIB, seed: ctx.seed, total: 'number' });
    assert.ok(out.progressCalls.every(([, i]) => i.total === 1000 * KIB), 'total is the Blob size');
    assert.equal(out.progress.last.p, 1);
    const loaded = out.progressCalls.map(([, i]) => i.loaded);
    assert.deepEqual(loaded, [...loaded].sort((a, b) => a - b));
    for (const [p, i] of out.progressCalls) assert.equal(p, i.loaded / i.total, 'p = loaded / total');
  },
});
cases.push({
  group: 'progress',
  name: 'progress of a stream and of an appender: total is null, position follows the object',
  scenario: 'runUpload',
  cfg: (ctx) => ({
    options: ctx.options, key: ctx.key, seed: ctx.seed, size: 600 * KIB, mode: 'writable', partSize: 128 * KIB,
    minPartSize: 64 * KIB, writeMax: 50 * KIB, timeout: TIMEOUT_MS, progressEvery: true,
    faults: { type: 'schedule', items: [{ method: 'POST', nth: 1, action: { kind: 'drop_after_commit' } }] },
  }),
  async check(out, ctx) {
    await assertUploaded(ctx, out, { size: 600 * KIB, seed: ctx.seed });
    assert.ok(out.progressCalls.every(([, i]) => i.total === null));
    assert.ok(out.progressCalls.every(([, i]) => i.position === String(i.loaded)), 'position = loaded from 0');
  },
});

// ---- openAppender: coalescing, part sizes, attributes, backpressure, close ----------------------------------------
cases.push({
  group: 'appender',
  name: 'small writes are coalesced up to minPartSize, no append passes partSize, a write resolves once durable',
  scenario: 'coalescing',
  async check(out, ctx) {
    const want = patternDigest(ctx.seed, out.size);
    assert.deepEqual(out.closed, { name: ctx.key, nextAppendPosition: String(out.size), crc64: want.crc64 });
    assert.equal(out.position, String(out.size));
    assert.equal(out.crc64, want.crc64);
    assert.equal(out.pending, 0);
    for (const d of out.durable) {
      assert.ok(d.stored >= d.end && Number(d.position) >= d.end, `durable when resolved: ${JSON.stringify(d)}`);
    }
    await ctx.assertDigest(want);
    const appends = (await ctx.log()).filter((e) => e.method === 'POST');
    const sizes = appends.map((e, i) => (i + 1 < appends.length ? Number(appends[i + 1].position) : out.size)
      - Number(e.position));
    assert.ok(sizes.every((n) => n <= 100 * KIB), `no append over partSize: ${sizes}`);
    // flushes (after every 100 writes) and the close may send less; all others gather at least minPartSize
    const small = sizes.filter((n) => n < 40 * KIB);
    assert.ok(small.length <= out.durable.length + 1, `appends below minPartSize only at flushes: ${sizes}`);
    assert.ok(appends.length < 300 / 5, `${appends.length} appends for 301 writes`);
  },
});
cases.push({
  group: 'appender',
  name: 'flushInterval sends a lone small write without flush() or close()',
  scenario: 'flushInterval',
  async check(out, ctx) {
    assert.ok(out.elapsed >= 250 && out.elapsed < 5000, `resolved after ${out.elapsed} ms (flushInterval 300)`);
    assert.equal(out.stored, 4);
    assert.equal(out.position, '4');
    await ctx.assertDigest(digestOf([new TextEncoder().encode('tick')]));
  },
});
cases.push({
  group: 'appender',
  name: 'headers, meta and mime go with the creating append only; a resumed appender cannot change them',
  scenario: 'creationAttributes',
  async check(out, ctx) {
    assert.equal(out.first.nextAppendPosition, '2000');
    assert.equal(out.second.nextAppendPosition, '2500');
    const obj = await ctx.emu.object(ctx.key);
    assert.equal(obj.size, 2500);
    assert.equal(obj.content_type, 'audio/ogg');
    assert.deepEqual(obj.headers, {
      'cache-control': 'no-cache',
      'content-disposition': 'attachment; filename="take.ogg"',
      'x-oss-meta-take': '1',
      'x-oss-meta-who': 'e2e',
    }, 'the first appender\'s attributes, untouched by the second');
    const appends = (await ctx.log()).filter((e) => e.method === 'POST');
    assert.equal(appends.length, 3);
  },
});
cases.push({
  group: 'appender',
  name: 'appender.writable applies backpressure: a fast producer never runs far ahead of the server',
  scenario: 'backpressure',
  async check(out, ctx) {
    const want = patternDigest(ctx.seed, out.size);
    assert.equal(out.position, String(out.size));
    assert.equal(out.crc64, want.crc64);
    await ctx.assertDigest(want);
    // the part in flight, a full buffer and the chunk that filled it
    assert.ok(out.maxPending <= 2 * out.partSize + 2 * out.chunk,
      `at most ${out.maxPending} bytes waited (partSize ${out.partSize}, input ${out.size})`);
    await ctx.emu.clearFaults();
  },
});
cases.push({
  group: 'appender',
  name: 'after close: write and flush reject with a clear error, close again gives the same result',
  scenario: 'afterClose',
  async check(out, ctx) {
    assert.equal(out.closed.nextAppendPosition, '3000');
    for (const what of ['write', 'flush']) {
      assert.equal(out[what].code, 'InvalidArgument', `${what}: ${JSON.stringify(out[what])}`);
      assert.match(out[what].message, /closed/, what);
    }
    assert.deepEqual(out.closeAgain, { resolved: out.closed });
    assert.equal(out.position, '3000');
    await ctx.assertDigest(digestOf([new Uint8Array(3000).fill(9)]));
  },
});
cases.push({
  group: 'appender',
  name: 'after close: writing to appender.writable rejects too (no silent drop)',
  scenario: 'afterClose',
  async check(out, ctx) {
    assert.equal(out.writable.resolved, undefined, 'a write through the writable after close must not succeed');
    assert.match(out.writable.message, /closed/);
    await ctx.assertDigest(digestOf([new Uint8Array(3000).fill(9)]));
  },
});

cases.push({
  group: 'appender',
  name: 'the signal option: aborting while an append is out rejects it and later writes at once; a prefix stays',
  scenario: 'signalAbort',
  async check(out, ctx) {
    assert.equal(out.error.name, 'AbortError', JSON.stringify(out.error));
    assert.ok(out.ms < 2000, `rejected ${out.ms} ms after the abort (the answer was 5 s away)`);
    for (const what of ['later', 'close']) assert.equal(out[what].name, 'AbortError', `${what}: ${JSON.stringify(out[what])}`);
    assert.equal(out.position, String(100 * KIB), 'the appender counts only what was confirmed');
    // the part under way may have landed before the abort (the emulator applies, then delays the answer)
    assert.ok([100 * KIB, 110 * KIB].includes(out.stored), `stored ${out.stored}`);
    await ctx.assertDigest(patternDigest(ctx.seed, out.stored), 'a prefix of the input, nothing twice');
    await ctx.emu.clearFaults();
  },
});

// ---- resume ----------------------------------------------------------------------------------------------------------
cases.push({
  group: 'resume',
  name: "position: 'resume' sends one HEAD and continues with the CRC it read",
  scenario: 'resumeOneHead',
  async check(out, ctx) {
    assert.deepEqual(out.opened.map((e) => e.method), ['HEAD']);
    const first = new Uint8Array(4321).fill(4);
    assert.deepEqual(out.state, { position: '4321', crc64: digestOf([first]).crc64 });
    const want = digestOf([first, new Uint8Array(10).fill(6)]);
    assert.deepEqual(out.closed, { name: ctx.key, nextAppendPosition: '4331', crc64: want.crc64 });
    await ctx.assertDigest(want);
  },
});
cases.push({
  group: 'resume',
  name: "position: 'resume' on a Normal object fails with ObjectNotAppendableError, the object untouched",
  scenario: 'resumeNormal',
  async check(out, ctx) {
    assert.equal(out.error.code, 'ObjectNotAppendable', JSON.stringify(out.error));
    assert.equal(out.error.name, 'ObjectNotAppendableError');
    assert.match(out.error.message, /appendable/i);
    assert.deepEqual(out.requests.map((e) => e.method), ['HEAD'], 'one HEAD, no append');
    const obj = await ctx.assertDigest(digestOf([new Uint8Array(777).fill(5)]));
    assert.equal(obj.type, 'Normal');
  },
});

// ---- another writer --------------------------------------------------------------------------------------------------
cases.push({
  group: 'another writer',
  name: 'another writer appends between two of our appends: a typed error with the server length and CRC',
  scenario: 'anotherWriterBetween',
  async check(out, ctx) {
    const ours = new Pattern(ctx.seed).read(0, 5000);
    const theirs = new Pattern(ctx.seed + 1).read(0, 1234);
    const want = digestOf([ours, theirs]);
    await ctx.assertDigest(want, 'theirs kept, ours not re-sent');
    assert.equal(out.error.code, 'PositionNotEqualToLength', JSON.stringify(out.error));
    assert.equal(out.error.nextAppendPosition, '6234');
    assert.equal(out.error.crc64, want.crc64, `the error carries the server's CRC-64: ${JSON.stringify(out.error)}`);
    assert.equal(out.later.code, 'PositionNotEqualToLength', 'later writes reject with the same error');
    assert.equal(out.close.code, 'PositionNotEqualToLength');
    assert.equal(out.position, '5000');
  },
});
for (const [mode, landed, foreign, label] of [
  ['write', true, 1234, 'our append landed, its answer was lost'],
  ['stream', true, 1234, 'our append landed, its answer was lost'],
  ['write', false, 'part', 'our append was refused (503) and theirs has exactly our length'],
  ['stream', false, 1234, 'our append was refused (503)'],
]) {
  cases.push({
    group: 'another writer',
    name: `${MODES[mode]}: ${label}, another writer appends before we look: typed error, nothing duplicated`,
    scenario: 'anotherWriterDuringRecovery',
    cfg: (ctx) => ({ options: ctx.options, key: ctx.key, seed: ctx.seed, mode, landed, foreignLength: foreign }),
    async check(out, ctx) {
      const part = 64 * KIB;
      const oursLen = landed ? 3 * part : 2 * part;
      const theirsLen = foreign === 'part' ? part : foreign;
      const want = digestOf([new Pattern(ctx.seed).read(0, oursLen), new Pattern(ctx.seed + 1).read(0, theirsLen)]);
      assert.equal(out.ok, false, 'the upload stops');
      await ctx.assertDigest(want, `ours (${oursLen} bytes) once, then theirs (${theirsLen}): ` +
        `${compactLog(await ctx.log())}`);
      const code = foreign === 'part' ? 'CrcMismatch' : 'PositionNotEqualToLength';
      assert.equal(out.error.code, code, JSON.stringify(out.error));
      assert.equal(out.error.nextAppendPosition, String(oursLen + theirsLen));
      assert.equal(out.error.crc64, want.crc64, 'the error carries the server CRC-64');
      const seen = out.injected.at(-1);
      assert.equal(seen?.method, 'HEAD', 'the other writer went in before the reconciling HEAD');
      assert.equal(out.requests, seen.index + 1, `nothing sent after that HEAD: ${compactLog(await ctx.log())}`);
    },
  });
}

// ---- bad input -------------------------------------------------------------------------------------------------------
cases.push({
  group: 'bad input',
  name: 'writes that are not bytes reject with a TypeError naming what is accepted; the appender goes on',
  scenario: 'badWrites',
  async check(out, ctx) {
    for (const [what, e] of Object.entries(out.errors)) {
      assert.equal(e.type, 'TypeError', `${what}: ${JSON.stringify(e)}`);
      assert.equal(e.code, 'InvalidArgument', what);
      assert.match(e.message, /Blob.*Uint8Array|Uint8Array.*Blob/, what);
    }
    assert.equal(out.closed.nextAppendPosition, '1500');
    await ctx.assertDigest(patternDigest(ctx.seed, 1500));
  },
});
cases.push({
  group: 'bad input',
  name: 'negative sizes, minPartSize > partSize, a bad position are refused: InvalidArgument naming the option, '
    + 'nothing sent',
  scenario: 'badOptions',
  async check(out) {
    const names = {
      'partSize: -1': /partSize/, 'partSize: 0': /partSize/, 'minPartSize: -1': /minPartSize/,
      'flushInterval: -5': /flushInterval/, 'minPartSize > partSize': /minPartSize.*partSize/,
      'minPartSize > the default partSize': /minPartSize/, 'position: -1': /position/, "position: 'later'": /position/,
      'append partSize: -8': /partSize/,
    };
    for (const [what, re] of Object.entries(names)) {
      const e = out.errors[what];
      assert.equal(e.code, 'InvalidArgument', `${what}: ${JSON.stringify(e)}`);
      assert.match(e.message, re, what);
    }
    assert.equal(out.requests, 0, 'nothing was sent');
  },
});
cases.push({
  group: 'bad input',
  name: 'after abort: write, flush, close and ready reject with AbortError; what was appended stays',
  scenario: 'afterAbort',
  async check(out, ctx) {
    for (const what of ['pending', 'write', 'flush', 'close', 'ready']) {
      assert.equal(out[what].name, 'AbortError', `${what}: ${JSON.stringify(out[what])}`);
      assert.equal(out[what].code, 'Aborted', what);
    }
    assert.match(out.write.message, /abort/i);
    assert.deepEqual(out.abortAgain, { resolved: null });
    assert.equal(out.position, '5000');
    await ctx.assertDigest(patternDigest(ctx.seed, 5000));
  },
});
cases.push({
  group: 'bad input',
  name: 'a stream yielding something other than bytes into appender.writable: pipeTo rejects, no silent drop',
  scenario: 'writableBadChunk',
  async check(out, ctx) {
    assert.equal(out.piped.resolved, undefined, `pipeTo must reject, resolved; position ${out.position}`);
    assert.equal(out.piped.code, 'InvalidArgument', JSON.stringify(out.piped));
    // The bad chunk errors the stream, not the appender: a direct write afterwards still lands, right after
    // the bytes before the bad chunk, and nothing of the stream after it was written.
    assert.ok(out.later.resolved !== undefined, `a direct write after the failed pipe: ${JSON.stringify(out.later)}`);
    await ctx.assertDigest(patternDigest(ctx.seed, 1010), 'the bytes before the bad chunk once, then the direct write');
  },
});

export const CASES = cases;
