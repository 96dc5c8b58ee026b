// One HTTP exchange through the global `fetch`, in one call from wasm and one answer back, so a request costs two
// crossings instead of one per header.

const inNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/**
 * A turn of the event loop for Node's I/O, whose fetch writes request bodies from this thread: long CPU work
 * beside an upload (the next part's CRC) is cut into slices with one of these between. Browsers upload off the
 * page's thread, so there it resolves at once.
 */
export function ioTurn() {
  return inNode ? new Promise((resolve) => setImmediate(resolve)) : Promise.resolve();
}

/**
 * Whether request bodies may be streams: in Node, not in a page (browsers cannot stream a body over HTTP/1.1, and a
 * page may carry a `process` shim).
 */
export function streamsBodies() {
  return inNode && typeof document === 'undefined';
}

/** Whether this runtime enforces CORS (a browser page or worker), where query-signed appends save a preflight. */
export function inBrowser() {
  return !inNode;
}

/**
 * Sends one request; the timeout covers the whole exchange, body included.
 * `headers` is "name\nvalue\n" repeated (header values never hold a newline: the core rejects control characters).
 * `simple`: a query-signed request that must stay a CORS simple request, so the body carries no Content-Type.
 * Resolves `[status, headerLines, headersObject, body]` for any status, where `headerLines` has the same shape as
 * `headers` and `headersObject` maps lower-case names to values; `body` is whole only for a successful GET, and at
 * most `bodyLimit` bytes otherwise. Rejects with `{ timedOut, error }` otherwise.
 */
export function send(method, url, headers, body, timeoutMs, signal, simple, bodyLimit) {
  const init = { method, headers: {}, signal: undefined };
  const lines = headers.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) init.headers[lines[i]] = lines[i + 1];
  // Byte bodies go out as they are: wrapping them in a Blob costs Chromium a quarter of its upload rate.
  if (body !== undefined) init.body = body;
  // An array of byte arrays (Node only): streamed in order with its length, so Node's fetch makes no copy of it.
  if (Array.isArray(body)) {
    init.body = streamOf(body);
    init.duplex = 'half';
    init.headers['content-length'] = String(body.reduce((n, piece) => n + piece.byteLength, 0));
  }
  // fetch sends a Blob's type as Content-Type, which would cost a preflight and break the signature; a slice
  // without a type carries none (byte bodies never do).
  if (simple && body instanceof Blob && body.type !== '') init.body = body.slice(0, body.size);
  // A growing object must never be read from an HTTP cache. Only reads get no-store: with it, fetch adds
  // `Cache-Control: no-cache`, which a PUT or a first append would store as a creation attribute.
  if (method === 'GET' || method === 'HEAD') init.cache = 'no-store';

  const controller = new AbortController();
  init.signal = controller.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const forward = () => controller.abort();
  signal?.addEventListener('abort', forward);
  const done = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  };
  return fetch(url, init)
    .then(async (response) => {
      let lines = '';
      const object = {};
      for (const [name, value] of response.headers) {
        lines += `${name}\n${value}\n`;
        object[name] = value;
      }
      // Only a successful GET's body is the caller's data; any other body is parsed (an error document) or
      // ignored, so it is read up to the limit and the rest is left unread.
      const bytes = method === 'GET' && response.ok
        ? new Uint8Array(await response.arrayBuffer())
        : await readCapped(response, bodyLimit);
      done();
      return [response.status, lines, object, bytes];
    })
    .catch((error) => {
      done();
      throw { timedOut, error };
    });
}

/** A stream of `pieces`, one at a time; the pieces are only read, so the same array can be sent again. */
function streamOf(pieces) {
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next < pieces.length) controller.enqueue(pieces[next++]);
      else controller.close();
    },
  });
}

/** The first `limit` bytes of a response body; the rest is never read (the stream is cancelled). */
async function readCapped(response, limit) {
  if (!response.body) return new Uint8Array(0);
  // A declared length within the limit is read in one go (HTTP framing ends the body there): the usual case, and
  // much cheaper than a stream reader.
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= limit) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts = [];
  let size = 0;
  let full = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, limit - size);
      parts.push(value.subarray(0, take));
      size += take;
      if (size >= limit) {
        full = true;
        break;
      }
    }
  } finally {
    if (full) reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
