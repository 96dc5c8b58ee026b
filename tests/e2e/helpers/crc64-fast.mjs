// CRC-64/XZ in plain JS, slicing-by-8, for the large streaming suites (helpers/util.mjs's byte-at-a-time refCrc64 runs
// at ~100 MB/s; this one several times faster). Independent of the package under test; checked against refCrc64 at
// load. Also an incremental form, so that a large input can be hashed as it is generated.
import { seededBytes } from '../pages/rng.js';
import { CRC64_TABLE_HI, CRC64_TABLE_LO, refCrc64 } from './util.mjs';

// One table, halves interleaved: T[(k << 9) | (b << 1)] is the low half of the CRC of byte b followed by k zero
// bytes, the next entry its high half (a single typed array keeps V8's loop tight). Row 0 is util.mjs's table.
const T = new Uint32Array(8 * 512);
for (let i = 0; i < 256; i++) {
  T[i << 1] = CRC64_TABLE_LO[i];
  T[(i << 1) | 1] = CRC64_TABLE_HI[i];
}
for (let k = 1; k < 8; k++) {
  for (let i = 0; i < 256; i++) {
    const lo = T[((k - 1) << 9) | (i << 1)];
    const hi = T[((k - 1) << 9) | (i << 1) | 1];
    const idx = (lo & 0xff) << 1;
    T[(k << 9) | (i << 1)] = ((lo >>> 8) | (hi << 24)) ^ T[idx];
    T[(k << 9) | (i << 1) | 1] = (hi >>> 8) ^ T[idx | 1];
  }
}

/** Streaming CRC-64/XZ: update(bytes)..., digest() → decimal string. */
export class FastCrc64 {
  constructor() {
    // the running register, already inverted (init all ones)
    this.hi = -1;
    this.lo = -1;
  }

  update(bytes) {
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const n = bytes.length;
    while (i < n && (bytes.byteOffset + i) % 4 !== 0) {
      const idx = ((lo ^ bytes[i++]) & 0xff) << 1;
      lo = ((lo >>> 8) | (hi << 24)) ^ T[idx];
      hi = (hi >>> 8) ^ T[idx | 1];
    }
    const words = Math.floor((n - i) / 8) * 2;
    if (words > 0) {
      const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
      for (let j = 0; j < words; j += 2) {
        const a = w[j] ^ lo;
        const b = w[j + 1] ^ hi;
        const i7 = (7 << 9) | ((a & 0xff) << 1);
        const i6 = (6 << 9) | (((a >>> 8) & 0xff) << 1);
        const i5 = (5 << 9) | (((a >>> 16) & 0xff) << 1);
        const i4 = (4 << 9) | ((a >>> 24) << 1);
        const i3 = (3 << 9) | ((b & 0xff) << 1);
        const i2 = (2 << 9) | (((b >>> 8) & 0xff) << 1);
        const i1 = (1 << 9) | (((b >>> 16) & 0xff) << 1);
        const i0 = (b >>> 24) << 1;
        lo = T[i7] ^ T[i6] ^ T[i5] ^ T[i4] ^ T[i3] ^ T[i2] ^ T[i1] ^ T[i0];
        hi = T[i7 | 1] ^ T[i6 | 1] ^ T[i5 | 1] ^ T[i4 | 1] ^ T[i3 | 1] ^ T[i2 | 1] ^ T[i1 | 1] ^ T[i0 | 1];
      }
      i += words * 4;
    }
    while (i < n) {
      const idx = ((lo ^ bytes[i++]) & 0xff) << 1;
      lo = ((lo >>> 8) | (hi << 24)) ^ T[idx];
      hi = (hi >>> 8) ^ T[idx | 1];
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest() {
    return ((BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0)).toString();
  }
}

/** CRC-64/XZ of `bytes`, a decimal string. */
export function fastCrc64(bytes) {
  return new FastCrc64().update(bytes).digest();
}

{
  const sample = seededBytes(1031, 'crc64-fast');
  for (const [from, to] of [[0, 1031], [1, 1030], [3, 20], [5, 5], [0, 8]]) {
    const part = sample.subarray(from, to);
    const split = new FastCrc64().update(part.subarray(0, 3)).update(part.subarray(3)).digest();
    if (fastCrc64(part) !== refCrc64(part) || split !== refCrc64(part)) {
      throw new Error('helpers/crc64-fast.mjs disagrees with refCrc64');
    }
  }
}
