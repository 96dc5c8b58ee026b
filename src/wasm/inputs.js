// Reads caller-supplied values without ever throwing into wasm: a JS exception that crosses wasm frames leaves the
// module's stack behind, so detached buffers, Proxies, throwing getters and look-alike objects are sorted out here
// and come back as data.

const TypedArray = Object.getPrototypeOf(Uint8Array.prototype);
const typedSlice = TypedArray.slice;
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name)?.get;
const typedBuffer = getter(TypedArray, 'buffer');
const typedOffset = getter(TypedArray, 'byteOffset');
const typedLength = getter(TypedArray, 'byteLength');
const viewBuffer = getter(DataView.prototype, 'buffer');
const viewOffset = getter(DataView.prototype, 'byteOffset');
const viewLength = getter(DataView.prototype, 'byteLength');
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const bufferResizable = getter(ArrayBuffer.prototype, 'resizable');
const bufferDetached = getter(ArrayBuffer.prototype, 'detached');
const bufferSlice = ArrayBuffer.prototype.slice;
const Shared = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined;
const sharedLength = Shared && getter(Shared.prototype, 'byteLength');
const blobSize = typeof Blob === 'function' ? getter(Blob.prototype, 'size') : undefined;
const signalAborted = typeof AbortSignal === 'function' ? getter(AbortSignal.prototype, 'aborted') : undefined;
const streamLocked = typeof ReadableStream === 'function' ? getter(ReadableStream.prototype, 'locked') : undefined;

