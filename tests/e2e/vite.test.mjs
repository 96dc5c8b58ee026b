// The browser entry through a bundler: a Vite app that does `import OSS from 'oss-append'` (the installed tarball)
// builds with Vite's defaults, ships the .wasm as an asset, and works in headless Chromium — no init step, an append
// to the emulator cross-origin.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, launchBrowser, openPage, startStaticServer } from './helpers/browser.mjs';
import { CONSUMER } from './helpers/pkg.mjs';
import { assertStored, refCrc64, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 120_000 };
const APP = join(CONSUMER, 'vite-app');
const DIST = join(APP, 'dist');

let browser;
let site;
let emu;
before(async () => {
  emu = await startEmulator();
  browser = await launchBrowser();
});
after(async () => {
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

test('a Vite app builds with oss-append and appends from the bundled page', T, async () => {
  rmSync(APP, { recursive: true, force: true });
  mkdirSync(APP, { recursive: true });
  writeFileSync(join(APP, 'index.html'), `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vite + oss-append</title></head>
<body><script type="module" src="/main.js"></script></body></html>
`);
  writeFileSync(join(APP, 'main.js'), `import OSS, { crc64 } from 'oss-append';
window.run = async (options, key) => {
  const client = new OSS(options);
  const bytes = new TextEncoder().encode('bundled by vite');
  const r = await client.append(key, new Blob([bytes]));
  return { nextAppendPosition: r.nextAppendPosition, crc64: r.crc64, local: crc64(bytes) };
};
window.ossReady = 'ok';
`);
  const { build } = await import('vite');
  await build({ root: APP, configFile: false, logLevel: 'error', build: { outDir: DIST, emptyOutDir: true } });

  const assets = readdirSync(join(DIST, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `the .wasm is emitted as an asset: ${assets.join(', ')}`);

  site = await startStaticServer({ '/': DIST });
  const { page, problems } = await openPage(browser, `${site.origin}/index.html`);
  await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
  const key = uniqueKey('vite');
  const out = await page.evaluate(({ options, key }) => window.run(options, key).catch((e) => ({
    error: `${e.name} ${e.code} ${e.message}`,
  })), { options: emu.clientOptions(), key });
  const bytes = Buffer.from('bundled by vite');
  assert.deepEqual(out, { nextAppendPosition: String(bytes.length), crc64: refCrc64(bytes), local: refCrc64(bytes) });
  await assertStored(emu, key, bytes);
  assert.deepEqual(problems, []);
  await page.close();
});
