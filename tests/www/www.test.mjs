// The demo web app (www/) in headless Chromium with fake media devices, against the local emulator: record, append
// live, stop, and check that the object on the emulator is byte for byte the concatenation of the blobs the page
// recorded, that its CRC-64 matches what the page reported, and that the page showed success and played it back.
//
// Needs pkg/ built, the emulator binary ($OSS_EMULATOR or target/release/oss-emulator) and Chromium
// ($CHROMIUM or /usr/bin/chromium). Screenshots go to tests/www/.out/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ACCESS_KEY_ID as AK, ACCESS_KEY_SECRET as SK, BUCKET, emulatorBinary, startEmulator,
} from '../support/emulator.mjs';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const OUT = join(HERE, '.out');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const RECORD_MS = 5_000;
const START_TIMEOUT_MS = 15_000;
const FINISH_TIMEOUT_MS = 30_000;

const children = new Set();
process.once('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/** Spawns `cmd` and resolves the match of the first stdout line matching `re`, within a bounded time. */
function spawnUntil(cmd, args, re, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((res) => child.once('exit', (code, signal) => {
    children.delete(child);
    res(code ?? signal);
  }));
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} printed no ${re} within ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS);
    lines.on('line', (line) => {
      const m = re.exec(line);
      if (!m) return;
      clearTimeout(timer);
      res(m);
    });
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited (${code}) before it was ready: ${stderr}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
  };
  return { ready, stop };
}

/** A V1 presigned GET URL made here with node:crypto, independent of the package under test. */
function presignV1(endpoint, key, expiresIn = 300) {
  const expires = Math.floor(Date.now() / 1000) + expiresIn;
  const signature = createHmac('sha1', SK).update(`GET\n\n\n${expires}\n/${BUCKET}/${key}`).digest('base64');
  const path = key.split('/').map(encodeURIComponent).join('/');
  const q = new URLSearchParams({ OSSAccessKeyId: AK, Expires: String(expires), Signature: signature });
  return `${endpoint}/${BUCKET}/${path}?${q}`;
}

async function control(path) {
  const res = await fetch(`${emulator.url}/__emulator__/${path}`,
    { headers: { 'x-emulator-token': emulator.token }, signal: AbortSignal.timeout(5_000) });
  assert.ok(res.ok, `control plane ${path} answered ${res.status}`);
  return res.json();
}

/** CRC-64/XZ, bit by bit: slow but obviously right, and independent of the package. */
function refCrc64(bytes) {
  const poly = 0xC96C5795D7870F42n;
  const table = [];
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    table.push(c);
  }
  let crc = 0xFFFFFFFFFFFFFFFFn;
  for (const b of bytes) crc = table[Number((crc ^ BigInt(b)) & 0xFFn)] ^ (crc >> 8n);
  return (crc ^ 0xFFFFFFFFFFFFFFFFn).toString();
}

