// A dedicated module Worker that appends with the package's browser entry.
import OSS, { crc64 } from '/pkg/web.js';
import { errorFields, pattern, resultFields } from '/common.js';

self.onmessage = async ({ data: { options, key, sizes, seed } }) => {
  try {
    const client = new OSS(options);
    const parts = sizes.map((n, i) => pattern(n, seed + i));
    const results = [];
    let position = 0;
    for (const [i, part] of parts.entries()) {
      const input = i % 2 === 0 ? new Blob([part]) : part;
      const r = await client.append(key, input, { position });
      results.push(resultFields(r));
      position = r.nextAppendPosition;
    }
    const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { whole.set(p, at); at += p.length; }
    const got = await client.get(key);
    const content = new Uint8Array(got.content);
    self.postMessage({
      ok: true,
      results,
      expectedCrc: crc64(whole),
      readBackEqual: content.length === whole.length && content.every((b, i) => b === whole[i]),
      inWorker: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope,
    });
  } catch (err) {
    self.postMessage({ ok: false, error: errorFields(err) });
  }
};
self.postMessage({ ready: true });
