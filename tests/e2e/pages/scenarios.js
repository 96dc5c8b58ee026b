// Behaviour scenarios of client.openAppender and client.append on streams, written once and run both in Node and in a
// Chromium page (helpers/streaming-cases.mjs drives them and checks the outcome against the emulator). Each takes
// the OSS class, plain-data options and the control callback (see helpers/streaming.mjs), and resolves plain data.
import { Rng } from './rng.js';
import { errorInfo, injectFaults, Pattern, runUpload } from './streams.js';

const KIB = 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls `fn` and resolves its rejection as plain data, or { resolved } when it did not reject. */
async function rejection(fn) {
  try {
    const v = await fn();
    return { resolved: v === undefined ? null : JSON.parse(JSON.stringify(v)) };
  } catch (err) {
    return errorInfo(err);
  }
}

/** Many small writes and one large one, never awaited one by one; some awaited writes checked against the server. */
export async function coalescing(OSS, { options, key, seed }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { minPartSize: 40 * KIB, partSize: 100 * KIB, flushInterval: 60_000 });
  const writes = [];
  const durable = [];
  let at = 0;
  for (let i = 0; i < 300; i++) {
    const n = 1 + ((i * 7919) % 3000);
    const p = w.write(data.read(at, n));
    at += n;
    writes.push(p);
    if (i % 100 === 99) {
      // a write resolves once its bytes are on the object: the server already has at least `end` bytes
      const end = at;
      await w.flush();
      await p;
      durable.push({ end, stored: (await control('object', { key })).size, position: w.position });
    }
  }
  writes.push(w.write(data.read(at, 250 * KIB)));
  at += 250 * KIB;
  const closed = await w.close();
  await Promise.all(writes);
  return { size: at, closed, position: w.position, crc64: w.crc64, pending: Number(w.pending), durable };
}

/** A lone small write goes out after flushInterval, with neither flush() nor close(). */
export async function flushInterval(OSS, { options, key }, control) {
  const client = new OSS(options);
  const w = await client.openAppender(key, { minPartSize: 1 << 20, flushInterval: 300 });
  const started = Date.now();
  await w.write(new TextEncoder().encode('tick'));
  const elapsed = Date.now() - started;
  const stored = (await control('object', { key })).size;
  const position = w.position;
  const closed = await w.close();
  return { elapsed, stored, position, closed };
}

/** Creation attributes go with the first append only; a resumed appender cannot change them. */
export async function creationAttributes(OSS, { options, key }) {
  const client = new OSS(options);
  const w = await client.openAppender(key, {
    mime: 'audio/ogg',
    meta: { take: 1, who: 'e2e' },
    headers: { 'Cache-Control': 'no-cache', 'Content-Disposition': 'attachment; filename="take.ogg"' },
    minPartSize: 0,
  });
  await w.write(new Uint8Array(1000).fill(1));
  await w.write(new Uint8Array(1000).fill(2));
  const first = await w.close();
  const again = await client.openAppender(key, {
    position: 'resume',
    mime: 'text/plain',
    meta: { take: 2 },
    headers: { 'Cache-Control': 'max-age=60' },
  });
  const wrote = again.write(new Uint8Array(500).fill(3)); // resolves once durable, so with the close
  const second = await again.close();
  await wrote;
  return { first, second };
}

/**
 * A producer much faster than the server (each append answered 150 ms late) piped into appender.writable: the bytes
 * waiting stay near partSize instead of the whole input.
 */
export async function backpressure(OSS, { options, key, seed }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const partSize = 256 * KIB;
  const chunk = 64 * KIB;
  const size = 4 << 20;
  const w = await client.openAppender(key, { partSize, minPartSize: 64 * KIB });
  await control('arm', { key, kind: 'delay', op: 'append', delay_ms: 150, count: 100 });
  let at = 0;
  let maxPending = 0;
  const readable = new ReadableStream({
    pull(c) {
      maxPending = Math.max(maxPending, Number(w.pending));
      if (at >= size) { c.close(); return; }
      c.enqueue(data.read(at, chunk));
      at += chunk;
    },
  }, { highWaterMark: 0 });
  await readable.pipeTo(w.writable);
  return { size, partSize, chunk, maxPending, position: w.position, crc64: w.crc64 };
}

