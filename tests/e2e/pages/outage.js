// A live recording that must ride out outages, shared by outage.test.mjs (Node) and browser-outage.test.mjs
// (headless Chromium): a write of Pattern(seed) bytes every `everyMs` for `durationMs`, never awaited one by one,
// as a MediaRecorder hands them out. The caller stops the emulator (or takes the browser offline) meanwhile; what
// the appender reported comes back as plain data.
import { errorInfo, Pattern } from './streams.js';

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