let emulator;
let site;
let browser;
let stopSite;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'pkg', 'web.js')), 'pkg/ is not built: run scripts/build-pkg.sh');
  assert.ok(existsSync(emulatorBinary()), `no emulator at ${emulatorBinary()}`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
  mkdirSync(OUT, { recursive: true });

  emulator = await startEmulator();

  const srv = spawnUntil(process.execPath, [join(ROOT, 'www', 'serve.mjs'), '--port', '0', '--endpoint', emulator.url],
    /^serving (http:\/\/127\.0\.0\.1:\d+)\//, 'www/serve.mjs');
  stopSite = srv.stop;
  site = (await srv.ready)[1];

  const { chromium } = require('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopSite?.();
  await emulator?.stop();
});

/** A fresh context (own localStorage) and page; collects console errors, page errors and failed requests. */
async function openDemo(query, { init } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(FINISH_TIMEOUT_MS);
  if (init) await page.addInitScript(init);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A <video> cancels its own range requests as it seeks; that is not a failure.
    if (r.resourceType() === 'media' && /ERR_ABORTED/.test(r.failure()?.errorText ?? '')) return;
    problems.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  const res = await page.goto(`${site}/?${new URLSearchParams({ endpoint: emulator.url, ...query })}`);
  assert.equal(res?.status(), 200);
  await page.waitForSelector('#status[data-status="ready"]', { timeout: 20_000 });
  return { context, page, problems };
}

/** Clicks Start, records `ms`, checks appends went out while recording, clicks Stop and waits for the outcome. */
async function record(page, ms) {
  await page.click('#start');
  await page.waitForSelector('#status[data-status="recording"]', { timeout: 20_000 });
  const key = await page.evaluate(() => window.__recorded.key);
  await page.waitForTimeout(ms);
  const live = (await control('requests')).requests.filter((r) => r.key === key && r.op === 'append');
  assert.ok(live.length >= 2, `appends went out while recording (saw ${live.length} after ${ms} ms)`);
  await page.click('#stop');
  await page.waitForSelector('#status[data-status="verified"], #status[data-status="failed"]');
  const status = await page.getAttribute('#status', 'data-status');
  if (status !== 'verified') assert.fail(`the page reported: ${await page.textContent('#error')}`);
  await page.waitForSelector('#playback-box[data-playback="ready"]');
  return key;
}

/** The recorded blobs, concatenated in the page, and what the page found. */
async function recorded(page) {
  return page.evaluate(async () => {
    const bytes = new Uint8Array(await new Blob(window.__recorded.blobs).arrayBuffer());
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return {
      ...window.__recorded,
      blobs: window.__recorded.blobs.map((b) => b.size),
      base64: btoa(bin),
      result: window.__result,
      text: document.body.innerText,
    };
  });
}

/** The object as the emulator serves it, and what it stores about it. */
async function stored(key) {
  const res = await fetch(presignV1(emulator.url, key), { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `GET ${key}`);
  const path = key.split('/').map(encodeURIComponent).join('/');
  return { bytes: Buffer.from(await res.arrayBuffer()), info: await control(`objects/${BUCKET}/${path}`) };
}

async function assertObjectIsRecording(key, rec) {
  const local = Buffer.from(rec.base64, 'base64');
  const { bytes, info } = await stored(key);
  assert.ok(rec.blobs.length >= 3, `several blobs were recorded (${rec.blobs.length})`);
  assert.equal(local.length, rec.blobs.reduce((a, b) => a + b, 0));
  assert.equal(bytes.length, local.length, 'object length = recorded bytes');
  assert.ok(bytes.equals(local), 'the object is byte for byte the concatenation of the recorded blobs');
  assert.equal(info.size, local.length);
  assert.equal(info.appendable, true);
  assert.equal(info.content_type, rec.mimeType.split(';')[0]);
  assert.equal(info.md5, createHash('md5').update(local).digest('hex'));

  const crc = refCrc64(local);
  assert.equal(String(info.crc64), crc, 'the emulator stores the CRC-64 of the recording');
  assert.deepEqual(rec.result.crc64, { appender: crc, head: crc, local: crc }, 'the page reported the same CRC-64');
  assert.equal(rec.result.status, 'verified');
  assert.equal(rec.result.nextAppendPosition, String(local.length));
  assert.match(rec.text, new RegExp(`CRC-64 verified: ${crc}`));

  // Appended live, one request per blob or a few blobs, in order, each at the previous end.
  const appends = (await control('requests')).requests.filter((r) => r.key === key && r.op === 'append');
  assert.equal(appends.length, rec.result.parts, 'one logged append per part the page reported');
  assert.ok(appends.every((r) => r.status === 200), 'every append succeeded');
  const positions = appends.map((r) => Number(r.position));
  assert.equal(positions[0], 0);
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'appends went out in order');
  assert.ok(appends.length >= 3, `the upload was incremental (${appends.length} appends)`);
  return { bytes: local.length, appends: appends.length };
}

/** GET `path` from the demo server with this Host header; resolves the status. */
function getWithHost(path, host) {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(`${site}${path}`, { headers: { host }, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('www/serve.mjs', () => {
  test('serves only requests addressed to itself (no DNS rebinding)', { timeout: 20_000 }, async () => {
    const port = new URL(site).port;
    assert.equal(await getWithHost('/', `127.0.0.1:${port}`), 200);
    assert.equal(await getWithHost('/', `localhost:${port}`), 200);
    assert.equal(await getWithHost('/', `rebind.attacker.example:${port}`), 403);
    assert.equal(await getWithHost('/config.json', `rebind.attacker.example:${port}`), 403);
    assert.equal(await getWithHost('/', '127.0.0.1'), 403);
  });
});

describe('demo web app', () => {
  test('records the fake camera and microphone, appends live, verifies and plays back (V4)', { timeout: 60_000 },
    async () => {
      const { context, page, problems } = await openDemo({ source: 'camera', signature: 'v4' });
      const key = await record(page, RECORD_MS);
      const rec = await recorded(page);
      assert.equal(rec.source, 'camera');
      assert.match(rec.mimeType, /^video\/webm/);
      assert.match(rec.result.url, /X-Oss-Signature|x-oss-signature/);
      const { bytes, appends } = await assertObjectIsRecording(key, rec);
      // The log shows one row per append plus the HEADs, every append checked against the page's own CRC.
      const rows = await page.$$eval('#log tr', (trs) => trs.map((tr) => tr.innerText));
      assert.equal(rows.filter((r) => /\bappend\b/.test(r)).length, appends);
      assert.ok(rows.filter((r) => /\bappend\b/.test(r)).every((r) => r.trim().endsWith('✓')), rows.join('\n'));
      await page.screenshot({ path: join(OUT, 'demo.png'), fullPage: true });
      assert.deepEqual(problems, []);
      console.log(`camera: ${bytes} bytes in ${rec.blobs.length} blobs, ${appends} appends; screenshot ${OUT}/demo.png`);
      await context.close();
    });

  test('never stores the secret, and a link to another endpoint gets no remembered settings', { timeout: 60_000 },
    async () => {
      const { context, page, problems } = await openDemo({ source: 'generated', signature: 'v4' });
      await record(page, 2_500);
      const settings = () => page.evaluate(() => localStorage.getItem('oss-append-demo.settings'));
      const saved = JSON.parse(await settings());
      assert.equal(saved.endpoint, emulator.url);
      assert.equal(saved.accessKeyId, AK);
      assert.ok(!(await settings()).includes(SK), `the secret is not stored: ${await settings()}`);
      assert.equal(saved.accessKeySecret, undefined);
      assert.deepEqual(problems, []);

      // What an older version left behind: a remembered secret beside a custom key id.
      await page.evaluate((url) => localStorage.setItem('oss-append-demo.settings', JSON.stringify({
        endpoint: url, accessKeyId: 'remembered-id', accessKeySecret: 'remembered-secret', bucket: 'remembered-bucket',
      })), emulator.url);
      const field = (p, name) => p.inputValue(`[name="${name}"]`);
      const elsewhere = await context.newPage();
      await elsewhere.goto(`${site}/?${new URLSearchParams({ endpoint: 'http://127.0.0.1:9', accessKeySecret: 'from-link' })}`);
      await elsewhere.waitForSelector('#status[data-status="ready"]', { timeout: 20_000 });
      assert.equal(await field(elsewhere, 'endpoint'), 'http://127.0.0.1:9');
      assert.notEqual(await field(elsewhere, 'accessKeyId'), 'remembered-id', 'no remembered key id for another endpoint');
      assert.notEqual(await field(elsewhere, 'bucket'), 'remembered-bucket');
      for (const secret of ['remembered-secret', 'from-link']) {
        assert.notEqual(await field(elsewhere, 'accessKeySecret'), secret, 'no secret from storage or from the URL');
      }
      assert.ok(!(await settings()).includes('remembered-secret'), 'the old secret is scrubbed from storage');

      const same = await context.newPage();
      await same.goto(`${site}/?${new URLSearchParams({ endpoint: emulator.url })}`);
      await same.waitForSelector('#status[data-status="ready"]', { timeout: 20_000 });
      assert.equal(await field(same, 'accessKeyId'), 'remembered-id', 'the same endpoint gets its remembered key id');
      assert.notEqual(await field(same, 'accessKeySecret'), 'remembered-secret');
      await context.close();
    });

  test('falls back to the generated source when the camera is denied (V1 signing)', { timeout: 60_000 }, async () => {
    const deny = () => {
      navigator.mediaDevices.getUserMedia = async () => {
        throw new DOMException('Permission denied', 'NotAllowedError');
      };
    };
    const { context, page, problems } = await openDemo({ source: 'camera', signature: 'v1' }, { init: deny });
    const key = await record(page, 3_500);
    const rec = await recorded(page);
    assert.equal(rec.source, 'generated');
    assert.match(await page.textContent('#notice'), /unavailable \(NotAllowedError\)/);
    assert.match(rec.result.url, /OSSAccessKeyId=/);
    const { bytes, appends } = await assertObjectIsRecording(key, rec);
    await page.screenshot({ path: join(OUT, 'demo-generated.png'), fullPage: true });
    assert.deepEqual(problems, []);
    console.log(`generated: ${bytes} bytes in ${rec.blobs.length} blobs, ${appends} appends`);
    await context.close();
  });

  test('keeps recording while the browser is offline: shows the state and the bytes waiting, loses nothing',
    { timeout: 90_000 }, async () => {
      const { context, page, problems } = await openDemo({ source: 'camera', signature: 'v4' });
      await page.click('#start');
      await page.waitForSelector('#status[data-status="recording"]', { timeout: 20_000 });
      const key = await page.evaluate(() => window.__recorded.key);
      await page.waitForTimeout(2000);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const network = (offline) => cdp.send('Network.emulateNetworkConditions',
        { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await network(true);
      await page.waitForSelector('#status[data-status="retrying"]', { timeout: 10_000 });
      const blobsBefore = await page.evaluate(() => window.__recorded.blobs.length);
      await page.waitForTimeout(5000);
      const during = await page.evaluate(() => ({
        state: document.querySelector('#st-state').textContent,
        buffered: document.querySelector('#st-buffered').textContent,
        badge: document.querySelector('#status').textContent,
        notice: document.querySelector('#notice').textContent,
        blobs: window.__recorded.blobs.length,
      }));
      await page.screenshot({ path: join(OUT, 'demo-offline.png'), fullPage: true });
      assert.equal(during.state, 'retrying');
      assert.match(during.buffered, /[1-9]/, `bytes wait: ${during.buffered}`);
      assert.match(during.badge, /Offline/);
      assert.match(during.notice, /still recording/);
      assert.ok(during.blobs >= blobsBefore + 3, `recording went on offline (${blobsBefore} -> ${during.blobs} blobs)`);
      await network(false);
      await page.waitForSelector('#status[data-status="recording"]', { timeout: 5_000 });
      assert.equal(await page.textContent('#st-state'), 'open');
      await page.waitForTimeout(1500);
      await page.click('#stop');
      await page.waitForSelector('#status[data-status="verified"], #status[data-status="failed"]');
      if (await page.getAttribute('#status', 'data-status') !== 'verified') {
        assert.fail(`the page reported: ${await page.textContent('#error')}`);
      }
      await page.waitForSelector('#playback-box[data-playback="ready"]');
      const rec = await recorded(page);
      await assertObjectIsRecording(key, rec);
      // Requests fail while offline, as they must; nothing else may go wrong.
      const offline = /ERR_INTERNET_DISCONNECTED|Failed to load resource|Failed to fetch/;
      assert.deepEqual(problems.filter((p) => !offline.test(p)), []);
      await context.close();
    });

  test('after a reload during an outage it lists the unfinished recording, and Resume makes the object whole',
    { timeout: 90_000 }, async () => {
      const { context, page } = await openDemo({ source: 'generated', signature: 'v4' });
      await page.click('#start');
      await page.waitForSelector('#status[data-status="recording"]', { timeout: 20_000 });
      const key = await page.evaluate(() => window.__recorded.key);
      await page.waitForTimeout(1500);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const network = (offline) => cdp.send('Network.emulateNetworkConditions',
        { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await network(true);
      await page.waitForSelector('#status[data-status="retrying"]', { timeout: 10_000 });
      const blobsOffline = await page.evaluate(() => window.__recorded.blobs.length);
      await page.waitForTimeout(3000);
      // The source ends (its last blob comes), then everything recorded is spooled: nothing more will come.
      await page.evaluate(() => document.querySelector('#preview').srcObject?.getTracks().forEach((t) => t.stop()));
      await page.waitForFunction(() => {
        const written = window.__recorded.blobs.reduce((n, b) => n + b.size, 0);
        return written > 0 && Number(document.querySelector('#st-spooled').dataset.bytes) === written;
      }, null, { timeout: 10_000 });
      const rec = await recorded(page);
      assert.ok(rec.blobs.length >= blobsOffline + 2, `recorded offline (${blobsOffline} -> ${rec.blobs.length} blobs)`);
      await network(false);
      await page.reload();
      await page.waitForSelector('#status[data-status="ready"]', { timeout: 20_000 });
      await page.waitForSelector('#unfinished:not([hidden]) li button.resume', { timeout: 10_000 });
      const listed = await page.$$eval('#unfinished-list li', (lis) => lis.map((li) => li.textContent));
      assert.equal(listed.length, 1, listed.join('\n'));
      assert.ok(listed[0].includes(key), listed[0]);
      await page.screenshot({ path: join(OUT, 'demo-unfinished.png'), fullPage: true });
      await page.click('#unfinished-list li button.resume');
      await page.waitForSelector('#unfinished-list li[data-state="resumed"], #unfinished-list li[data-state="failed"]');
      const state = await page.$eval('#unfinished-list li', (li) => ({ ...li.dataset, text: li.textContent }));
      assert.equal(state.state, 'resumed', state.text);
      const local = Buffer.from(rec.base64, 'base64');
      assert.equal(state.position, String(local.length));
      const { bytes, info } = await stored(key);
      assert.ok(bytes.equals(local), 'the object is byte for byte the recording, the offline part included');
      assert.equal(String(info.crc64), refCrc64(local));
      await context.close();
    });
});
