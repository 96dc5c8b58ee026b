// Live recordings ride out outages in headless Chromium (pages/outage.js, cross-origin to the emulator): the emulator
// stopped for 20 s and started again on the same port and data dir, and the browser taken offline for 20 s through
// the DevTools protocol (Network.emulateNetworkConditions), after which appends resume within 1 s of the `online`
// event. Also: the package works on a page whose Content-Security-Policy forbids eval. The emulator restart case runs
// with OSS_E2E_LONG=1 (`make test-long`); `make test` keeps the offline case, and Node's suite has the restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { PAGES_DIR, startStaticServer } from './helpers/browser.mjs';
import { startEmulator } from './helpers/emulator.mjs';
import { INSTALLED } from './helpers/pkg.mjs';
import { assertDigest, launchChromium, openStreamsPage, patternDigest } from './helpers/streaming.mjs';
import { assertStored, sleep, uniqueKey } from './helpers/util.mjs';
import { pattern } from './pages/common.js';

const T = { timeout: 120_000 };
const LONG = process.env.OSS_E2E_LONG === '1';
const CSP = "script-src 'self' 'wasm-unsafe-eval'";

let emu;
let site;
let strict;
let browser;
before(async () => {
  emu = await startEmulator();
  site = await startStaticServer({ '/pkg/': INSTALLED, '/': PAGES_DIR });
  strict = await startStaticServer({ '/pkg/': INSTALLED, '/': PAGES_DIR },
    { headers: { 'content-security-policy': CSP } });
  browser = await launchChromium();
});
after(async () => {
  await Promise.allSettled([browser?.close(), site?.close(), strict?.close()]);
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
