// A page reload in the middle of a recording, in headless Chromium: the first page records part of a deterministic
// stream through openAppender, one of its appends lands on the server but its answer never reaches the page, and
// more is buffered; the page reloads (a new JS context, a new client), opens the object with position: 'resume'
// and writes the rest from w.position. The object must equal the full input: the append the old page never heard
// back from is counted once, the buffered bytes it never sent are written by the new page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { compactLog } from './helpers/streaming-cases.mjs';
import { assertDigest, controller, openStreamsPage, patternDigest } from './helpers/streaming.mjs';
import { sleep, uniqueKey } from './helpers/util.mjs';

const KIB = 1024;
const SIZE = 6 << 20;
const T = { timeout: 60_000 };

let OSS;
let emu;
let site;
let browser;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
  ({ browser, site } = await startBrowserSuite());
});
after(async () => {
  // each is stopped even when another fails to
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

/** Polls `fn` until it returns a truthy value; fails after `ms`. */
async function until(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

test("a reload mid-recording: the new page resumes with 'resume' from w.position and the object equals the input",
  T, async () => {
    const key = uniqueKey('reload', 'recording.webm');
    const seed = 77;
    const sizes = { partSize: 256 * KIB, minPartSize: 64 * KIB };
    const { control } = controller(emu, OSS);
    const { page, problems } = await openStreamsPage(browser, site.origin, control,
      { ignore: [/^Failed to load resource/, /^requestfailed/] });
    const options = emu.clientOptions();

    await page.evaluate((cfg) => window.scenarios.recordThenLeave(window.ossAppend.default, cfg, window.e2eControl),
      { options, key, seed, upTo: 3 << 20, nth: 5, ...sizes });
    const delayed = await until('the delayed append', () => page.evaluate(() => window.recording.delayed()));
    const landed = Number(delayed.position) + delayed.length;
    await until('the delayed append to land', async () => (await emu.object(key))?.size === landed);
    const known = Number(await page.evaluate(() => window.recording.position()));
    assert.equal(known, Number(delayed.position), 'the first page still waits for the answer');

    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
    assert.equal(await page.evaluate(() => window.ossReady), 'ok');
    assert.equal(await page.evaluate(() => window.recording), undefined, 'a new page, a new client');

    const out = await page.evaluate((cfg) => window.scenarios.resumeAfterReload(window.ossAppend.default, cfg),
      { options, key, seed, size: SIZE, ...sizes });
    assert.equal(out.start, landed, 'resumed after the append the first page never heard back from');
    assert.equal(out.crcAtStart, patternDigest(seed, landed).crc64, 'the CRC-64 read by the one HEAD');
    const want = patternDigest(seed, SIZE);
    assert.deepEqual(out.closed, { name: key, nextAppendPosition: String(SIZE), crc64: want.crc64 });
    await assertDigest(emu, key, want);

    const log = await emu.requestsFor(key);
    const heads = log.filter((e) => e.method === 'HEAD');
    assert.equal(heads.length, 1, `one HEAD, by the resuming page: ${compactLog(log)}`);
    const applied = log.filter((e) => e.method === 'POST' && e.status === 200).map((e) => Number(e.position));
    assert.deepEqual(applied, [...applied].sort((a, b) => a - b), 'appends in order');
    assert.equal(new Set(applied).size, applied.length, 'no position appended twice');
    assert.ok(log.every((e) => e.method !== 'POST' || Number(e.position) !== Number(delayed.position)),
      'the append the first page never heard back from was not sent again');
    assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
    await page.close();
  });
