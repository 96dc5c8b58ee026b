// The in-page side of bench/run.mjs: CRC-64 and append throughput in headless Chromium, and the 1 GiB File upload
// whose memory the Node side reads from /proc. Every function returns plain data (it crosses page.evaluate).
import { wasmInstance } from './capture-wasm.js';
import { OSS, Crc64, crc64 } from '/pkg/web.js';

const MIB = 1 << 20;
let data = null; // the bytes of the CRC and append rounds, made once per page

/** `n` random bytes (getRandomValues takes at most 64 KiB per call). */
function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

export function prepare(bytes) {
  data = randomBytes(bytes);
  return data.length;
}

// ---- crc64-ecma182.js, as its Node entry drives the same emscripten module (which has a fixed 16 MiB heap) ----
const ECMA_CHUNK = 8 * MIB;
let M = null; // its Module, from the frame that loads it (see ecma.html)

function ecmaCrc(bytes) {
  const prevPtr = M._malloc(8);
  const zero = M._malloc(2);
  M.stringToUTF8('0', zero, 2);
  M._str_to_uint64(zero, prevPtr);
  M._free(zero);
  for (let at = 0; at < bytes.length; at += ECMA_CHUNK) {
    const chunk = bytes.subarray(at, Math.min(bytes.length, at + ECMA_CHUNK));
    const ptr = M._malloc(chunk.length);
    M.writeArrayToMemory(chunk, ptr);
    M._crc64(prevPtr, ptr, chunk.length);
    M._free(ptr);
  }
  const strPtr = M._malloc(32);
  M._uint64_to_str(strPtr, prevPtr);
  const out = M.UTF8ToString(strPtr);
  M._free(strPtr);
  M._free(prevPtr);
  return out;
}

/** Loads crc64-ecma182.js in a same-origin frame; resolves 'ok' or what went wrong. */
export async function ecmaAvailable() {
  if (!M) {
    const frame = document.createElement('iframe');
    frame.src = '/ecma.html';
    const loaded = new Promise((resolve) => { frame.onload = resolve; });
    document.body.append(frame);
    await loaded;
    const state = await Promise.race([frame.contentWindow.ecmaReady,
      new Promise((resolve) => setTimeout(() => resolve('crc64-ecma182.js did not initialise in 30 s'), 30_000))]);
    if (state !== 'ok') return state;
    M = frame.contentWindow.Module;
    M._crc64_init();
  }
  const check = ecmaCrc(new TextEncoder().encode('123456789'));
  const want = BigInt('0x995DC9BBDF1939FA').toString();
  return check === want ? 'ok' : `crc64-ecma182.js gave ${check} for "123456789", want ${want}`;
}

/** One CRC round: `name` is 'ours' (crc64 from the package, the copy into wasm included) or 'ecma'. */
export function crcOnce(name) {
  const t = performance.now();
  const value = name === 'ours' ? crc64(data) : ecmaCrc(data);
  return { ms: performance.now() - t, value };
}

// ---- append throughput ----
function client(opts) {
  return new OSS({ ...opts, pathStyle: true });
}

/** oss-append: one `append` call over the whole buffer, split into `partSize` appends by the library. */
export async function appendOurs(opts, key, partSize) {
  const oss = client(opts);
  const t = performance.now();
  const r = await oss.append(key, data, { partSize });
  const ms = performance.now() - t;
  return { ms, next: r.nextAppendPosition, crc: r.crc64 };
}

/** The bound: presigned V1 URLs (made before the clock starts), then one bare fetch POST per part. */
export async function appendBare(opts, key, partSize, source = null) {
  const oss = client(opts);
  const body = source ?? data;
  const size = body.size ?? body.length;
  const urls = [];
  for (let at = 0; at < size; at += partSize) {
    urls.push(oss.signatureUrl(key, { method: 'POST', expires: 3600, subResource: { append: '', position: String(at) } }));
  }
  const t = performance.now();
  let next = '0';
  for (let i = 0, at = 0; at < size; i++, at += partSize) {
    const part = source ? body.slice(at, Math.min(size, at + partSize)) : body.subarray(at, Math.min(size, at + partSize));
    const res = await fetch(urls[i], { method: 'POST', body: part });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`bare fetch: status ${res.status} at ${at}`);
    next = res.headers.get('x-oss-next-append-position');
  }
  return { ms: performance.now() - t, next };
}

// ---- the 1 GiB File chosen in <input type=file> (disk-backed, as a user's file is) ----
function chosenFile() {
  const f = document.getElementById('file').files[0];
  if (!f) throw new Error('no file chosen');
  return f;
}

export async function fileOurs(opts, key, partSize) {
  const oss = client(opts);
  const file = chosenFile();
  const t = performance.now();
  const r = await oss.append(key, file, { partSize });
  return { ms: performance.now() - t, next: r.nextAppendPosition, size: file.size };
}

