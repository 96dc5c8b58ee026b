// The one seeded generator of the JS test suites: randomized plans, fault schedules, hostile inputs and test data all
// draw from it, with the same sequence in Node and in every browser engine, so that a seed replays a run. It lives
// with the test pages because the pages import it too; tests/interop imports it from here.

/** splitmix32: spreads a 32-bit seed over a sequence, to fill the generator's state. */
function splitmix32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units of `text`: a label such as 'ali-a' as a 32-bit seed. */
function seedOfText(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function rotl(x, k) { return ((x << k) | (x >>> (32 - k))) >>> 0; }

/** xoshiro128** seeded through splitmix32; the seed is a 32-bit number or a label. */
export class Rng {
  constructor(seed) {
    const sm = splitmix32(typeof seed === 'string' ? seedOfText(seed) : seed);
    this.s = [sm(), sm(), sm(), sm()];
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }

  u32() {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1). */
  float() { return this.u32() / 4294967296; }

  /** An integer in [lo, hi]. */
  int(lo, hi) { return lo + Math.floor(this.float() * (hi - lo + 1)); }

  /** An integer in [lo, hi], log-uniform: tiny and huge values alike. */
  logInt(lo, hi) {
    const v = Math.floor(Math.exp(Math.log(lo) + this.float() * (Math.log(hi + 1) - Math.log(lo))));
    return Math.min(hi, Math.max(lo, v));
  }

  pick(items) { return items[Math.floor(this.float() * items.length)]; }

  /** One of `entries` ([value, weight] pairs) by weight. */
  weighted(entries) {
    const total = entries.reduce((n, [, w]) => n + w, 0);
    let x = this.float() * total;
    for (const [value, w] of entries) {
      if ((x -= w) < 0) return value;
    }
    return entries.at(-1)[0];
  }

  /** Fills `words` (a Uint32Array) with the next values, as u32() would; returns it. */
  fillWords(words) {
    // u32() with the state in locals: the streaming suites generate hundreds of MiB through here.
    let [s0, s1, s2, s3] = this.s;
    for (let i = 0; i < words.length; i++) {
      const x = Math.imul(s1, 5);
      words[i] = Math.imul((x << 7) | (x >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    this.s = [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0];
    return words;
  }

  /** The next `n` bytes, a fresh Uint8Array whose buffer holds exactly them. */
  bytes(n) {
    const words = this.fillWords(new Uint32Array(Math.ceil(n / 4)));
    return n % 4 === 0 ? new Uint8Array(words.buffer) : new Uint8Array(words.buffer, 0, n).slice();
  }
}

/** `n` bytes of the generator seeded with `seed` (a number or a label): test data covering the whole byte range. */
export function seededBytes(n, seed) {
  return new Rng(seed).bytes(n);
}
