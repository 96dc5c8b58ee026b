// Recordings survive a tab crash and a reload, in headless Chromium: a page records with a spool, the network goes
// offline (DevTools protocol), more than 5 MiB more is written, then the renderer crashes (Page.crash) or the page
// reloads. A new page on the same origin lists the spool and reopens it: the object is byte-identical to everything
// written before, and no secret is in OPFS. The same from a dedicated worker (through an emulator outage), and
// with IndexedDB where OPFS is missing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { controller, openStreamsPage } from './helpers/streaming.mjs';
import { assertStored, uniqueKey } from './helpers/util.mjs';
import { Pattern } from './pages/streams.js';

const KIB = 1024;
const FIRST = 512 * KIB;
const OFFLINE = 5 * 1024 * KIB + 300 * KIB;
const SEED = 31; // of the recording's bytes, Pattern(SEED) in the page, the worker and here
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
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

const recording = new Pattern(SEED);
/** The recording's bytes `[from, to)`: the same in the page and here. */
function pattern(from, to) {
  return recording.read(from, to - from);
}

/** In the page: records FIRST bytes (confirmed), then waits for the test to go offline and spools OFFLINE more. */
async function recordInPage(page, cfg) {
  await page.evaluate(async ({ options, key, first, seed }) => {
    const { default: OSS } = window.ossAppend;
    const client = new OSS(options);
    window.w = await client.openAppender(key, { spool: 'rec-tab', minPartSize: 0, maxRetryDelay: 600_000 });
    const recording = new window.streams.Pattern(seed);
    window.pattern = (from, to) => recording.read(from, to - from);
    await window.w.write(window.pattern(0, first));
  }, { ...cfg, seed: SEED });
}

