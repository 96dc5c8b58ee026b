// Shared by the test pages, the module Worker and the Node side of browser.test.mjs.
import { seededBytes } from './rng.js';

/** `n` deterministic bytes from `seed`, covering the whole byte range. */
export function pattern(n, seed) {
  return seededBytes(n, seed);
}

/** The fields of an error worth comparing, as plain data (errors do not survive structured cloning whole). */
export function errorFields(err) {
  if (!(err instanceof Error)) return { notAnError: String(err) };
  const out = { isError: true, message: err.message };
  for (const k of ['name', 'code', 'status', 'requestId', 'nextAppendPosition', 'crc64', 'missingHeaders']) {
    if (err[k] !== undefined) out[k] = err[k];
  }
  return out;
}

/** The parts of an append result worth comparing, as plain data. */
export function resultFields(r) {
  return {
    keys: Object.keys(r).sort(),
    name: r.name,
    url: r.url,
    nextAppendPosition: r.nextAppendPosition,
    crc64: r.crc64,
    status: r.res?.status,
    resKeys: Object.keys(r.res ?? {}).sort(),
  };
}
