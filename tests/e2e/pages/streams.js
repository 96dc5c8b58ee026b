// Shared by the streaming suites in Node and by the test pages in Chromium, so that both run the very same
// scenarios: deterministic data addressable by offset (drawn from rng.js), a fetch wrapper that arms an emulator
// fault right before a chosen request, and the upload runner (openAppender writes, appender.writable, append of a
// ReadableStream or a Blob) that records progress and what was injected.
import { Rng } from './rng.js';

// ---- deterministic data, addressable by offset ---------------------------------------------------------------------

export const BLOCK = 64 * 1024;

/** The bytes of stream `seed`: 64 KiB blocks, each from the generator seeded by (seed, block index). */
export class Pattern {
  constructor(seed) {
    this.seed = seed >>> 0;
    this.cachedIndex = -1;
    this.cached = new Uint8Array(BLOCK);
    this.words = new Uint32Array(this.cached.buffer);
  }

  block(index) {
    if (index !== this.cachedIndex) {
      new Rng((Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(index, 0x85ebca6b)) >>> 0).fillWords(this.words);
      this.cachedIndex = index;
    }
    return this.cached;
  }

  /** `length` bytes from `offset`, a fresh Uint8Array. */
  read(offset, length) {
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const pos = offset + at;
      const index = Math.floor(pos / BLOCK);
      const from = pos - index * BLOCK;
      const n = Math.min(BLOCK - from, length - at);
      out.set(this.block(index).subarray(from, from + n), at);
      at += n;
    }
    return out;
  }
}

// ---- fault injection on chosen requests ------------------------------------------------------------------------------

/**
 * Wraps the global `fetch` (the client calls it for every request) so that `decide` sees each request for `key`
 * before it goes out, and `arm(action)` can prepare the emulator for exactly that request: a fault armed with
 * count 1 on this key hits the very next request for it, and requests for one key are sequential. Returns
 * { injected, requests, restore }.
 */
export function injectFaults({ key, decide, arm }) {
  const original = globalThis.fetch;
  const injected = [];
  const t0 = Date.now();
  let requests = 0;
  const wrapper = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    if (!url.pathname.startsWith('/__emulator__/') && decodeURIComponent(url.pathname).endsWith(`/${key}`)) {
      const method = String(init?.method ?? 'GET').toUpperCase();
      const position = url.searchParams.get('position');
      const length = bodyLength(init);
      const request = { index: requests++, method, position, length, append: url.searchParams.has('append') };
      const action = decide(request);
      if (action) {
        await arm(action);
        injected.push({ ...request, action: action.kind, ms: Date.now() - t0 });
      }
    }
    return original(input, init);
  };
  wrapper.original = original; // lets a test's own requests (another writer) bypass the wrapper
  globalThis.fetch = wrapper;
  return {
    injected,
    get requests() { return requests; },
    restore() { globalThis.fetch = original; },
  };
}

