// The plain objects the client hands back, in ali-oss's shapes, each built in one call from wasm.

/** ali-oss's `res`; `statusCode` too, as urllib's response has it. */
export function res(status, headers, size, rt, requestUrls) {
  return { status, statusCode: status, headers, size, rt, requestUrls };
}

/** What `append` resolves to; `versionId` only on a versioned bucket. */
export function appendResult(name, url, res, nextAppendPosition, crc64, versionId) {
  const result = { name, url, res, nextAppendPosition, crc64 };
  if (versionId !== undefined) result.versionId = versionId;
  return result;
}

/** The second argument of a `progress` callback; `total` is null for streams. */
export function progressInfo(loaded, total, position) {
  return { loaded, total, position };
}

/** An error's `params`: what was asked, never the body. */
export function params(method, bucket, object, position) {
  const p = { method, bucket, object };
  if (position !== undefined) p.position = position;
  return p;
}