/** After close: writes and flushes reject with a clear error; close again gives the same result. */
export async function afterClose(OSS, { options, key }) {
  const client = new OSS(options);
  const w = await client.openAppender(key);
  const wrote = w.write(new Uint8Array(3000).fill(9));
  const closed = await w.close();
  await wrote;
  return {
    closed,
    write: await rejection(() => w.write(new Uint8Array(1))),
    flush: await rejection(() => w.flush()),
    closeAgain: await rejection(() => w.close()),
    writable: await rejection(async () => {
      const writer = w.writable.getWriter();
      await writer.write(new Uint8Array(1));
      await writer.close();
    }),
    position: w.position,
  };
}

/**
 * The caller's AbortSignal fires while an append is out (its answer delayed): the write under way and later ones
 * reject with AbortError at once; the object keeps a prefix of the input.
 */
export async function signalAbort(OSS, { options, key, seed }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const controller = new AbortController();
  const w = await client.openAppender(key, { signal: controller.signal, minPartSize: 0, partSize: 64 * KIB });
  await w.write(data.read(0, 100 * KIB));
  await control('arm', { key, kind: 'delay', op: 'append', delay_ms: 5000 });
  const inFlight = w.write(data.read(100 * KIB, 10 * KIB));
  await sleep(300);
  const started = Date.now();
  controller.abort(new Error('the user left'));
  const error = await rejection(() => inFlight);
  const ms = Date.now() - started;
  return {
    error, ms, position: w.position,
    later: await rejection(() => w.write(data.read(110 * KIB, 10))),
    close: await rejection(() => w.close()),
    stored: (await control('object', { key })).size,
  };
}

/** A stream that yields something other than bytes, piped into appender.writable: pipeTo rejects. */
export async function writableBadChunk(OSS, { options, key, seed }) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { minPartSize: 0 });
  const chunks = [data.read(0, 1000), 'not bytes', data.read(1000, 1000)];
  const readable = new ReadableStream({
    pull(c) {
      if (chunks.length) c.enqueue(chunks.shift());
      else c.close();
    },
  });
  const piped = await rejection(() => readable.pipeTo(w.writable));
  return { piped, position: w.position, later: await rejection(() => w.write(data.read(1000, 10))) };
}

/** 'resume' on a Normal object (made by put): ObjectNotAppendable, and the object is untouched. */
export async function resumeNormal(OSS, { options, key }, control) {
  const client = new OSS(options);
  await client.put(key, new Uint8Array(777).fill(5));
  const before = (await control('requests', { key })).length;
  const error = await rejection(() => client.openAppender(key, { position: 'resume' }));
  const requests = (await control('requests', { key })).slice(before);
  return { error, requests };
}

/** 'resume' sends one HEAD and nothing else until the first write. */
export async function resumeOneHead(OSS, { options, key }, control) {
  const client = new OSS(options);
  await client.append(key, new Uint8Array(4321).fill(4));
  const before = (await control('requests', { key })).length;
  const w = await client.openAppender(key, { position: 'resume' });
  const opened = (await control('requests', { key })).slice(before);
  const state = { position: w.position, crc64: w.crc64 };
  const wrote = w.write(new Uint8Array(10).fill(6));
  const closed = await w.close();
  await wrote;
  return { opened, state, closed };
}

/**
 * Another writer appends between two of our appends: the next one stops with the server's length and CRC, later
 * writes reject, nothing is re-sent.
 */
export async function anotherWriterBetween(OSS, { options, key, seed }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { minPartSize: 0 });
  await w.write(data.read(0, 5000));
  await control('arm', { key, kind: 'foreign', length: 1234, seed: seed + 1 });
  const error = await rejection(() => w.write(data.read(5000, 3000)));
  return {
    error,
    later: await rejection(() => w.write(data.read(8000, 10))),
    close: await rejection(() => w.close()),
    position: w.position,
  };
}

/**
 * Our part lands but its answer is lost (`landed`: drop_after_commit) or it is refused before landing (a 503), and
 * before the client can look, another writer appends `foreignLength` bytes ('part' = exactly our part's length).
 */
export async function anotherWriterDuringRecovery(OSS, { options, key, seed, mode, landed, foreignLength }, control) {
  return runUpload(OSS, {
    options,
    key,
    seed,
    size: 64 * KIB * 5,
    mode,
    partSize: 64 * KIB,
    minPartSize: 64 * KIB,
    flushInterval: 60_000,
    writeMin: 64 * KIB,
    writeMax: 64 * KIB,
    faults: {
      type: 'schedule',
      items: [
        { method: 'POST', nth: 2, action: landed ? { kind: 'drop_after_commit' } : { kind: 'error_before_commit', status: 503 } },
        { method: 'HEAD', nth: 0, action: { kind: 'foreign', length: foreignLength, seed: seed + 1 } },
      ],
    },
  }, control);
}

