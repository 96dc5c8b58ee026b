// Headless Chromium, where detaching takes another path (ArrayBuffer.prototype.transfer and .detached), where fetch
// silently drops forbidden request headers and refuses resizable buffers, and where an abort must end a retry wait at
// once: detached buffers are refused before anything is sent and leave the module healthy, a stream's reused buffer
// and a resizable buffer send the bytes they held when handed over, an endless error body is cut short, forbidden
// headers fail locally, and an abort during a backoff settles within 100 ms.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, openTestPage, startBrowserSuite } from './helpers/browser.mjs';
import { assertStored, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

let browser;
let site;
let emu;
before(async () => {
  ({ browser, site } = await startBrowserSuite());
  emu = await startEmulator();
});
after(async () => {
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

function ready() {
  return openTestPage(browser, `${site.origin}/index.html`);
}

describe('headless Chromium: hostile inputs', () => {
  test('detached buffers: a TypeError before anything is sent, 10,000 times, then a normal append', T, async () => {
    const { page, problems } = await ready();
    const key = uniqueKey('chrome-detached');
    const out = await page.evaluate(async ({ options, key }) => {
      const { default: OSS, crc64 } = window.ossAppend;
      const client = new OSS(options);
      const detached = () => {
        const cases = [];
        let b = new ArrayBuffer(8);
        b.transfer();
        cases.push(b);
        b = new ArrayBuffer(8);
        cases.push(new DataView(b));
        b.transfer();
        b = new ArrayBuffer(8);
        cases.push(new Uint8Array(b, 2));
        structuredClone(b, { transfer: [b] });
        return cases;
      };
      const seen = new Set();
      const note = (e) => seen.add(`${e instanceof TypeError} ${e.code} ${/detached ArrayBuffer/.test(e.message)}`);
      const w = await client.openAppender(key);
      for (let i = 0; i < 10_000; i++) {
        const value = detached()[i % 3];
        const stream = new ReadableStream({ start(c) { c.enqueue(value); c.close(); } });
        const calls = [client.append(key, value), client.append(key, stream), w.write(value)];
        for (const o of await Promise.allSettled(calls)) note(o.reason ?? { message: 'resolved' });
        try { crc64(value); } catch (e) { note(e); }
      }
      await w.write(new Uint8Array([1, 2, 3]));
      const closed = await w.close();
      const r = await client.append(key, new Uint8Array([4, 5]), { position: closed.nextAppendPosition });
      return { seen: [...seen], next: r.nextAppendPosition };
    }, { options: emu.clientOptions(), key });
    assert.deepEqual(out.seen, ['true InvalidArgument true']);
    assert.equal(out.next, '5');
    const posts = (await emu.requestsFor(key)).filter((q) => q.method === 'POST');
    assert.equal(posts.length, 2, 'only the two real appends were sent');
    await assertStored(emu, key, Buffer.from([1, 2, 3, 4, 5]));
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a stream refilling one buffer and a resizable buffer: the bytes at hand-over, out of bounds refused', T,
    async () => {
      const { page, problems } = await ready();
      const keys = [uniqueKey('chrome-reused'), uniqueKey('chrome-resizable'), uniqueKey('chrome-oob')];
      const out = await page.evaluate(async ({ options, keys }) => {
        const { default: OSS } = window.ossAppend;
        const client = new OSS(options);
        const buffer = new Uint8Array(1000);
        let n = 0;
        const stream = new ReadableStream({
          pull(c) {
            if (n === 5) { c.close(); return; }
            buffer.fill(n++);
            c.enqueue(buffer);
          },
        }, { highWaterMark: 0 });
        const reused = await client.append(keys[0], stream).then((r) => r.nextAppendPosition, (e) => e.code);
        const rab = new ArrayBuffer(8, { maxByteLength: 16 });
        new Uint8Array(rab).set([1, 2, 3, 4, 5, 6, 7, 8]);
        const resizable = await client.append(keys[1], new Uint8Array(rab)).then((r) => r.nextAppendPosition, (e) => e.code);
        const fixed = new Uint8Array(rab, 4, 4);
        rab.resize(2);
        const oob = await client.append(keys[2], fixed).then(() => 'sent', (e) => `${e.code} ${/outside its resizable/.test(e.message)}`);
        return { reused, resizable, oob };
      }, { options: emu.clientOptions(), keys });
      assert.deepEqual(out, { reused: '5000', resizable: '8', oob: 'InvalidArgument true' });
      await assertStored(emu, keys[0], Buffer.concat([0, 1, 2, 3, 4].map((i) => Buffer.alloc(1000, i))));
      await assertStored(emu, keys[1], Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
      assert.equal((await emu.requestsFor(keys[2])).length, 0);
      assert.deepEqual(problems, []);
      await page.close();
    });

  test('an endless error body ends the call at once', T, async () => {
    let served = 0;
    const sockets = new Set();
    const server = createServer((req, res) => {
      const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': '*' };
      req.resume();
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors, 'access-control-allow-methods': '*', 'access-control-allow-headers': '*' }).end();
        return;
      }
      if (req.method === 'HEAD') { res.writeHead(404, cors).end(); return; }
      res.writeHead(500, { ...cors, 'content-type': 'application/xml' });
      res.write('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        let more = true;
        while (!res.destroyed && more) {
          more = res.write(chunk);
          served += chunk.length;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    server.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const { page } = await ready();
    try {
      const endpoint = `http://127.0.0.1:${server.address().port}`;
      const out = await page.evaluate(async ({ options }) => {
        const { default: OSS } = window.ossAppend;
        const started = performance.now();
        const e = await new OSS(options).append('endless', new Uint8Array(1)).then(() => null, (x) => x);
        return { status: e?.status, code: e?.code, ms: performance.now() - started };
      }, { options: { ...emu.clientOptions(), endpoint, retryMax: 0, timeout: 20_000 } });
      assert.equal(out.status, 500, JSON.stringify(out));
      assert.ok(out.ms < 5000, `settled in ${out.ms} ms`);
      assert.ok(served < 64 * 1024 * 1024, `the page stopped reading early (${served} bytes served)`);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => server.close(r));
      await page.close();
    }
  });

  test('headers fetch would drop are refused before anything is sent', T, async () => {
    const { page, problems } = await ready();
    const key = uniqueKey('chrome-headers');
    const out = await page.evaluate(async ({ options, key }) => {
      const { default: OSS } = window.ossAppend;
      const client = new OSS(options);
      const results = {};
      for (const name of ['Expect', 'Keep-Alive', 'Upgrade', 'Origin', 'Referer', 'Cookie', 'Sec-Fetch-Mode', 'Proxy-X']) {
        results[name] = await client.append(key, new Uint8Array(1), { headers: { [name]: '1' } })
          .then(() => 'sent', (e) => `${e.code}: ${/cannot be set/.test(e.message)}`);
      }
      return results;
    }, { options: emu.clientOptions(), key });
    for (const [name, outcome] of Object.entries(out)) assert.equal(outcome, 'InvalidArgument: true', name);
    assert.equal((await emu.requestsFor(key)).length, 0);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('an abort during a retry wait settles within 100 ms', T, async () => {
    const { page, problems } = await ready();
    const key = uniqueKey('chrome-abort-wait');
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 50 });
    try {
      await page.evaluate(({ options, key }) => {
        const { default: OSS } = window.ossAppend;
        Math.random = () => 0.999; // the longest backoff: 200, 400, 800 ms, ...
        const abort = new AbortController();
        window.abortCall = abort;
        window.call = new OSS({ ...options, retryMax: 20 }).append(key, new Uint8Array(1), { signal: abort.signal })
          .then(() => 'resolved', (e) => e.code);
      }, { options: emu.clientOptions(), key });
      const deadline = Date.now() + 10_000;
      while ((await emu.requestsFor(key)).filter((q) => q.method === 'POST').length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const out = await page.evaluate(async () => {
        await new Promise((r) => setTimeout(r, 50));
        const started = performance.now();
        window.abortCall.abort();
        const code = await window.call;
        return { code, waited: performance.now() - started };
      });
      assert.equal(out.code, 'Aborted');
      assert.ok(out.waited < 100, `settled ${out.waited.toFixed(0)} ms after the abort`);
      // Chromium logs the 503s and the reconciling HEADs' 404s it saw; nothing else may go wrong on the page.
      assert.deepEqual(problems.filter((p) => !/status of (503|404)/.test(p)), []);
    } finally {
      await emu.clearFaults();
      await page.close();
    }
  });
});
