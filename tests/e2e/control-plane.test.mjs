// The emulator's control plane is for the tests that started it, not for web pages: it wants the token printed at
// start, answers only its own Host, sends no CORS headers and takes only JSON bodies. Checked from Node (what a
// local process or a DNS-rebinding page would send) and from a headless Chromium page on another origin.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, openPage, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

/** A raw request with exactly these headers (node:http lets Host be anything); resolves { status, headers, text }. */
function raw(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(`${emu.url}/__emulator__/${path}`, { method, headers, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error('control plane request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Stores a 3-byte object with the package; resolves its key. */
async function storeOne() {
  const { default: OSS } = await loadEsm();
  const client = new OSS(emu.clientOptions());
  const key = uniqueKey('control-plane', 'kept.bin');
  await client.append(key, new Uint8Array([1, 2, 3]));
  return key;
}

describe('the control plane from Node', () => {
  test('the helpers carry the token; without it, or with another Host or a text body, nothing happens', T,
    async () => {
      const key = await storeOne();
      assert.equal((await emu.object(key)).size, 3);
      const host = new URL(emu.url).host;
      const token = emu.token;
      assert.match(token, /^[0-9a-f]{32}$/);
      assert.equal((await raw('POST', 'reset', { host })).status, 401);
      assert.equal((await raw('POST', 'reset', { host, 'x-emulator-token': 'guess' })).status, 401);
      const rebound = await raw('POST', 'reset', { host: `rebind.attacker.example:${emu.port}`, 'x-emulator-token': token });
      assert.equal(rebound.status, 403);
      assert.match(rebound.text, /Host/);
      const plain = await raw('POST', 'reset',
        { host, 'x-emulator-token': token, 'content-type': 'text/plain' }, '{}');
      assert.equal(plain.status, 415);
      const withOrigin = await raw('GET', 'state', { host, 'x-emulator-token': token, origin: 'http://evil.test' });
      assert.equal(withOrigin.status, 200);
      assert.deepEqual(Object.keys(withOrigin.headers).filter((h) => h.startsWith('access-control-')), []);
      assert.equal((await emu.object(key)).size, 3, 'the object survived every refused reset');
    });
});

describe('the control plane from a page on another origin', () => {
  let browser;
  let site;
  before(async () => {
    ({ browser, site } = await startBrowserSuite());
  });
  after(async () => {
    await closeBrowserSuite(browser, site);
  });

  test('can read nothing, and its simple requests (no-cors, text/plain) reset nothing and arm nothing', T,
    async () => {
      const key = await storeOne();
      const { page } = await openPage(browser, `${site.origin}/index.html`,
        { ignore: [/Failed to load resource/, /CORS/, /net::ERR_FAILED/] });
      const control = `${emu.url}/__emulator__`;
      const out = await page.evaluate(async (control) => {
        const attempt = async (url, init) => {
          try {
            const res = await fetch(url, init);
            return { type: res.type, status: res.status, text: res.type === 'opaque' ? '' : await res.text() };
          } catch (e) {
            return { error: e.name };
          }
        };
        return {
          read: await attempt(`${control}/state`),
          readWithToken: await attempt(`${control}/state`, { headers: { 'x-emulator-token': 'guess' } }),
          reset: await attempt(`${control}/reset`,
            { method: 'POST', mode: 'no-cors', body: '{}', headers: { 'content-type': 'text/plain' } }),
          arm: await attempt(`${control}/faults`,
            { method: 'POST', mode: 'no-cors', body: '{"kind":"error_before_commit","count":100}' }),
          json: await attempt(`${control}/reset`,
            { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }),
        };
      }, control);
      await page.close();
      assert.deepEqual(out.read, { error: 'TypeError' }, 'the page read the state');
      assert.deepEqual(out.readWithToken, { error: 'TypeError' });
      assert.deepEqual(out.json, { error: 'TypeError' });
      assert.equal(out.reset.type, 'opaque');
      assert.equal(out.arm.type, 'opaque');
      assert.equal((await emu.object(key))?.size, 3, 'the page reset the emulator');
      assert.deepEqual(await emu.faults(), [], 'the page armed a fault');
    });
});
