// Live recordings ride out outages in headless Chromium (pages/outage.js, cross-origin to the emulator): the emulator
// stopped for 20 s and started again on the same port and data dir, and the browser taken offline for 20 s through
// the DevTools protocol (Network.emulateNetworkConditions), after which appends resume within 1 s of the `online`
// event. Also: the package works on a page whose Content-Security-Policy forbids eval. The emulator restart case runs
// with OSS_E2E_LONG=1 (`make test-long`); `make test` keeps the offline case, and Node's suite has the restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, PAGES_DIR, startBrowserSuite, startStaticServer } from './helpers/browser.mjs';
import { INSTALLED, loadEsm } from './helpers/pkg.mjs';
import { assertDigest, openStreamsPage, patternDigest } from './helpers/streaming.mjs';
import { assertStored, sleep, uniqueKey } from './helpers/util.mjs';
import { pattern } from './pages/common.js';
import { Pattern } from './pages/streams.js';

const T = { timeout: 120_000 };
const LONG = process.env.OSS_E2E_LONG === '1';
const CSP = "script-src 'self' 'wasm-unsafe-eval'";

let OSS;
let emu;
let site;
let strict;
let browser;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
  ({ browser, site } = await startBrowserSuite());
  strict = await startStaticServer({ '/pkg/': INSTALLED, '/': PAGES_DIR },
    { headers: { 'content-security-policy': CSP } });
});
after(async () => {
  await closeBrowserSuite(browser, site, strict);
  await emu?.stop();
});

/** A fresh page with the package; failed requests are expected here, uncaught errors are not. */
async function recordingPage() {
  return openStreamsPage(browser, site.origin, async () => null,
    { ignore: [/^Failed to load resource/, /^requestfailed/] });
}

function runRecording(page, cfg) {
  return page.evaluate(async (c) => {
    const { record } = await import('/outage.js');
    return record(window.ossAppend.default, c);
  }, cfg);
}

