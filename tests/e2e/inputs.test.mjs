// Every input form `append` accepts in Node, appended twice (the second at `nextAppendPosition`) and read back
// byte-identical through an independent reader, with the returned whole-object CRC-64 checked; then inputs larger
// than `partSize`, which must go out as several sequential appends with progress that never goes backwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, refCrc64, rejects, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 30_000 };

let OSS;
let crc64;
let emu;
let client;
let dir;

before(async () => {
  ({ default: OSS, crc64 } = await loadEsm());
  emu = await startEmulator();
  client = new OSS(emu.clientOptions());
  dir = mkdtempSync(join(tmpdir(), 'oss-e2e-inputs-'));
});
after(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Splits `bytes` into chunks of irregular sizes, as a network or a file stream delivers them. */
function chunks(bytes) {
  const out = [];
  const sizes = [1, 1000, 65536, 7, 16384];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

function webStream(bytes) {
  const parts = chunks(bytes);
  return new ReadableStream({
    pull(controller) {
      const next = parts.shift();
      if (next) controller.enqueue(new Uint8Array(next)); // a copy, as a network stream hands out fresh chunks
      else controller.close();
    },
  });
}

let files = 0;
function filePath(bytes) {
  const p = join(dir, `input-${files++}.bin`);
  writeFileSync(p, bytes);
  return p;
}

/** Each form, as a function from the bytes to the input. */
const FORMS = {
  'Blob': (b) => new Blob([b]),
  'File': (b) => new File([b], 'input.bin', { type: 'application/octet-stream' }),
  'Uint8Array': (b) => new Uint8Array(b),
  'Uint8Array view with an offset': (b) => {
    const big = new Uint8Array(b.length + 96);
    big.set(b, 40);
    return big.subarray(40, 40 + b.length);
  },
  'ArrayBuffer': (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength),
  'DataView with an offset': (b) => {
    const big = new Uint8Array(b.length + 13);
    big.set(b, 5);
    return new DataView(big.buffer, 5, b.length);
  },
  'Buffer': (b) => Buffer.from(b),
  'ReadableStream': (b) => webStream(b),
  'file path': (b) => filePath(b),
  'Node Readable (Readable.from)': (b) => Readable.from(chunks(Buffer.from(b))),
  'Node Readable (fs.createReadStream)': async (b) => (await import('node:fs')).createReadStream(filePath(b)),
};

describe('every input form, appended twice and read back', () => {
  for (const [form, make] of Object.entries(FORMS)) {
    test(`${form} is appended twice and read back`, T, async () => {
      const key = uniqueKey(`input-${form.replace(/\W+/g, '-')}`);
      const part1 = payload(70_001, `${form}-1`);
      const part2 = payload(12_345, `${form}-2`);
      const whole = Buffer.concat([part1, part2]);

      const r1 = await client.append(key, await make(part1));
      assert.equal(r1.nextAppendPosition, String(part1.length));
      assert.equal(r1.crc64, refCrc64(part1));

      const r2 = await client.append(key, await make(part2), { position: r1.nextAppendPosition });
      assert.equal(r2.nextAppendPosition, String(whole.length));
      assert.equal(r2.crc64, crc64(whole), 'r.crc64 is the CRC-64 of the whole object');
      assert.equal(r2.crc64, refCrc64(whole));
      await assertStored(emu, key, whole);
    });
  }
});

describe('inputs larger than partSize', () => {
  const PART = 64 << 10;
  const SIZE = 5 * PART + 777; // 6 appends
  const LARGE = {
    'Blob': (b) => new Blob([b]),
    'Uint8Array': (b) => new Uint8Array(b),
    'ReadableStream': (b) => webStream(b),
    'file path': (b) => filePath(b),
    'Node Readable': (b) => Readable.from(chunks(Buffer.from(b))),
  };
  for (const [form, make] of Object.entries(LARGE)) {
    test(`${form}: ${SIZE} bytes with partSize ${PART} go out as 6 ordered appends`, T, async () => {
      const key = uniqueKey(`parts-${form.replace(/\W+/g, '-')}`);
      const data = payload(SIZE, `parts-${form}`);
      const seen = [];
      const r = await client.append(key, await make(data), {
        partSize: PART,
        progress: (p, info) => seen.push({ p, ...info }),
      });
      assert.equal(r.nextAppendPosition, String(SIZE));
      assert.equal(r.crc64, refCrc64(data));
      await assertStored(emu, key, data);

      const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
      assert.deepEqual(appends.map((e) => [e.position, e.status]),
        [0, 1, 2, 3, 4, 5].map((i) => [String(i * PART), 200]), 'one append per part, in order');

      assert.ok(seen.length >= 1, 'progress was called');
      for (let i = 0; i < seen.length; i++) {
        const { p, loaded } = seen[i];
        assert.ok(p >= 0 && p <= 1, `progress ${p} in [0, 1]`);
        if (i > 0) {
          assert.ok(p >= seen[i - 1].p, `progress never goes backwards (${seen[i - 1].p} → ${p})`);
          assert.ok(loaded >= seen[i - 1].loaded, 'loaded never goes backwards');
        }
      }
      const last = seen.at(-1);
      assert.equal(last.p, 1);
      assert.equal(Number(last.loaded), SIZE);
      assert.equal(String(last.position), String(SIZE));
    });
  }

  test('Blob parts are read all the same where Blob streams are not byte streams', T, async () => {
    // Parts are read through a BYOB reader where the runtime offers one; a plain stream must fall back to a
    // whole read, not fail (getReader({ mode: 'byob' }) throws on it).
    const original = Blob.prototype.stream;
    let streams = 0;
    Blob.prototype.stream = function plainStream() {
      streams++;
      const blob = this;
      return new ReadableStream({
        async start(controller) {
          controller.enqueue(new Uint8Array(await blob.arrayBuffer()));
          controller.close();
        },
      });
    };
    try {
      const key = uniqueKey('parts-plain-blob-stream');
      const data = payload(SIZE, 'parts-plain-blob-stream');
      const r = await client.append(key, new Blob([data]), { partSize: PART });
      assert.equal(r.nextAppendPosition, String(SIZE));
      assert.equal(r.crc64, refCrc64(data));
      await assertStored(emu, key, data);
      assert.ok(streams >= 6, `each of the 6 parts asked for a stream first (${streams} streams)`);
    } finally {
      Blob.prototype.stream = original;
    }
  });

  test('an abort while a Blob part is being read settles the append at once; nothing is sent', T, async () => {
    // A File on a slow or stalled disk (a network share, a removed drive): its reads never finish.
    const { stream, arrayBuffer } = Blob.prototype;
    Blob.prototype.stream = () => { throw new TypeError('no streams here'); };
    Blob.prototype.arrayBuffer = () => new Promise(() => {});
    try {
      const key = uniqueKey('blob-read-abort');
      const controller = new AbortController();
      const pending = client.append(key, new Blob([payload(1000, 'stalled')]), { signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      const t0 = Date.now();
      await rejects(pending, { name: 'AbortError' });
      assert.ok(Date.now() - t0 < 2_000, `settled ${Date.now() - t0} ms after the abort was scheduled`);
      assert.equal(await emu.object(key), null);
    } finally {
      Object.assign(Blob.prototype, { stream, arrayBuffer });
    }
  });

  test('a Blob part whose read never finishes fails the append within the request timeout; nothing is sent', T,
    async () => {
      const { stream, arrayBuffer } = Blob.prototype;
      Blob.prototype.stream = () => { throw new TypeError('no streams here'); };
      Blob.prototype.arrayBuffer = () => new Promise(() => {});
      try {
        const key = uniqueKey('blob-read-timeout');
        const t0 = Date.now();
        await rejects(new OSS(emu.clientOptions({ timeout: 300 })).append(key, new Blob([payload(1000, 'stalled')])),
          { name: 'RequestError', message: /reading the input did not finish within 300 ms/ });
        assert.ok(Date.now() - t0 < 3_000, `settled after ${Date.now() - t0} ms`);
        assert.equal(await emu.object(key), null);
        // The next call with readable input works as before.
        Object.assign(Blob.prototype, { stream, arrayBuffer });
        const r = await client.append(key, new Blob([payload(1000, 'fine')]));
        assert.equal(r.nextAppendPosition, '1000');
      } finally {
        Object.assign(Blob.prototype, { stream, arrayBuffer });
      }
    });
});
