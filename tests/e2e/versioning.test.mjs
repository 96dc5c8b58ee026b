// Versioned buckets, in Node and in headless Chromium against the emulator with versioning enabled: appends answer
// versionId 'null' and make one version; a put freezes the appendable version (still readable with versionId 'null',
// no longer appendable); a delete makes a delete marker; 'resume' after a delete starts a new object at 0.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, openTestPage, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { uniqueKey } from './helpers/util.mjs';
import { resumeAfterDelete, versionedFlow } from './pages/versioned-flow.js';

const require = createRequire(import.meta.url);
const T = { timeout: 60_000 };

let OSS;
let emu;
let browser;
let site;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator({ versioning: 'enabled' });
});
after(async () => {
  await closeBrowserSuite(browser, site);
  await emu?.stop();
});

/** The emulator's versions of `key` at each checkpoint, as (id, marker, type, size). */
function checkpoints(key) {
  return async () => (await emu.versions(key)).map((v) => ({
    id: v.version_id, marker: v.delete_marker, type: v.type, size: v.size,
  }));
}

/** What every run of the flow must have seen, wherever it ran. */
function assertFlow(out) {
  assert.deepEqual(out.appendVersionIds, ['null', 'null']);
  assert.deepEqual(out.afterAppends, [{ id: 'null', marker: false, type: 'Appendable', size: 4234 }]);
  assert.match(out.putVersionId, /^[A-Za-z0-9_-]+$/);
  assert.notEqual(out.putVersionId, 'null');
  assert.equal(out.oldIsAppended, true);
  assert.equal(out.oldVersionHeader, 'null');
  assert.deepEqual(out.oldHead, { versionId: 'null', objectType: 'Appendable', length: '4234' });
  assert.deepEqual(out.currentHead, { versionId: out.putVersionId, objectType: 'Normal' });
  assert.equal(out.appendAfterPut.name, 'ObjectNotAppendableError');
  assert.equal(out.appendAfterPut.status, 409);
  assert.equal(out.resumeAfterPut.name, 'ObjectNotAppendableError');
  assert.equal(out.deleted.deleteMarker, true);
  assert.equal(out.deleted.status, 204);
  assert.match(out.deleted.versionId, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(out.afterDelete.map((v) => [v.id, v.marker]),
    [[out.deleted.versionId, true], [out.putVersionId, false], ['null', false]]);
  assert.equal(out.getAfterDelete.status, 404);
  assert.equal(out.getAfterDelete.name, 'NoSuchKeyError');
  assert.equal(out.keptIsAppended, true);
  assert.equal(out.putVersionLength, 100);
  assert.equal(out.appenderAfterDelete.name, 'ObjectNotAppendableError', JSON.stringify(out.appenderAfterDelete));
  assert.equal(out.badVersionId.name, 'InvalidArgumentError');
  assert.match(out.badVersionId.message, /options\.versionId/);
}

const client = () => new OSS(emu.clientOptions({ retryMax: 0 }));

describe('versioned bucket, Node', () => {
  test('append, put, append, delete: version ids, the frozen appendable version, the delete marker', T, async () => {
    const key = uniqueKey('versioned', 'take.webm');
    const out = await versionedFlow(OSS, emu.clientOptions(), key, checkpoints(key));
    assertFlow(out);
    // The bad versionId never left the client.
    const log = await emu.requestsFor(key);
    assert.ok(log.every((e) => e.status !== 400), JSON.stringify(log.map((e) => [e.op, e.status])));
  });

  test('ali-oss lists the one null version the appends made', T, async () => {
    const AliOSS = require('ali-oss');
    const key = uniqueKey('versioned-list');
    const client = new OSS(emu.clientOptions());
    const first = await client.append(key, new Uint8Array(10));
    await client.append(key, new Uint8Array(5), { position: first.nextAppendPosition });
    const { pathStyle, ...common } = emu.clientOptions();
    const ali = new AliOSS({ ...common, endpoint: `http://localhost:${emu.port}`, secure: false, sldEnable: true });
    const listed = await ali.getBucketVersions({ prefix: key });
    assert.deepEqual(listed.objects.map((o) => [o.name, o.versionId, o.isLatest, o.size, o.type]),
      [[key, 'null', true, 15, 'Appendable']]);
    assert.deepEqual(listed.deleteMarker, []);
  });

  test('an append whose answer is lost, checked by HEAD against a delete marker, names the frozen version', T,
    async () => {
      const key = uniqueKey('versioned-recover');
      const first = await client().append(key, new Uint8Array(100));
      await client().delete(key);
      // The next append is answered 503 before anything is applied: the client checks with a HEAD, which finds
      // the delete marker, so nothing is re-sent.
      await emu.armFault({ kind: 'error_before_commit', op: 'append', key, status: 503 });
      let err;
      try {
        await client().append(key, new Uint8Array(10), { position: first.nextAppendPosition });
      } catch (e) {
        err = e;
      }
      assert.equal(err?.name, 'ObjectNotAppendableError', String(err));
      assert.match(err.message, /delete marker/);
      assert.match(err.message, /versionId 'null'/);
      const ops = (await emu.requestsFor(key)).map((e) => `${e.op} ${e.status}`);
      assert.deepEqual(ops, ['append 200', 'delete 204', 'append 503', 'head 404']);
    });

  test('suspended: appends and puts both answer versionId null, and the put replaces the null version', T,
    async () => {
      const key = uniqueKey('versioned-suspended');
      assert.equal(await emu.setVersioning('suspended'), 'suspended');
      try {
        const a = await client().append(key, new Uint8Array(8));
        assert.equal(a.versionId, 'null');
        const p = await client().put(key, new Uint8Array([1, 2, 3]));
        assert.equal(p.versionId, 'null');
        assert.deepEqual([...(await client().get(key, { versionId: 'null' })).content], [1, 2, 3]);
        assert.deepEqual((await emu.versions(key)).map((v) => [v.version_id, v.type]), [['null', 'Normal']]);
      } finally {
        await emu.setVersioning('enabled');
      }
    });

  test("'resume' where the current version is a delete marker starts a new object at 0", T, async () => {
    const out = await resumeAfterDelete(OSS, emu.clientOptions(), uniqueKey('versioned-resume'));
    assert.deepEqual(out, { startedAt: '0', nextAppendPosition: '700', readsFresh: true });
  });
});

describe('versioned bucket, headless Chromium', () => {
  before(async () => {
    ({ browser, site } = await startBrowserSuite());
  });

  test('the same flow from a page, cross-origin', T, async () => {
    const { page, problems } = await openTestPage(browser, `${site.origin}/index.html`, {
      // The flow's expected failures (409, 404) show as failed resources in the console.
      ignore: [/status of 40[49]/],
    });
    const key = uniqueKey('versioned-browser', 'take.webm');
    const marks = {};
    // Checkpoints are answered from Node: the page asks, the test reads the emulator's versions.
    await page.exposeFunction('versionsAt', async (name) => {
      marks[name] = await checkpoints(key)();
      return marks[name];
    });
    const out = await page.evaluate(async ({ options, key }) => {
      const { versionedFlow } = await import('/versioned-flow.js');
      return versionedFlow(window.ossAppend.default, options, key, (name) => window.versionsAt(name));
    }, { options: emu.clientOptions(), key });
    assertFlow(out);
    const resumed = await page.evaluate(async ({ options, key }) => {
      const { resumeAfterDelete } = await import('/versioned-flow.js');
      return resumeAfterDelete(window.ossAppend.default, options, key);
    }, { options: emu.clientOptions(), key: uniqueKey('versioned-browser-resume') });
    assert.deepEqual(resumed, { startedAt: '0', nextAppendPosition: '700', readsFresh: true });
    assert.deepEqual(problems, []);
    await page.close();
  });
});
