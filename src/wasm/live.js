// What a live appender needs from its runtime, as plain functions: wasm-bindgen would otherwise build some of
// these with `new Function`, which a Content-Security-Policy without 'unsafe-eval' forbids.

/** Marks a promise's rejection as handled (Node ends the process on unhandled rejections). */
export function ignoreRejection(promise) {
  promise.catch(() => {});
}

/** The runtime's hint that it is online: `navigator.onLine`, true where there is none (Node). */
export function isOnline() {
  return globalThis.navigator?.onLine !== false;
}

/** Calls `callback` on the global `online` event (windows and workers); resolves a function that stops it. */
export function watchOnline(callback) {
  if (typeof globalThis.addEventListener !== 'function') return () => {};
  globalThis.addEventListener('online', callback);
  return () => globalThis.removeEventListener('online', callback);
}

/** Calls `callback` once when `signal` aborts; resolves a function that stops it. */
export function watchAbort(signal, callback) {
  signal.addEventListener('abort', callback, { once: true });
  return () => signal.removeEventListener('abort', callback);
}

/** One Blob of byte arrays and Blobs, in order: an error's `unsent`. */
export function blobOf(parts) {
  return new Blob(parts);
}

/** What `onRetry` receives. */
export function retryInfo(attempt, delayMs, error, buffered) {
  return { attempt, delayMs, error, buffered };
}

/** What `close()` resolves to. */
export function closedResult(name, nextAppendPosition, crc64) {
  return { name, nextAppendPosition, crc64 };
}