function bodyLength(init) {
  const body = init?.body;
  if (body === undefined || body === null) return 0;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return body.byteLength;
  // A streamed body (Node's live parts) declares its length.
  const declared = Object.entries(init.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-length');
  return declared ? Number(declared[1]) : null;
}

/** Actions for `decide`: the emulator's fault kinds, plus a token expiry and a clock jump. */
export const FAULTS = {
  drop: () => ({ kind: 'drop_after_commit' }),
  error500: () => ({ kind: 'error_before_commit', status: 500 }),
  error503: () => ({ kind: 'error_before_commit', status: 503 }),
  reset: (afterBytes) => ({ kind: 'reset_mid_body', ...(afterBytes === undefined ? {} : { after_bytes: afterBytes }) }),
  delay: (delayMs) => ({ kind: 'delay', delay_ms: delayMs }),
  expire: () => ({ kind: 'sts_expire' }),
  skew: (offsetMs) => ({ kind: 'clock', offset_ms: offsetMs }),
};

/**
 * A decider that hits a random `rate` of the requests with a random action. A token expiry and a clock jump each come
 * at most once per part, on its POST or its reconciling HEAD (the client refreshes once and re-syncs once per part,
 * by design); a reset mid-body only on a POST.
 */
export function randomFaults({ seed, rate, timeoutMs, sts }) {
  const rng = new Rng(seed ^ 0x5eed_fa17);
  let lastExpire = null;
  let lastSkew = null;
  let clock = 0;
  let seen = 0;
  let hit = 0;
  let part = null;
  return (req) => {
    seen += 1;
    if (req.method === 'POST') part = req.position;
    // Random placement, with the count kept within one of seen × rate either way, so that every run gets its
    // share and no more.
    const draw = rng.float() < rate;
    if (!(draw && hit < Math.ceil(seen * rate) + 1) && hit >= Math.floor(seen * rate)) return null;
    hit += 1;
    const kinds = [['drop', 25], ['error', 25], ['delay', 8]];
    if (req.method === 'POST') kinds.push(['reset', 22]);
    if (sts && part !== lastExpire) kinds.push(['expire', 10]);
    if (part !== lastSkew) kinds.push(['skew', 10]);
    const kind = rng.weighted(kinds);
    switch (kind) {
      case 'drop': return FAULTS.drop();
      case 'error': return rng.float() < 0.5 ? FAULTS.error500() : FAULTS.error503();
      case 'delay': return FAULTS.delay(timeoutMs + 400);
      case 'reset': return FAULTS.reset(req.length ? rng.int(0, Math.max(0, req.length - 1)) : undefined);
      case 'expire': lastExpire = part; return FAULTS.expire();
      case 'skew': {
        lastSkew = part;
        clock = clock === 0 ? rng.pick([-1, 1]) * 20 * 60_000 : 0;
        return FAULTS.skew(clock);
      }
      default: throw new Error(`unknown fault ${kind}`);
    }
  };
}

/**
 * A decider from plain data (so that a test page can receive it): { type: 'random', seed, rate, timeoutMs, sts } or
 * { type: 'schedule', items: [{ method: 'POST' | 'HEAD', nth, action }] } (nth counts that method's requests from 0;
 * an action { kind: 'foreign', length: 'part' } gets the length of the last POST).
 */
export function makeDecider(spec) {
  if (!spec) return null;
  if (spec.type === 'random') return randomFaults(spec);
  if (spec.type === 'schedule') {
    const seen = {};
    let lastPost = 0;
    return (req) => {
      const nth = seen[req.method] = (seen[req.method] ?? -1) + 1;
      if (req.method === 'POST') lastPost = req.length;
      const action = spec.items.find((it) => it.method === req.method && it.nth === nth)?.action ?? null;
      // another writer's length 'part': exactly the length of our last append
      return action?.length === 'part' ? { ...action, length: lastPost } : action;
    };
  }
  throw new Error(`unknown fault plan ${JSON.stringify(spec)}`);
}

// ---- the upload runner -------------------------------------------------------------------------------------------------

/** The fields of an error worth comparing, as plain data. */
export function errorInfo(err) {
  if (!(err instanceof Error)) return { notAnError: String(err) };
  const out = { message: err.message, type: err.constructor?.name };
  for (const k of ['name', 'code', 'status', 'nextAppendPosition', 'crc64', 'localCrc64', 'serverCrc64']) {
    if (err[k] !== undefined) out[k] = err[k];
  }
  return out;
}

/** Checks a list of progress calls [p, info]: monotonic p, loaded and position; what total was. */
export function progressSummary(calls) {
  const problems = [];
  for (let i = 1; i < calls.length; i++) {
    const [p0, a] = calls[i - 1];
    const [p1, b] = calls[i];
    if (p1 < p0) problems.push(`p ${p0} -> ${p1} at call ${i}`);
    if (Number(b.loaded) < Number(a.loaded)) problems.push(`loaded ${a.loaded} -> ${b.loaded} at call ${i}`);
    if (BigInt(b.position) < BigInt(a.position)) problems.push(`position ${a.position} -> ${b.position} at call ${i}`);
  }
  const last = calls.at(-1);
  return {
    calls: calls.length,
    problems: problems.slice(0, 5),
    totals: [...new Set(calls.map(([, info]) => (info.total === null ? 'null' : typeof info.total)))],
    inRange: calls.every(([p]) => p >= 0 && p <= 1),
    last: last ? { p: last[0], loaded: Number(last[1].loaded), position: String(last[1].position) } : null,
  };
}

/** A chunk of bytes in one of the forms `write` accepts. */
function asForm(bytes, form) {
  switch (form) {
    case 'blob': return new Blob([bytes]);
    case 'arraybuffer': return bytes.buffer;
    case 'dataview': return new DataView(bytes.buffer);
    default: return bytes;
  }
}

/**
 * Uploads `size` bytes of Pattern(`seed`) from `start` onto `key`:
 *   mode 'write'    openAppender + write() of random sizes (random byte forms, the occasional flush)
 *   mode 'writable' a ReadableStream of random chunks piped into appender.writable
 *   mode 'stream'   client.append of a ReadableStream of random chunks, partSize
 *   mode 'blob'     client.append of a Blob, partSize
 * with `faults` (a plan for makeDecider) arming faults through `control('arm', action)`; `control('credentials')`
 * gives refreshSTSToken its answer.
 * Resolves plain data: { ok, result | error, progress, injected, requests, ms }.
 */
export async function runUpload(OSS, {
  options, key, seed, size, start = 0, mode, partSize, minPartSize, flushInterval, writeMin = 1,
  writeMax = 2 << 20, refresh = false, faults = null, position, progressEvery = false, timeout, retryMax,
}, control) {
  const decide = makeDecider(faults);
  const started = Date.now();
  const rng = new Rng(seed ^ 0x00c0ffee);
  const data = new Pattern(seed);
  const clientOptions = { ...options };
  if (timeout !== undefined) clientOptions.timeout = timeout;
  if (retryMax !== undefined) clientOptions.retryMax = retryMax;
  if (refresh) clientOptions.refreshSTSToken = () => control('credentials');
  const client = new OSS(clientOptions);
  const calls = [];
  const progress = (p, info) => calls.push([p, { ...info }]);
  const arm = (action) => control('arm', { ...action, key });
  const hook = decide ? injectFaults({ key, decide, arm }) : null;
  const end = start + size;
  const nextSize = (at) => Math.min(end - at, rng.logInt(writeMin, writeMax));
  const chunks = () => {
    let at = start;
    return new ReadableStream({
      pull(c) {
        if (at >= end) { c.close(); return; }
        const n = nextSize(at);
        c.enqueue(data.read(at, n));
        at += n;
      },
    }, { highWaterMark: 0 });
  };
  const at0 = position ?? start;
  let result;
  try {
    if (mode === 'write' || mode === 'writable') {
      const w = await client.openAppender(key, { position: at0, partSize, minPartSize, flushInterval, progress });
      if (mode === 'write') {
        const writes = [];
        for (let at = start; at < end;) {
          const n = nextSize(at);
          await w.ready();
          const p = w.write(asForm(data.read(at, n), rng.pick(['bytes', 'bytes', 'blob', 'arraybuffer', 'dataview'])));
          p.catch(() => {}); // a failure surfaces through close() below; this one is awaited there too
          writes.push(p);
          at += n;
          if (rng.float() < 0.02) await w.flush();
        }
        result = await w.close();
        await Promise.all(writes);
      } else {
        await chunks().pipeTo(w.writable);
        result = { name: key, nextAppendPosition: w.position, crc64: w.crc64 };
      }
      result = { ...result, position: w.position, crc64Getter: w.crc64, pending: Number(w.pending) };
    } else if (mode === 'stream' || mode === 'blob') {
      let input;
      if (mode === 'stream') input = chunks();
      else {
        const parts = [];
        for (let at = start; at < end;) {
          const n = nextSize(at);
          parts.push(data.read(at, n));
          at += n;
        }
        input = new Blob(parts);
      }
      const r = await client.append(key, input, { position: at0, partSize, progress });
      result = { name: r.name, nextAppendPosition: r.nextAppendPosition, crc64: r.crc64 };
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    return { ok: true, result, ...report() };
  } catch (err) {
    return { ok: false, error: errorInfo(err), ...report() };
  } finally {
    hook?.restore();
  }

  function report() {
    return {
      progress: progressSummary(calls),
      progressCalls: progressEvery ? calls : undefined,
      injected: hook ? hook.injected : [],
      requests: hook ? hook.requests : null,
      ms: Date.now() - started,
    };
  }
}

/**
 * The parameters of randomized run `seed` over `size` bytes: mode, part sizes, write sizes, fault rate. Sizes are
 * chosen for 64 MiB and scaled down with a smaller `size`, so that a shorter run makes as many requests.
 */
export function randomPlan(seed, size) {
  const rng = new Rng(seed);
  const MIB = 1 << 20;
  const scale = Math.min(1, size / (64 * MIB));
  const partSize = Math.max(4096, Math.round(rng.int(1, 4) * MIB * scale));
  return {
    seed,
    size,
    mode: ['write', 'writable', 'stream'][seed % 3],
    partSize,
    minPartSize: rng.int(Math.min(partSize, Math.round((64 << 10) * scale)), partSize),
    flushInterval: rng.int(20, 200),
    writeMax: Math.max(1024, Math.round(2 * MIB * scale)),
    rate: 0.05 + rng.float() * 0.25,
  };
}