describe('outages, headless Chromium', () => {
  test('a recording goes on while the emulator is down for 20 s and started again on the same port',
    { ...T, skip: !LONG && 'OSS_E2E_LONG=1 (make test-long) runs it' }, async () => {
    const { page, problems, context } = await recordingPage();
    const key = uniqueKey('browser-outage-restart', 'rec.webm');
    const seed = 21;
    const run = runRecording(page, { options: emu.clientOptions(), key, seed, durationMs: 25_000,
      appender: { maxRetryDelay: 3000 } });
    await sleep(2000);
    await emu.halt();
    await sleep(20_000);
    await emu.restart();
    const out = await run;
    assert.deepEqual(out.rejected, [], 'no write rejected');
    const want = patternDigest(seed, out.size);
    assert.deepEqual(out.closed, { name: key, nextAppendPosition: String(out.size), crc64: want.crc64 });
    await assertDigest(emu, key, want, 'byte-identical to everything written');
    // 'closing' shows only when something was still to send at close()
    assert.deepEqual(out.states.map((s) => s.s).filter((s) => s !== 'closing'), ['retrying', 'open', 'closed'],
      JSON.stringify(out.states));
    assert.ok(out.retries.length >= 3, JSON.stringify(out.retries));
    assert.deepEqual(problems.filter((p) => !/ERR_CONNECTION_REFUSED|Failed to fetch/.test(p)), []);
    await context.close();
  });

  test('offline through the DevTools protocol for 20 s: appends resume within 1 s of going online', T, async () => {
    const { page, problems, context } = await recordingPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const network = (offline) => cdp.send('Network.emulateNetworkConditions',
      { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const key = uniqueKey('browser-outage-offline', 'rec.webm');
    const seed = 22;
    // the default maxRetryDelay (30 s): only the online event can bring it back within 1 s
    const run = runRecording(page, { options: emu.clientOptions(), key, seed, durationMs: 26_000 });
    await sleep(2000);
    await network(true);
    const offlineAt = Date.now();
    await sleep(21_000);
    const onlineAt = Date.now();
    await network(false);
    const out = await run;
    assert.deepEqual(out.rejected, [], 'no write rejected');
    const want = patternDigest(seed, out.size);
    assert.deepEqual(out.closed, { name: key, nextAppendPosition: String(out.size), crc64: want.crc64 });
    await assertDigest(emu, key, want, 'byte-identical to everything written');
    // 'closing' shows only when something was still to send at close()
    assert.deepEqual(out.states.map((s) => s.s).filter((s) => s !== 'closing'), ['retrying', 'open', 'closed'],
      JSON.stringify(out.states));
    const during = out.confirms.filter((c) => c.t > offlineAt + 500 && c.t < onlineAt);
    assert.deepEqual(during, [], 'nothing was confirmed while offline');
    const first = out.confirms.find((c) => c.t >= onlineAt);
    assert.ok(first, 'appends resumed');
    assert.ok(first.t - onlineAt < 1000, `the first append after going online landed ${first.t - onlineAt} ms later`);
    assert.ok(out.retries.some((r) => r.delayMs === 30_000), `offline waits at the cap: ${JSON.stringify(out.retries)}`);
    assert.ok(out.retries.length <= 4, `no attempts spent while offline: ${JSON.stringify(out.retries)}`);
    assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(p)), []);
    await context.close();
  });

  test('offline edges: maxBuffered, abort during a retry wait, another writer during an outage (unsent exact)', T,
    async () => {
      const key = uniqueKey('browser-outage-edges');
      const seed = 23;
      let cdp;
      const control = async (what, arg) => {
        if (what === 'network') {
          return cdp.send('Network.emulateNetworkConditions',
            { offline: arg, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
        }
        if (what === 'foreign') {
          const other = new OSS(emu.clientOptions());
          await other.append(arg.key, new Pattern(arg.seed).read(0, arg.length), { position: arg.at });
          return null;
        }
        throw new Error(`unknown control ${what}`);
      };
      const { page, problems, context } = await openStreamsPage(browser, site.origin, control,
        { ignore: [/^Failed to load resource/, /^requestfailed/] });
      cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const out = await page.evaluate(async (c) => {
        const { outageEdges } = await import('/outage.js');
        return outageEdges(window.ossAppend.default, c, window.e2eControl);
      }, { options: emu.clientOptions(), key, seed });
      const data = new Pattern(seed);

      const mb = out.maxBuffered;
      for (const r of mb.refused) {
        assert.equal(r.ok, false);
        assert.equal(r.error.code, 'BufferFull');
        assert.equal(r.error.name, 'BufferFullError');
        assert.ok(r.ms < 500, `refused at once (${r.ms} ms)`);
      }
      assert.equal(mb.buffered, 60 * 1024);
      assert.ok(['open', 'retrying'].includes(mb.state), `the appender goes on (${mb.state})`);
      assert.ok(mb.landed.every((r) => r.ok), JSON.stringify(mb.landed));
      await assertStored(emu, mb.key, Buffer.concat([data.read(0, 1000 + 6 * 10240), data.read(1000 + 6 * 10240, 500)]));

      for (const s of out.abort.settled) {
        assert.equal(s.ok, false);
        assert.equal(s.error.name, 'AbortError');
        assert.ok(s.ms < 100, `settled ${s.ms} ms after abort()`);
      }
      assert.equal(out.abort.state, 'aborted');
      assert.ok(out.abort.retries[0] === 30_000, `offline waits at the cap: ${out.abort.retries}`);
      await assertStored(emu, out.abort.key, data.read(0, 1000));

      const ow = out.otherWriter;
      for (const s of ow.settled) {
        assert.equal(s.ok, false);
        assert.equal(s.error.code, 'PositionNotEqualToLength', JSON.stringify(s.error));
        assert.equal(s.error.nextAppendPosition, '6234');
      }
      assert.deepEqual(Buffer.from(ow.unsent), Buffer.from(data.read(5000, 7000)), 'unsent is exactly what was not confirmed');
      assert.equal(ow.position, '5000');
      assert.equal(ow.state, 'failed');
      await assertStored(emu, ow.key, Buffer.concat([data.read(0, 5000), new Pattern(seed + 1).read(0, 1234)]));
      assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(p)), []);
      await context.close();
    });

  test('a 64 MiB append() that fails mid-way says how far it got: position and CRC equal the HEAD', T, async () => {
    const key = uniqueKey('browser-failing-append');
    const seed = 24;
    const control = async (what, arg) => {
      if (what !== 'arm') throw new Error(`unknown control ${what}`);
      const { key: k, ...spec } = arg;
      return emu.armFault({ ...spec, key: k });
    };
    const { page, problems, context } = await openStreamsPage(browser, site.origin, control,
      { ignore: [/^Failed to load resource/, /^requestfailed/] });
    const out = await page.evaluate(async (c) => {
      const { failingAppend } = await import('/outage.js');
      return failingAppend(window.ossAppend.default, c, window.e2eControl);
    }, { options: emu.clientOptions(), key, seed });
    await emu.clearFaults();
    assert.equal(out.error?.status, 503, JSON.stringify(out.error));
    assert.equal(out.error.nextAppendPosition, out.head.nextAppendPosition);
    assert.equal(out.error.crc64, out.head.crc64);
    assert.equal(out.error.nextAppendPosition, String(3 * (8 << 20)));
    await assertDigest(emu, key, patternDigest(seed, 3 * (8 << 20)));
    assert.deepEqual(problems.filter((p) => !/503/.test(p)), []);
    await context.close();
  });

  test(`under Content-Security-Policy: ${CSP}: append, openAppender, writable and a Worker work`, T, async () => {
    const prefix = uniqueKey('browser-csp', 'x').replace(/\/x$/, '');
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const query = new URLSearchParams({ options: JSON.stringify(emu.clientOptions()), key: prefix });
    const res = await page.goto(`${strict.origin}/csp.html?${query}`);
    assert.equal(res.headers()['content-security-policy'], CSP);
    await page.waitForFunction(() => window.cspResult !== undefined, null, { timeout: 30_000 });
    const result = await page.evaluate(() => window.cspResult);
    assert.equal(result.failed, undefined, result.failed);
    assert.deepEqual(result.violations, [], 'no CSP violation');
    for (const [name, r] of Object.entries(result.out)) assert.equal(r.ok, true, `${name}: ${JSON.stringify(r.error)}`);
    await assertStored(emu, `${prefix}/append.bin`, pattern(70_000, 1));
    await assertStored(emu, `${prefix}/appender.bin`, Buffer.concat([pattern(1000, 2), pattern(2000, 3)]));
    await assertStored(emu, `${prefix}/writable.bin`, Buffer.concat([pattern(3000, 4), pattern(4000, 5)]));
    await assertStored(emu, `${prefix}/worker.bin`, Buffer.concat([pattern(5000, 6), pattern(6000, 7)]));
    assert.deepEqual(problems, []);
    await page.close();
  });
});
