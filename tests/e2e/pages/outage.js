// A live recording that must ride out outages, shared by outage.test.mjs (Node) and browser-outage.test.mjs
// (headless Chromium): a write of Pattern(seed) bytes every `everyMs` for `durationMs`, never awaited one by one,
// as a MediaRecorder hands them out. The caller stops the emulator (or takes the browser offline) meanwhile; what
// the appender reported comes back as plain data.
import { errorInfo, injectFaults, Pattern } from './streams.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function record(OSS, { options, key, seed, durationMs, everyMs = 100, writeSize = 16 * 1024,
  appender = {} }) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const t0 = Date.now();
  const states = [];
  const retries = [];
  const confirms = [];
  const w = await client.openAppender(key, {
    minPartSize: 32 * 1024,
    flushInterval: 200,
    ...appender,
    onStateChange: (s) => states.push({ s, t: Date.now() }),
    onRetry: (r) => retries.push({ attempt: r.attempt, delayMs: r.delayMs, code: r.error.code, buffered: r.buffered,
      t: Date.now() }),
    progress: (_p, info) => confirms.push({ t: Date.now(), position: info.position }),
  });
  const rejected = [];
  const writes = [];
  let at = 0;
  let maxBuffered = 0;
  while (Date.now() - t0 < durationMs) {
    const chunk = data.read(at, writeSize);
    at += writeSize;
    writes.push(w.write(chunk).catch((e) => { rejected.push(errorInfo(e)); }));
    maxBuffered = Math.max(maxBuffered, w.buffered);
    await sleep(everyMs);
  }
  const stoppedWriting = Date.now();
  let closed;
  try {
    closed = await w.close();
  } catch (e) {
    closed = { error: errorInfo(e) };
  }
  await Promise.all(writes);
  return {
    size: at, states, retries, confirms, rejected, closed, stoppedWriting, closedAt: Date.now(),
    position: w.position, crc64: w.crc64, state: w.state, buffered: w.buffered, maxBuffered,
  };
}

/** Resolves { settled: [value or error info, ms after `t0`] } for each promise, once all settled. */
async function settleAll(promises, t0) {
  return Promise.all(promises.map((p) => p.then(
    (v) => ({ ok: true, ms: Date.now() - t0, value: v ?? null }),
    (e) => ({ ok: false, ms: Date.now() - t0, error: errorInfo(e) }),
  )));
}

const until = async (predicate, ms) => {
  const t0 = Date.now();
  while (!predicate()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await sleep(20);
  }
};

/**
 * The edges of an outage, with the browser taken offline by the caller (`control('network', offline)`): writes past
 * maxBuffered reject with BufferFull and the rest lands; abort() during a retry wait settles everything at once;
 * another writer (`control('foreign', { key, at, length, seed })`) during an outage fails the appender with every
 * unconfirmed byte in `unsent`.
 */
export async function outageEdges(OSS, { options, key, seed }, control) {
  const client = new OSS(options);
  const data = new Pattern(seed);
  const out = {};

  // maxBuffered
  {
    const k = `${key}/max-buffered`;
    const w = await client.openAppender(k, { minPartSize: 0, maxBuffered: 64 * 1024, maxRetryDelay: 500 });
    await w.write(data.read(0, 1000));
    await control('network', true);
    const writes = Array.from({ length: 8 }, (_, i) => w.write(data.read(1000 + i * 10240, 10240)));
    const t0 = Date.now();
    const refused = await settleAll(writes.slice(6), t0);
    out.maxBuffered = { refused, buffered: w.buffered, state: w.state };
    await control('network', false);
    const more = w.write(data.read(1000 + 6 * 10240, 500));
    out.maxBuffered.closed = await w.close();
    out.maxBuffered.landed = await settleAll([...writes.slice(0, 6), more], t0);
    out.maxBuffered.key = k;
  }

  // abort during a retry wait
  {
    const k = `${key}/abort`;
    const retries = [];
    const w = await client.openAppender(k, { minPartSize: 0, onRetry: (r) => retries.push(r.delayMs) });
    await w.write(data.read(0, 1000));
    await control('network', true);
    const pending = [w.write(data.read(1000, 100)), w.flush(), w.write(data.read(1100, 100)), w.close()];
    pending.forEach((p) => p.catch(() => {}));
    await until(() => retries.length > 0, 10_000);
    const t0 = Date.now();
    await w.abort('the user stopped');
    out.abort = { settled: await settleAll(pending, t0), state: w.state, retries, key: k };
    await control('network', false);
  }

  // another writer during an outage
  {
    const k = `${key}/other-writer`;
    const w = await client.openAppender(k, { minPartSize: 0, maxRetryDelay: 600_000 });
    await w.write(data.read(0, 5000));
    await control('network', true);
    const pending = [w.write(data.read(5000, 3000)), w.write(new Blob([data.read(8000, 4000)])), w.close()];
    pending.forEach((p) => p.catch(() => {}));
    await until(() => w.state === 'retrying', 10_000);
    await control('foreign', { key: k, at: 5000, length: 1234, seed: seed + 1 });
    await control('network', false);
    await sleep(200);
    w.retryNow();
    const settled = await settleAll(pending, Date.now());
    let unsent = null;
    try {
      await pending[2];
    } catch (e) {
      if (e.unsent instanceof Blob) unsent = Array.from(new Uint8Array(await e.unsent.arrayBuffer()));
    }
    out.otherWriter = { settled, unsent, position: w.position, crc64: w.crc64, state: w.state, key: k };
  }
  return out;
}

/**
 * A 64 MiB append() in 8 MiB parts whose fourth part the emulator refuses (503) more often than retryMax allows: the
 * error says how far the object got. Resolves the error and the HEAD after it.
 */
export async function failingAppend(OSS, { options, key, seed }, control) {
  const client = new OSS({ ...options, retryMax: 1 });
  const data = new Pattern(seed).read(0, 64 << 20);
  let appends = 0;
  const hook = injectFaults({
    key,
    decide: (req) => (req.method === 'POST' && ++appends === 4
      ? { kind: 'error_before_commit', status: 503, op: 'append', count: 3 } : null),
    arm: (action) => control('arm', { ...action, key }),
  });
  let error;
  try {
    await client.append(key, data, { partSize: 8 << 20 });
  } catch (e) {
    error = errorInfo(e);
  } finally {
    hook.restore();
  }
  const head = await client.head(key);
  return { error, head: { nextAppendPosition: head.nextAppendPosition, crc64: head.crc64 } };
}