/** Writes of what is not bytes reject with a TypeError naming what is accepted; the appender goes on. */
export async function badWrites(OSS, { options, key, seed }) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { minPartSize: 0 });
  await w.write(data.read(0, 1000));
  const errors = {};
  const bad = {
    string: 'text', number: 42, null: null, undefined, object: { length: 3 }, array: [1, 2, 3],
    promise: Promise.resolve(new Uint8Array(1)),
  };
  for (const [name, value] of Object.entries(bad)) errors[name] = await rejection(() => w.write(value));
  await w.write(data.read(1000, 500));
  const closed = await w.close();
  return { errors, closed, size: 1500 };
}

/** Options out of range are refused before anything is sent. */
export async function badOptions(OSS, { options, key }, control) {
  const client = new OSS(options);
  const cases = {
    'partSize: -1': { partSize: -1 },
    'partSize: 0': { partSize: 0 },
    'minPartSize: -1': { minPartSize: -1 },
    'flushInterval: -5': { flushInterval: -5 },
    'minPartSize > partSize': { partSize: 64 * KIB, minPartSize: 128 * KIB },
    'minPartSize > the default partSize': { minPartSize: 16 << 20 },
    'position: -1': { position: -1 },
    "position: 'later'": { position: 'later' },
  };
  const errors = {};
  for (const [name, o] of Object.entries(cases)) errors[name] = await rejection(() => client.openAppender(key, o));
  errors['append partSize: -8'] = await rejection(() => client.append(key, new Uint8Array(10), { partSize: -8 }));
  return { errors, requests: (await control('requests', { key })).length };
}

/** After abort: every call rejects with AbortError; what was flushed before stays. */
export async function afterAbort(OSS, { options, key, seed }) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { minPartSize: 1 << 20, flushInterval: 60_000 });
  const first = w.write(data.read(0, 5000)); // resolves once durable, so after the flush
  await w.flush();
  await first;
  const pending = w.write(data.read(5000, 100)); // buffered, below minPartSize: never sent
  await w.abort(new Error('the user stopped the recording'));
  const out = {
    pending: await rejection(() => pending),
    write: await rejection(() => w.write(data.read(5000, 10))),
    flush: await rejection(() => w.flush()),
    close: await rejection(() => w.close()),
    ready: await rejection(() => w.ready()),
    abortAgain: await rejection(() => w.abort()),
    position: w.position,
    size: 5000,
  };
  await sleep(50);
  return out;
}

// ---- a page reload in the middle of a recording (reload.test.mjs) ----------------------------------------------------

/**
 * Records the first `upTo` bytes of Pattern(seed) through an appender, with the `nth` append's answer delayed past
 * any wait (so it lands while the page still waits for it), then flushes; resolves at once, leaving the recording
 * running. window.recording reports what this page knows.
 */
export async function recordThenLeave(OSS, { options, key, seed, upTo, partSize, minPartSize, nth }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { partSize, minPartSize, flushInterval: 60_000 });
  const hook = injectFaults({
    key,
    decide: (req) => (req.method === 'POST' && req.index === nth ? { kind: 'delay', delay_ms: 60_000 } : null),
    arm: (action) => control('arm', { ...action, key }),
  });
  const rng = new Rng(seed);
  for (let at = 0; at < upTo;) {
    const n = Math.min(upTo - at, rng.logInt(1, 100 * KIB));
    w.write(data.read(at, n)).catch(() => {}); // the page goes away before these settle
    at += n;
  }
  w.flush().catch(() => {});
  window.recording = {
    position: () => w.position,
    delayed: () => hook.injected.find((i) => i.action === 'delay') ?? null,
  };
  return { opened: true };
}

/** After the reload: resumes the object with one HEAD and writes the rest of Pattern(seed) from w.position. */
export async function resumeAfterReload(OSS, { options, key, seed, size, partSize, minPartSize }) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const w = await client.openAppender(key, { position: 'resume', partSize, minPartSize });
  const start = Number(w.position);
  const crcAtStart = w.crc64;
  const rng = new Rng(seed + 1);
  const writes = [];
  for (let at = start; at < size;) {
    const n = Math.min(size - at, rng.logInt(1, 100 * KIB));
    await w.ready();
    writes.push(w.write(data.read(at, n)));
    at += n;
  }
  const closed = await w.close();
  await Promise.all(writes);
  return { start, crcAtStart, closed };
}
