// Headless Chromium: a page served from another origin than the emulator imports the package's browser entry
// (web.js, no init step), appends a File and a Blob cross-origin and reads them back; a bucket whose CORS rule hides
// the append headers gives MissingExposedHeaderError instead of `undefined`; a dedicated module Worker appends too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, openTestPage, startBrowserSuite } from './helpers/browser.mjs';
import { assertStored, refCrc64, uniqueKey, userMeta } from './helpers/util.mjs';
import { pattern } from './pages/common.js';

const T = { timeout: 60_000 };

let browser;
let site;
let emu;
let hidden; // an emulator whose CORS rule exposes no headers
before(async () => {
  ({ browser, site } = await startBrowserSuite());
  emu = await startEmulator();
  hidden = await startEmulator({ corsExpose: 'none' });
});
after(async () => {
  await closeBrowserSuite(browser, site);
  await emu?.stop();
  await hidden?.stop();
});

/** Opens the test page and waits for the package to load; asserts it loaded from another origin than `emu`. */
async function ready(target = emu) {
  const { page, problems } = await openTestPage(browser, `${site.origin}/index.html`);
  assert.notEqual(new URL(site.origin).origin, new URL(target.url).origin, 'the page is cross-origin');
  return { page, problems };
}

describe('headless Chromium', () => {
  test('web.js loads with no init step; the .wasm is served as application/wasm', T, async () => {
    const { page, problems } = await ready();
    const info = await page.evaluate(() => {
      const m = window.ossAppend;
      return {
        defaultIsOSS: m.default === m.OSS,
        crc: m.crc64(new TextEncoder().encode('123456789')),
        helpers: ['crc64', 'Crc64', 'combineCrc64'].every((k) => typeof m[k] === 'function'),
      };
    });
    assert.deepEqual(info, { defaultIsOSS: true, crc: '11051210869376104954', helpers: true });
    const wasm = await fetch(`${site.origin}/pkg/oss_append_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.ok((await wasm.arrayBuffer()).byteLength > 1000);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('appends a File, then a Blob, cross-origin; reads them back byte-identical with the CRC verified', T,
    async () => {
      const { page, problems } = await ready();
      const key = uniqueKey('browser', 'take one.webm');
      const sizes = [70_000, 33_333];
      const out = await page.evaluate(async ({ options, key, sizes }) => {
        const { default: OSS, crc64 } = window.ossAppend;
        const { pattern, resultFields, errorFields } = window.testCommon;
        try {
          const client = new OSS(options);
          const a = pattern(sizes[0], 1);
          const b = pattern(sizes[1], 2);
          const file = new File([a], 'take one.webm', { type: 'video/webm' });
          const r1 = await client.append(key, file, { meta: { source: 'browser' } });
          const r2 = await client.append(key, new Blob([b]), { position: r1.nextAppendPosition });
          const whole = new Uint8Array(a.length + b.length);
          whole.set(a);
          whole.set(b, a.length);
          const got = await client.get(key);
          const content = new Uint8Array(got.content);
          const head = await client.head(key);
          return {
            r1: resultFields(r1),
            r2: resultFields(r2),
            expectedCrc: crc64(whole),
            readBackEqual: content.length === whole.length && content.every((x, i) => x === whole[i]),
            head: { objectType: head.objectType, nextAppendPosition: head.nextAppendPosition, crc64: head.crc64 },
          };
        } catch (err) {
          return { error: errorFields(err) };
        }
      }, { options: emu.clientOptions(), key, sizes });
      assert.equal(out.error, undefined, JSON.stringify(out.error));

      const whole = Buffer.concat([Buffer.from(pattern(sizes[0], 1)), Buffer.from(pattern(sizes[1], 2))]);
      assert.equal(out.r1.nextAppendPosition, String(sizes[0]));
      assert.equal(out.r1.crc64, refCrc64(whole.subarray(0, sizes[0])));
      assert.equal(out.r2.nextAppendPosition, String(whole.length));
      assert.equal(out.r2.crc64, refCrc64(whole));
      assert.equal(out.expectedCrc, out.r2.crc64);
      assert.deepEqual(out.r2.keys, ['crc64', 'name', 'nextAppendPosition', 'res', 'url']);
      assert.equal(out.r2.name, key);
      assert.equal(out.readBackEqual, true);
      assert.deepEqual(out.head, { objectType: 'Appendable', nextAppendPosition: String(whole.length), crc64: refCrc64(whole) });

      const stored = await assertStored(emu, key, whole);
      assert.equal(stored.content_type, 'video/webm');
      assert.deepEqual(userMeta(stored), { source: 'browser' });
      assert.deepEqual(stored.headers, { 'x-oss-meta-source': 'browser' }, 'no creation header the page did not ask for');
      assert.deepEqual(problems, []);
      await page.close();
    });

  test('a ReadableStream and a Uint8Array in parts (partSize) from the page', T, async () => {
    const { page, problems } = await ready();
    const key = uniqueKey('browser-stream');
    const out = await page.evaluate(async ({ options, key }) => {
      const { default: OSS } = window.ossAppend;
      const { pattern, errorFields } = window.testCommon;
      try {
        const client = new OSS(options);
        const a = pattern(50_000, 3);
        let at = 0;
        const stream = new ReadableStream({
          pull(c) {
            if (at >= a.length) { c.close(); return; }
            c.enqueue(a.slice(at, at + 7_000));
            at += 7_000;
          },
        });
        const r1 = await client.append(key, stream, { partSize: 16 << 10 });
        const r2 = await client.append(key, pattern(20_000, 4), { position: r1.nextAppendPosition, partSize: 8 << 10 });
        return { p1: r1.nextAppendPosition, p2: r2.nextAppendPosition, crc: r2.crc64 };
      } catch (err) {
        return { error: errorFields(err) };
      }
    }, { options: emu.clientOptions(), key });
    assert.equal(out.error, undefined, JSON.stringify(out.error));
    const whole = Buffer.concat([Buffer.from(pattern(50_000, 3)), Buffer.from(pattern(20_000, 4))]);
    assert.deepEqual(out, { p1: '50000', p2: '70000', crc: refCrc64(whole) });
    await assertStored(emu, key, whole);
    const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
    assert.equal(appends.length, 4 + 3, 'ceil(50000/16384) + ceil(20000/8192) appends');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('CORS exposes no headers: MissingExposedHeaderError naming the headers, not undefined', T, async () => {
    const { page } = await ready(hidden);
    const key = uniqueKey('cors-hidden');
    const out = await page.evaluate(async ({ options, key }) => {
      const { default: OSS } = window.ossAppend;
      const { errorFields } = window.testCommon;
      try {
        const r = await new OSS(options).append(key, new Blob(['hidden headers']));
        return { resolved: { nextAppendPosition: String(r.nextAppendPosition), crc64: String(r.crc64) } };
      } catch (err) {
        return { error: errorFields(err) };
      }
    }, { options: hidden.clientOptions(), key });
    assert.equal(out.resolved, undefined, `must reject, resolved ${JSON.stringify(out.resolved)}`);
    assert.equal(out.error.name, 'MissingExposedHeaderError');
    assert.equal(out.error.code, 'MissingExposedHeader');
    assert.match(out.error.message, /x-oss-next-append-position/);
    assert.match(out.error.message, /x-oss-hash-crc64ecma/);
    assert.match(out.error.message, /ExposeHeader|expose/i);
    // the emulator did get the bytes; only the browser could not read the answer
    await assertStored(hidden, key, Buffer.from('hidden headers'));
    await page.close();
  });

  test('a dedicated module Worker appends a Blob and a Uint8Array and reads them back', T, async () => {
    const { page, problems } = await ready();
    const key = uniqueKey('worker', 'worker.bin');
    const sizes = [40_000, 1, 25_000];
    const out = await page.evaluate(({ options, key, sizes }) => new Promise((resolve) => {
      const worker = new Worker('/worker.js', { type: 'module' });
      const timer = setTimeout(() => { worker.terminate(); resolve({ ok: false, error: 'worker timed out' }); }, 40_000);
      worker.onerror = (e) => { clearTimeout(timer); worker.terminate(); resolve({ ok: false, error: `worker error: ${e.message}` }); };
      worker.onmessage = ({ data }) => {
        if (data.ready) {
          worker.postMessage({ options, key, sizes, seed: 10 });
          return;
        }
        clearTimeout(timer);
        worker.terminate();
        resolve(data);
      };
    }), { options: emu.clientOptions(), key, sizes });
    assert.equal(out.ok, true, JSON.stringify(out.error));
    assert.equal(out.inWorker, true);
    const whole = Buffer.concat(sizes.map((n, i) => Buffer.from(pattern(n, 10 + i))));
    assert.deepEqual(out.results.map((r) => r.nextAppendPosition), ['40000', '40001', '65001']);
    assert.equal(out.results.at(-1).crc64, refCrc64(whole));
    assert.equal(out.expectedCrc, refCrc64(whole));
    assert.equal(out.readBackEqual, true);
    await assertStored(emu, key, whole);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
