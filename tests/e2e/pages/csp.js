// Runs on a page served with `Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'` (no 'unsafe-eval'):
// append, openAppender with writes, appender.writable and a module Worker, each reported on window.cspResult.
// The test page reads the settings from its own URL (?options=<json>&key=<prefix>).
import OSS from '/pkg/web.js';
import { errorFields, pattern } from '/common.js';

const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective}: ${e.blockedURI}`));

async function run() {
  const params = new URL(location.href).searchParams;
  const options = JSON.parse(params.get('options'));
  const prefix = params.get('key');
  const client = new OSS(options);
  const out = {};
  const step = async (name, fn) => {
    try {
      out[name] = { ok: true, ...(await fn()) };
    } catch (err) {
      out[name] = { ok: false, error: errorFields(err) };
    }
  };
  await step('append', async () => {
    const r = await client.append(`${prefix}/append.bin`, pattern(70_000, 1));
    return { nextAppendPosition: r.nextAppendPosition, crc64: r.crc64 };
  });
  await step('openAppender', async () => {
    const w = await client.openAppender(`${prefix}/appender.bin`, { minPartSize: 0 });
    const writes = [pattern(1000, 2), new Blob([pattern(2000, 3)])].map((c) => w.write(c));
    const r = await w.close();
    await Promise.all(writes);
    return { nextAppendPosition: r.nextAppendPosition, crc64: r.crc64, state: w.state };
  });
  await step('writable', async () => {
    const w = await client.openAppender(`${prefix}/writable.bin`, { minPartSize: 0 });
    const chunks = [pattern(3000, 4), pattern(4000, 5)];
    await new ReadableStream({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    }).pipeTo(w.writable);
    return { nextAppendPosition: w.position, crc64: w.crc64 };
  });
  await step('worker', () => new Promise((resolve, reject) => {
    const worker = new Worker('/worker.js', { type: 'module' });
    worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
    worker.onmessage = ({ data }) => {
      if (data.ready) {
        worker.postMessage({ options, key: `${prefix}/worker.bin`, sizes: [5000, 6000], seed: 6 });
        return;
      }
      worker.terminate();
      if (data.ok) resolve({ nextAppendPosition: data.results.at(-1).nextAppendPosition, crc64: data.results.at(-1).crc64 });
      else reject(new Error(JSON.stringify(data.error)));
    };
  }));
  return out;
}

run().then(
  (out) => { window.cspResult = { out, violations }; },
  (err) => { window.cspResult = { failed: String(err && err.stack || err), violations }; },
);