/** Whether `buffer` (a real ArrayBuffer) was detached by a transfer. */
function isDetached(buffer) {
  if (bufferDetached) return bufferDetached.call(buffer);
  // Runtimes before ArrayBuffer.prototype.detached: slicing a detached buffer throws.
  if (bufferLength.call(buffer) !== 0) return false;
  try {
    bufferSlice.call(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Whether `value` is a real ArrayBuffer (not a Proxy or look-alike); throws nothing on the common paths. */
function isArrayBuffer(value) {
  if (!(value instanceof ArrayBuffer) && Object.prototype.toString.call(value) !== '[object ArrayBuffer]') return false;
  try {
    bufferLength.call(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether `value` is a real SharedArrayBuffer. */
function isShared(value) {
  if (!sharedLength || !(value instanceof Shared)) return false;
  try {
    sharedLength.call(value);
    return true;
  } catch {
    return false;
  }
}

function typeName(value) {
  try {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === 'string' && name ? name : 'typed array';
  } catch {
    return 'typed array';
  }
}

const DETACHED = (what) => `the ${what} is over a detached ArrayBuffer (it was transferred, e.g. by postMessage, ` +
  'structuredClone with transfer or ArrayBuffer.prototype.transfer); pass bytes that are still attached, or copy ' +
  'them before transferring';
const OUT_OF_BOUNDS = (what) => `the ${what} lies outside its resizable ArrayBuffer, which shrank under it; pass a ` +
  'view that fits its buffer';

/**
 * Sorts out a byte input: `[1, Uint8Array]` for bytes (a fresh copy when `copy` is true, or when the buffer is
 * resizable or shared, which fetch refuses and which may change under us), `[4, message]` for bytes that cannot be
 * read (detached, out of bounds, a Proxy posing as a typed array), `[0]` for anything that is not bytes.
 */
export function byteInput(value, copy) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [0];
  let what = 'ArrayBuffer';
  try {
    let buffer;
    let offset = 0;
    let length;
    if (ArrayBuffer.isView(value)) {
      // The common case first, and without exceptions: they cost more than the whole check.
      if (value instanceof DataView) {
        what = 'DataView';
        buffer = viewBuffer.call(value);
        if (!isShared(buffer) && isDetached(buffer)) return [4, DETACHED(what)];
        try {
          offset = viewOffset.call(value);
          length = viewLength.call(value);
        } catch {
          return [4, OUT_OF_BOUNDS(what)];
        }
      } else {
        what = typeName(value);
        buffer = typedBuffer.call(value);
        if (!isShared(buffer) && isDetached(buffer)) return [4, DETACHED(what)];
        if (bufferResizable && !isShared(buffer) && bufferResizable.call(buffer)) {
          try {
            // Validates the view: it throws when the view is outside its (shrunk) buffer.
            typedSlice.call(value, 0, 0);
          } catch {
            return [4, OUT_OF_BOUNDS(what)];
          }
        }
        offset = typedOffset.call(value);
        length = typedLength.call(value);
      }
    } else if (isArrayBuffer(value)) {
      buffer = value;
      if (isDetached(buffer)) return [4, DETACHED(what)];
      length = bufferLength.call(buffer);
    } else if (isShared(value)) {
      buffer = value;
      what = 'SharedArrayBuffer';
      length = sharedLength.call(buffer);
    } else if (value instanceof ArrayBuffer || value instanceof TypedArray.constructor || value instanceof DataView) {
      return [4, 'the value poses as a byte array (a Proxy or a look-alike object) but is none; pass a real ' +
        'Uint8Array, ArrayBuffer or typed array view'];
    } else {
      return [0];
    }
    const shared = isShared(buffer);
    const resizable = !shared && bufferResizable ? bufferResizable.call(buffer) : false;
    const view = new Uint8Array(buffer, offset, length);
    return [1, copy || shared || resizable ? view.slice() : view];
  } catch (e) {
    // A revoked Proxy throws on every look; it is no byte array either way.
    return ArrayBuffer.isView(value) ? [4, `the ${what} cannot be read (${e?.message ?? e})`] : [0];
  }
}

/**
 * Sorts out an append input: `[1, Uint8Array]`, `[2, Blob]`, `[3, reader]` for a ReadableStream (its reader, taken
 * here), `[4, message]` for a value that cannot be used, `[0]` for anything else.
 */
export function appendInput(value) {
  const bytes = byteInput(value, false);
  if (bytes[0] !== 0) return bytes;
  try {
    if (blobSize && value instanceof Blob) {
      try {
        blobSize.call(value);
      } catch {
        return [4, 'the value poses as a Blob (a Proxy or a look-alike object) but is none; pass a real Blob or File'];
      }
      return [2, value];
    }
    if (streamLocked && value instanceof ReadableStream) {
      let locked;
      try {
        locked = streamLocked.call(value);
      } catch {
        return [4, 'the value poses as a ReadableStream (a Proxy or a look-alike object) but is none; pass a real ' +
          'ReadableStream'];
      }
      if (locked) return [4, 'the ReadableStream is locked by another reader; pass an unread stream'];
      return [3, ReadableStream.prototype.getReader.call(value)];
    }
  } catch (e) {
    return [4, `the input cannot be read (${e?.message ?? e})`];
  }
  return [0];
}

/** A view of `bytes[start, end)`, or undefined when its buffer went away (detached or shrunk) meanwhile. */
export function subView(bytes, start, end) {
  try {
    const length = typedLength.call(bytes);
    if (end > length || start > end) return undefined;
    return new Uint8Array(typedBuffer.call(bytes), typedOffset.call(bytes) + start, end - start);
  } catch {
    return undefined;
  }
}

/** The length of a Uint8Array as a number (exact above 4 GiB, where a 32-bit length would wrap). */
export function byteLength(bytes) {
  try {
    return typedLength.call(bytes);
  } catch {
    return 0;
  }
}

/** Marks a promise's rejection as handled: Node ends the process on an unhandled rejection. */
export function quiet(promise) {
  try {
    Promise.resolve(promise).catch(() => {});
  } catch {
    // Nothing to quiet.
  }
}

/**
 * The own enumerable `[name, value]` pairs of `object`, at most `max` of them: `[true, pairs]`, or `[false, message]`
 * when reading them throws (a Proxy trap, a getter) or there are more than `max`.
 */
export function entries(object, max) {
  try {
    if (Array.isArray(object)) return [false, 'expected a plain object of names to values, got an Array'];
    const keys = Object.keys(object);
    if (keys.length > max) return [false, `${keys.length} entries are given; at most ${max} are accepted`];
    return [true, keys.map((k) => [k, object[k]])];
  } catch (e) {
    return [false, `reading it threw: ${e?.message ?? e}`];
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts, whichever comes first. */
export function pause(ms, signal) {
  return new Promise((resolve) => {
    let aborted = false;
    try {
      aborted = signal?.aborted === true;
    } catch {
      // A signal that cannot be read does not cut the wait short.
    }
    if (aborted) {
      resolve();
      return;
    }
    let timer;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** Whether `value` is a real AbortSignal (a Proxy of one passes instanceof, then throws on every use). */
export function isSignal(value) {
  try {
    signalAborted.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * `promise`'s value, unless `timeoutMs` (when given) passes or `signal` fires first: for promises that may never
 * settle (a stream that never yields, a stalled file read, the caller's refreshSTSToken). Rejects with
 * `{ timedOut: true }`, `{ aborted: true }` or, when `promise` rejects, `{ error }`; a promise left behind may still
 * reject later, and that rejection is handled here.
 */
export function within(promise, timeoutMs, signal) {
  return new Promise((resolve, reject) => {
    let timer;
    const end = (settle, value) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle(value);
    };
    const onAbort = () => end(reject, { aborted: true });
    promise.then((value) => end(resolve, value), (error) => end(reject, { error }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    if (timeoutMs !== undefined) timer = setTimeout(() => end(reject, { timedOut: true }), timeoutMs);
  });
}