async function spoolOffline(page, { first, offline }) {
  return page.evaluate(async ({ first, offline }) => {
    const w = window.w;
    for (let at = first; at < first + offline; at += 256 * 1024) {
      w.write(window.pattern(at, Math.min(at + 256 * 1024, first + offline))).catch(() => {});
    }
    const t0 = Date.now();
    while (w.spooled < first + offline) {
      if (Date.now() - t0 > 20_000) throw new Error(`spooled ${w.spooled} of ${first + offline}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { spooled: w.spooled, buffered: w.buffered, position: w.position };
  }, { first, offline });
}

/** OPFS's files under the spool directory, as latin1 text, from a page of the origin. */
function opfsTexts(page) {
  return page.evaluate(async () => {
    const out = [];
    const walk = async (dir, path) => {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'directory') await walk(h, `${path}/${name}`);
        else {
          const bytes = new Uint8Array(await (await h.getFile()).arrayBuffer());
          let text = '';
          for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
          out.push([`${path}/${name}`, text]);
        }
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return out;
  });
}

async function resumeInNewPage(context, key) {
  const page = await context.newPage();
  await page.goto(`${site.origin}/streams.html`);
  await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
  const secretsSeen = (await opfsTexts(page))
    .filter(([, text]) => text.includes(emu.accessKeySecret) || text.includes(emu.accessKeyId)).map(([p]) => p);
  const out = await page.evaluate(async ({ options, key }) => {
    const { default: OSS } = window.ossAppend;
    const client = new OSS(options);
    const listed = (await client.listUnfinished()).map((l) => ({ ...l, updatedAt: typeof l.updatedAt.getTime() }));
    const w = await client.openAppender(key, { spool: 'rec-tab' });
    const closed = await w.close();
    return { listed, closed, after: await client.listUnfinished() };
  }, { options: emu.clientOptions(), key });
  await page.close();
  return { ...out, secretsSeen };
}

for (const how of ['crash', 'reload']) {
  test(`a spooled recording survives a tab ${how} while offline: the new page resumes it byte-identical`, T,
    async () => {
      const key = uniqueKey(`spool-tab-${how}`, 'rec.webm');
      const { control } = controller(emu, OSS);
      const { page, context } = await openStreamsPage(browser, site.origin, control,
        { ignore: [/./] });
      await recordInPage(page, { options: emu.clientOptions(), key, first: FIRST });
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions',
        { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      const before = await spoolOffline(page, { first: FIRST, offline: OFFLINE });
      assert.equal(before.position, String(FIRST), 'nothing reached OSS while offline');
      assert.equal(before.buffered, OFFLINE);
      if (how === 'crash') {
        const crashed = new Promise((r) => page.once('crash', r));
        cdp.send('Page.crash').catch(() => {});   // never answers: the renderer is gone
        await crashed;
      } else {
        await cdp.send('Network.emulateNetworkConditions',
          { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
        // A reload that cuts the appender off: the page goes away before it could send anything.
        await page.goto('about:blank');
        await page.close();
      }
      const out = await resumeInNewPage(context, key);
      assert.deepEqual(out.listed, [{ spool: 'rec-tab', name: key, position: String(FIRST), pending: OFFLINE,
        updatedAt: 'number' }]);
      assert.equal(out.closed.nextAppendPosition, String(FIRST + OFFLINE));
      assert.deepEqual(out.after, [], 'a successful close deletes the spool');
      assert.deepEqual(out.secretsSeen, [], 'no credential in OPFS');
      await assertStored(emu, key, Buffer.from(pattern(0, FIRST + OFFLINE)), 'byte-identical, CRC verified');
      await context.close();
    });
}

/** Runs `cmd` in the page's spool worker (made on first use); resolves what it posts back. */
function inWorker(page, message) {
  return page.evaluate(async (m) => {
    if (!window.spoolWorker) {
      // Messages sent before the worker's module has run would be lost: wait for its first word.
      const worker = new Worker('/spool-worker.js', { type: 'module' });
      await new Promise((resolve) => { worker.onmessage = resolve; });
      window.spoolWorker = worker;
    }
    return new Promise((resolve) => {
      window.spoolWorker.onmessage = ({ data }) => resolve(data);
      window.spoolWorker.postMessage(m);
    });
  }, message);
}

test('a spooled recording in a dedicated worker survives a reload during an outage', T, async () => {
  const key = uniqueKey('spool-worker', 'rec.webm');
  const { control } = controller(emu, OSS);
  const { page, context } = await openStreamsPage(browser, site.origin, control, { ignore: [/./] });
  const base = { options: emu.clientOptions(), key, first: FIRST, offline: OFFLINE, seed: SEED };
  assert.deepEqual(await inWorker(page, { ...base, cmd: 'record' }), { ok: true, position: String(FIRST) });
  await emu.halt();
  let spooled;
  try {
    spooled = await inWorker(page, { ...base, cmd: 'more' });
    await page.reload();   // the worker goes with its page
  } finally {
    await emu.restart();
  }
  assert.deepEqual(spooled, { ok: true, spooled: FIRST + OFFLINE, buffered: OFFLINE, position: String(FIRST) });
  await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
  const out = await inWorker(page, { ...base, cmd: 'resume' });
  assert.equal(out.ok, true, out.error);
  assert.deepEqual(out.listed, [{ spool: 'rec-worker', name: key, position: String(FIRST), pending: OFFLINE,
    updatedAt: 'number' }]);
  assert.equal(out.closed.nextAppendPosition, String(FIRST + OFFLINE));
  assert.deepEqual(out.after, []);
  await assertStored(emu, key, Buffer.from(pattern(0, FIRST + OFFLINE)), 'byte-identical, CRC verified');
  await context.close();
});

test('where OPFS is missing, the spool lives in IndexedDB and survives a reload; no secret in it', T, async () => {
  const key = uniqueKey('spool-idb', 'rec.webm');
  const { control } = controller(emu, OSS);
  const context = await browser.newContext();
  await context.exposeFunction('e2eControl', control);
  // A browser without OPFS's createWritable (Safari before 17.4, for one): the package must fall back.
  await context.addInitScript(() => { delete FileSystemFileHandle.prototype.createWritable; });
  const open = async () => {
    const page = await context.newPage();
    await page.goto(`${site.origin}/streams.html`);
    await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
    return page;
  };
  const page = await open();
  await recordInPage(page, { options: emu.clientOptions(), key, first: FIRST });
  await emu.halt();
  try {
    const before = await spoolOffline(page, { first: FIRST, offline: 2 * 1024 * KIB });
    assert.equal(before.buffered, 2 * 1024 * KIB);
    await page.close();
  } finally {
    await emu.restart();
  }
  const next = await open();
  const stored = await next.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('oss-append-spool');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const all = req.result.transaction('entries').objectStore('entries').getAll();
      all.onsuccess = () => resolve(all.result.map((v) => {
        const bytes = v.data instanceof Uint8Array ? v.data : new Uint8Array(0);
        let text = '';
        for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return text;
      }));
    };
  }));
  assert.ok(stored.length >= 2, `the spool is in IndexedDB (${stored.length} entries)`);
  assert.ok(!stored.some((t) => t.includes(emu.accessKeySecret) || t.includes(emu.accessKeyId)), 'no credential');
  assert.equal(await next.evaluate(async () => (await navigator.storage.getDirectory()
    .then(async (d) => { for await (const _ of d.keys()) return 'used'; return 'empty'; }))), 'empty', 'OPFS unused');
  const out = await next.evaluate(async ({ options, key }) => {
    const client = new window.ossAppend.default(options);
    const listed = (await client.listUnfinished()).map((l) => [l.spool, l.position, l.pending]);
    const closed = await (await client.openAppender(key, { spool: 'rec-tab' })).close();
    return { listed, closed, after: await client.listUnfinished() };
  }, { options: emu.clientOptions(), key });
  assert.deepEqual(out.listed, [['rec-tab', String(FIRST), 2 * 1024 * KIB]]);
  assert.deepEqual(out.after, []);
  await assertStored(emu, key, Buffer.from(pattern(0, FIRST + 2 * 1024 * KIB)), 'byte-identical, CRC verified');
  await context.close();
});

test('the last append landed but its answer was lost, then a reload: nothing is duplicated', T, async () => {
  const key = uniqueKey('spool-tab-lost', 'rec.webm');
  const { control } = controller(emu, OSS);
  const { page, context } = await openStreamsPage(browser, site.origin, control, { ignore: [/./] });
  await recordInPage(page, { options: emu.clientOptions(), key, first: FIRST });
  const more = 700 * KIB;
  // The append lands but its answer is lost, and so are the answers that would tell the page so.
  await emu.armFault({ kind: 'drop_after_commit', op: 'append', key });
  await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'head', key, count: 100 });
  await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 100 });
  try {
    const before = await page.evaluate(async ({ first, more }) => {
      const w = window.w;
      w.write(window.pattern(first, first + more)).catch(() => {});
      const t0 = Date.now();
      while (w.spooled < first + more || w.state !== 'retrying') {
        if (Date.now() - t0 > 20_000) throw new Error(`spooled ${w.spooled}, state ${w.state}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { position: w.position, state: w.state };
    }, { first: FIRST, more });
    assert.deepEqual(before, { position: String(FIRST), state: 'retrying' }, 'the page never heard back');
    await page.goto('about:blank');
    await page.close();
  } finally {
    await emu.clearFaults();
  }
  assert.equal((await emu.object(key)).size, FIRST + more, 'the append had landed');
  const out = await resumeInNewPage(context, key);
  assert.deepEqual(out.listed.map((l) => [l.spool, l.position, l.pending]), [['rec-tab', String(FIRST), more]]);
  assert.equal(out.closed.nextAppendPosition, String(FIRST + more));
  await assertStored(emu, key, Buffer.from(pattern(0, FIRST + more)), 'no byte twice');
  await context.close();
});