/**
 * A minimal CRC-checked uploader by hand: each part is read into an ArrayBuffer, fed to the package's Crc64, sent
 * as the File slice to a presigned URL, and the whole-object CRC the server reports is compared at the end.
 */
export async function fileReadCrc(opts, key, partSize) {
  const oss = client(opts);
  const file = chosenFile();
  const urls = [];
  for (let at = 0; at < file.size; at += partSize) {
    urls.push(oss.signatureUrl(key, { method: 'POST', expires: 3600, subResource: { append: '', position: String(at) } }));
  }
  const t = performance.now();
  const crc = new Crc64();
  let next;
  let serverCrc;
  for (let i = 0, at = 0; at < file.size; i++, at += partSize) {
    const part = file.slice(at, Math.min(file.size, at + partSize));
    crc.update(new Uint8Array(await part.arrayBuffer()));
    const res = await fetch(urls[i], { method: 'POST', body: part });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`status ${res.status} at ${at}`);
    next = res.headers.get('x-oss-next-append-position');
    serverCrc = res.headers.get('x-oss-hash-crc64ecma');
  }
  const local = crc.digest();
  crc.free();
  if (local !== serverCrc) throw new Error(`CRC mismatch: ${local} vs ${serverCrc}`);
  return { ms: performance.now() - t, next, size: file.size };
}

export async function fileBare(opts, key, partSize) {
  const file = chosenFile();
  const r = await appendBare(opts, key, partSize, file);
  return { ...r, size: file.size };
}

/** The package's wasm linear memory size in bytes. */
export async function wasmMemory() {
  return wasmInstance.exports.memory.buffer.byteLength;
}

// ---- under a modelled network (the emulator's --latency-ms and --upload-rate) ----

/**
 * A live recording: every second one `chunkBytes` Blob (as MediaRecorder's 1 s timeslice gives), for `seconds`
 * seconds; resolves the time from each write to its bytes being confirmed on the object, in ms.
 * `mode`: 'ours' (openAppender, querySign as the client decides: query-signed in browsers), 'ours-header'
 * (querySign: false) or 'fetch' (the bound: presigned V1 append URLs made up front, one bare POST per chunk, each
 * after the previous one answered, as appends must be).
 */
export async function liveRecording(opts, key, { mode, seconds, chunkBytes }) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const chunk = (i) => new Blob([data.subarray(i * chunkBytes, (i + 1) * chunkBytes)]);
  const times = new Array(seconds);
  let writer = null;
  let urls = null;
  if (mode === 'fetch') {
    const oss = client(opts);
    urls = Array.from({ length: seconds }, (_, i) => oss.signatureUrl(key, {
      method: 'POST', expires: 3600, subResource: { append: '', position: String(i * chunkBytes) },
    }));
  } else {
    const oss = client({ ...opts, querySign: mode === 'ours' ? 'auto' : false });
    writer = await oss.openAppender(key, { flushInterval: 1000 });
  }
  let chain = Promise.resolve();
  let failure = null;
  let next = null;
  const start = performance.now();
  for (let i = 0; i < seconds; i++) {
    await sleep(Math.max(0, start + i * 1000 - performance.now()));
    const body = chunk(i);
    const t = performance.now();
    if (writer) {
      const written = writer.write(body);
      writer.flush().catch(() => {});
      chain = written.then(() => { times[i] = performance.now() - t; }, (e) => { failure ??= e; });
    } else {
      chain = chain.then(async () => {
        const res = await fetch(urls[i], { method: 'POST', body });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`bare fetch: status ${res.status} for chunk ${i}`);
        times[i] = performance.now() - t;
        next = res.headers.get('x-oss-next-append-position');
      }).catch((e) => { failure ??= e; });
    }
  }
  await chain;
  if (writer) next = (await writer.close()).nextAppendPosition;
  if (failure) throw failure;
  return { times, next };
}

/**
 * A live appender fed `chunk`-sized writes of the prepared bytes as fast as it takes them (`ready()` between), with
 * or without a spool (OPFS); resolves once close() has confirmed everything (and, spooled, deleted the spool).
 */
export async function appenderRun(opts, key, partSize, chunk, spool) {
  const oss = client(opts);
  const t = performance.now();
  const w = await oss.openAppender(key, { partSize, minPartSize: partSize, ...(spool ? { spool } : {}) });
  for (let at = 0; at < data.length; at += chunk) {
    await w.ready();
    w.write(data.subarray(at, Math.min(data.length, at + chunk))).catch(() => {});
  }
  const r = await w.close();
  const ms = performance.now() - t;
  return { ms, next: r.nextAppendPosition, crc: r.crc64 };
}
