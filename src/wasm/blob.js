// Reads Blob parts for their CRC into one reused buffer: a buffer per part leaves the garbage collector a trail of
// part-sized ArrayBuffers, which V8 frees late (Chromium's renderer peaked 20 parts above its start on 1 GiB).

// Readers with a read in flight. Only the runtime's file loader refers to a pending Blob stream read; a garbage
// collection in the middle of one (seen at a forced collection in Chromium) can take the whole chain with it, and
// the read's promise then never settles. Held here until it does.
const reading = new Set();

/**
 * The bytes of `blob` in a view over `scratch` (an ArrayBuffer from the previous call, or undefined), or over a
 * new buffer when `scratch` is too small. `scratch` is transferred: use the returned view's buffer next time.
 */
export async function readBlob(blob, scratch) {
  const size = blob.size;
  let buffer = scratch instanceof ArrayBuffer && scratch.byteLength >= size ? scratch : new ArrayBuffer(size);
  let reader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {
    // A runtime whose Blob streams are not byte streams.
    return new Uint8Array(await blob.arrayBuffer());
  }
  let filled = 0;
  reading.add(reader);
  try {
    while (filled < size) {
      const { done, value } = await reader.read(new Uint8Array(buffer, filled, size - filled));
      if (done) break;
      buffer = value.buffer;
      filled += value.byteLength;
    }
  } finally {
    reading.delete(reader);
    reader.releaseLock();
  }
  if (filled !== size) throw new Error(`the Blob gave ${filled} of its ${size} bytes`);
  return new Uint8Array(buffer, 0, size);
}
