// Streaming and fault tolerance in headless Chromium: the cases of streaming.test.mjs (helpers/streaming-cases.mjs),
// run inside a page that imports the package's browser entry, cross-origin to the emulator. Faults are armed from
// the page through an exposed control function, right before the request they target.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { CASES } from './helpers/streaming-cases.mjs';
import { assertDigest, controller, openStreamsPage } from './helpers/streaming.mjs';
import { uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

let OSS;
let emu;
let site;
let browser;
let page;
let problems;
let control = null;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator({ stsToken: 'sts-token-browser-streaming' });
  ({ browser, site } = await startBrowserSuite());
  // Requests fail on purpose here, and Chromium logs each failed one; uncaught page errors still count.
  ({ page, problems } = await openStreamsPage(browser, site.origin, (...a) => control(...a),
    { ignore: [/^Failed to load resource/, /^requestfailed/] }));
});
after(async () => {
  // each is stopped even when another fails to
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

const groups = [...new Set(CASES.map((c) => c.group))];
for (const group of groups) {
  describe(`${group}, headless Chromium`, () => {
    for (const [i, c] of CASES.entries()) {
      if (c.group !== group) continue;
      test(c.name, T, async () => {
        const key = uniqueKey(`browser-streaming-${c.scenario}`);
        let stats;
        ({ control, stats } = controller(emu, OSS));
        const options = emu.clientOptions(await emu.issueCredentials());
        const ctx = {
          emu, key, seed: 2000 + i, stats, options,
          log: () => control('requests', { key }),
          assertDigest: (want, message) => assertDigest(emu, key, want, message),
        };
        const cfg = c.cfg ? c.cfg(ctx) : { options, key, seed: ctx.seed };
        try {
          const out = await page.evaluate(({ scenario, cfg }) => {
            const run = scenario === 'runUpload' ? window.streams.runUpload : window.scenarios[scenario];
            return run(window.ossAppend.default, cfg, window.e2eControl);
          }, { scenario: c.scenario, cfg });
          await c.check(out, ctx);
          assert.deepEqual(problems.splice(0), [], 'no uncaught error in the page');
        } finally {
          await emu.setClockOffset(0);
        }
      });
    }
  });
}
