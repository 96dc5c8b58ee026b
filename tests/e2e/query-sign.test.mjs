// Query-signed appends: in headless Chromium, appends after the creating one go as CORS simple requests (a POST to a
// short-lived presigned URL, no custom header, a body without Content-Type), so a whole session pays at most one
// preflight, the creating append's. Checked through the emulator's request log, which records every OPTIONS with the
// key and position it precedes (preflight_key, position), for an appender session of 20 appends and a 10-part
// append() (Blob and bytes), V1 and V4, with and without STS; with the emulator's clock 30 minutes off either way;
// and, as the control, with querySign: false, where every append is preflighted. In Node: 'auto' signs in headers,
// true in the query (told apart by the error a skewed clock draws), a bad value is refused, and no signature shows
// in results or errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, openTestPage, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertNoSecret, assertStored, rejects, uniqueKey } from './helpers/util.mjs';
import { pattern } from './pages/common.js';

const T = { timeout: 120_000 };
const SESSION_APPENDS = 20;
const PARTS = 10;
const PART_SIZE = 32 * 1024;
const SECRET_PARAMS = /(Signature|OSSAccessKeyId|security-token|x-oss-credential|x-oss-signature)=/i;

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

async function ready() {
  const { page, problems } = await openTestPage(browser, `${site.origin}/index.html`);
  assert.notEqual(new URL(site.origin).origin, new URL(emu.url).origin, 'the page is cross-origin');
  return { page, problems };
}

/**
 * In the page: an appender session of SESSION_APPENDS flushed writes, a PARTS-part append() of a typed Blob and
 * one of bytes, and a continuing append() on a fresh client (its first request is query-signed before any clock
 * correction). Resolves what the client reported.
 */
function runInPage(page, { options, keys }) {
  return page.evaluate(async ({ options, keys, appends, parts, partSize }) => {
    const { default: OSS } = window.ossAppend;
    const { pattern, errorFields } = window.testCommon;
    try {
      const client = new OSS(options);
      const w = await client.openAppender(keys.session, { minPartSize: 1, flushInterval: 60_000 });
      for (let i = 0; i < appends; i++) {
        const written = w.write(pattern(1000 + i * 37, i + 1));
        await w.flush();
        await written;
      }
      const session = await w.close();

      const blob = new Blob([pattern(parts * partSize, 50)], { type: 'video/webm' });
      const fromBlob = await client.append(keys.blob, blob, { partSize });
      const fromBytes = await client.append(keys.bytes, pattern(parts * partSize - 5, 51), { partSize });

      const fresh = new OSS(options);
      const continued = await fresh.append(keys.bytes, pattern(777, 52), { position: fromBytes.nextAppendPosition });
      return {
        session,
        blob: { next: fromBlob.nextAppendPosition, crc64: fromBlob.crc64, urls: fromBlob.res.requestUrls },
        bytes: { next: fromBytes.nextAppendPosition, crc64: fromBytes.crc64, urls: fromBytes.res.requestUrls },
        continued: { next: continued.nextAppendPosition, crc64: continued.crc64, urls: continued.res.requestUrls },
      };
    } catch (err) {
      return { error: errorFields(err) };
    }
  }, { options, keys, appends: SESSION_APPENDS, parts: PARTS, partSize: PART_SIZE });
}

/** The bytes runInPage wrote, per key. */
function expected() {
  const session = [];
  for (let i = 0; i < SESSION_APPENDS; i++) session.push(pattern(1000 + i * 37, i + 1));
  return {
    session: Buffer.concat(session),
    blob: pattern(PARTS * PART_SIZE, 50),
    bytes: Buffer.concat([pattern(PARTS * PART_SIZE - 5, 51), pattern(777, 52)]),
  };
}

/** The request log for `key`: its appends and the preflights before them. */
async function traffic(key) {
  const log = await emu.requestLog();
  return {
    appends: log.filter((e) => e.key === key && e.method === 'POST' && e.op === 'append'),
    preflights: log.filter((e) => e.method === 'OPTIONS' && e.preflight_key === key),
  };
}

async function checkStored(keys, out) {
  const want = expected();
  await assertStored(emu, keys.session, want.session, 'the session');
  await assertStored(emu, keys.blob, want.blob, 'the Blob append');
  await assertStored(emu, keys.bytes, want.bytes, 'the byte appends');
  assert.equal(out.session.nextAppendPosition, String(want.session.length));
  assert.equal(out.session.crc64, (await emu.object(keys.session)).crc64, 'the session CRC-64 the client reports');
  assert.equal(out.blob.crc64, (await emu.object(keys.blob)).crc64);
  assert.equal(out.continued.crc64, (await emu.object(keys.bytes)).crc64);
  for (const urls of [out.blob.urls, out.bytes.urls, out.continued.urls]) {
    assert.ok(urls.length >= 1);
    for (const url of urls) assert.doesNotMatch(url, SECRET_PARAMS, 'res.requestUrls shows no signature');
  }
}

function keysFor(label) {
  return {
    session: uniqueKey(label, 'session.webm'),
    blob: uniqueKey(label, 'blob.webm'),
    bytes: uniqueKey(label, 'bytes.bin'),
  };
}

describe('query-signed appends in headless Chromium', () => {
  for (const v4 of [false, true]) {
    for (const sts of [false, true]) {
      const label = `${v4 ? 'V4' : 'V1'}${sts ? ' with STS' : ''}`;
      test(`${label}: one preflight per object at most, none after the creating append; bytes and CRC right`, T,
        async () => {
          const creds = sts ? await emu.issueCredentials() : {};
          const { page, problems } = await ready();
          const keys = keysFor(`qs-${v4 ? 'v4' : 'v1'}${sts ? '-sts' : ''}`);
          const out = await runInPage(page, { options: emu.clientOptions({ authorizationV4: v4, ...creds }), keys });
          assert.equal(out.error, undefined, JSON.stringify(out.error));
          await checkStored(keys, out);

          const session = await traffic(keys.session);
          assert.equal(session.appends.length, SESSION_APPENDS, 'one POST per session append');
          assert.ok(session.appends.every((e) => e.status === 200));
          assert.ok(session.preflights.length <= 1, `session preflights: ${JSON.stringify(session.preflights)}`);
          assert.ok(session.preflights.every((e) => e.position === '0'), 'only the creating append is preflighted');
          for (const key of [keys.blob, keys.bytes]) {
            const t = await traffic(key);
            assert.ok(t.appends.length >= PARTS);
            assert.ok(t.appends.every((e) => e.status === 200));
            assert.ok(t.preflights.length <= 1, `${key}: ${JSON.stringify(t.preflights)}`);
            assert.ok(t.preflights.every((e) => e.position === '0'), `${key}: ${JSON.stringify(t.preflights)}`);
          }
          assert.deepEqual(problems, []);
          await page.close();
        });
    }
  }

  for (const [offsetMin, v4] of [[30, false], [30, true], [-30, false], [-30, true]]) {
    const shown = `${offsetMin > 0 ? '+' : ''}${offsetMin} min, ${v4 ? 'V4' : 'V1'}`;
    test(`the emulator's clock ${shown}: corrected, retried, done`, T,
      async () => {
        const { page } = await ready();
        const keys = keysFor(`qs-clock-${offsetMin}-${v4 ? 'v4' : 'v1'}`);
        await emu.setClockOffset(offsetMin * 60_000);
        try {
          const out = await runInPage(page, { options: emu.clientOptions({ authorizationV4: v4 }), keys });
          assert.equal(out.error, undefined, JSON.stringify(out.error));
          await checkStored(keys, out);
        } finally {
          await emu.setClockOffset(0);
        }
        const rejected = (await traffic(keys.bytes)).appends.filter((e) => e.status === 403);
        // A clock behind by 30 min makes every signature wrong in time except a V1 URL's expiry in the future.
        if (offsetMin > 0 || v4) assert.ok(rejected.length >= 1, 'the skewed clock was met and corrected');
        for (const e of rejected) assert.match(e.code, /^(AccessDenied|RequestTimeTooSkewed)$/);
        const session = await traffic(keys.session);
        assert.ok(session.preflights.every((e) => e.position === '0'));
        await page.close();
      });
  }

  test('what Chromium sends for each body kind: only a typed Blob adds a Content-Type (and a preflight)', T,
    async () => {
      const { page } = await ready();
      const kinds = ['Uint8Array', 'ArrayBuffer', 'Blob', 'slice of a typed Blob', 'typed Blob'];
      const keys = Object.fromEntries(kinds.map((k) => [k, uniqueKey('qs-body', `${k.replace(/ /g, '-')}.bin`)]));
      const statuses = await page.evaluate(async ({ options, keys }) => {
        const { default: OSS } = window.ossAppend;
        const client = new OSS({ ...options, authorizationV4: false });
        const bytes = new Uint8Array(100).fill(7);
        const bodies = {
          Uint8Array: bytes,
          ArrayBuffer: bytes.slice().buffer,
          Blob: new Blob([bytes]),
          'slice of a typed Blob': new Blob([bytes], { type: 'video/webm' }).slice(0, 100),
          'typed Blob': new Blob([bytes], { type: 'video/webm' }),
        };
        const out = {};
        for (const [kind, body] of Object.entries(bodies)) {
          // A presigned append at position 0 that signs no Content-Type: what the client sends for later appends.
          const url = client.signatureUrl(keys[kind],
            { method: 'POST', expires: 60, subResource: { append: '', position: '0' } });
          const res = await fetch(url, { method: 'POST', body });
          out[kind] = res.status;
        }
        return out;
      }, { options: emu.clientOptions(), keys });
      // The typed Blob's Content-Type is not in the signature: OSS refuses it, after a preflight.
      assert.deepEqual(statuses,
        { Uint8Array: 200, ArrayBuffer: 200, Blob: 200, 'slice of a typed Blob': 200, 'typed Blob': 403 });
      for (const kind of kinds) {
        const t = await traffic(keys[kind]);
        assert.equal(t.preflights.length, kind === 'typed Blob' ? 1 : 0, `${kind}: ${JSON.stringify(t.preflights)}`);
      }
      await page.close();
    });

  test('querySign: false preflights every append (the control for the counts above)', T, async () => {
    const { page } = await ready();
    const keys = keysFor('qs-off');
    const out = await runInPage(page, { options: emu.clientOptions({ querySign: false }), keys });
    assert.equal(out.error, undefined, JSON.stringify(out.error));
    await checkStored(keys, out);
    const session = await traffic(keys.session);
    assert.equal(session.appends.length, SESSION_APPENDS);
    assert.equal(session.preflights.length, SESSION_APPENDS, 'each header-signed append URL is preflighted');
    await page.close();
  });
});

describe('querySign in Node', () => {
  let OSS;
  before(async () => {
    ({ OSS } = await loadEsm());
  });

  test("'auto' signs in headers, true in the query: a clock 20 min ahead draws different errors", T, async () => {
    const first = uniqueKey('qs-node', 'a.bin');
    await new OSS(emu.clientOptions()).append(first, pattern(100, 1));
    await emu.setClockOffset(20 * 60_000);
    try {
      const expected = [['auto', 'RequestTimeTooSkewed'], [true, 'AccessDenied'], [false, 'RequestTimeTooSkewed']];
      for (const [querySign, code] of expected) {
        await emu.clearLog();
        const key = uniqueKey('qs-node', 'b.bin');
        const client = new OSS(emu.clientOptions({ querySign }));
        const base = await client.append(key, pattern(10, 2));
        // A fresh client's first append at a position after 0: no header to carry, no clock learned yet.
        const fresh = new OSS(emu.clientOptions({ querySign }));
        const r = await fresh.append(key, pattern(20, 3), { position: base.nextAppendPosition });
        assert.equal(r.nextAppendPosition, '30');
        const continuing = (await emu.requestsFor(key)).filter((e) => e.position === '10');
        assert.deepEqual(continuing.map((e) => [e.status, e.code]), [[403, code], [200, null]],
          `querySign ${querySign}`);
        await assertStored(emu, key, Buffer.concat([pattern(10, 2), pattern(20, 3)]));
      }
    } finally {
      await emu.setClockOffset(0);
    }
  });

  test('a bad querySign is refused before anything is sent, naming what is accepted', T, async () => {
    for (const value of ['always', 'Auto', 'true', 1, {}]) {
      assert.throws(() => new OSS(emu.clientOptions({ querySign: value })), (err) => {
        assert.equal(err.code, 'InvalidArgument');
        assert.match(err.message, /querySign/);
        assert.match(err.message, /'auto'.*true.*false/);
        return true;
      });
    }
  });

  test('no signature, credential or token in res.requestUrls or in errors of query-signed appends', T, async () => {
    const creds = await emu.issueCredentials();
    const client = new OSS(emu.clientOptions({ querySign: true, ...creds }));
    const key = uniqueKey('qs-node', 'c.bin');
    const r = await client.append(key, pattern(3 * 1000, 4), { partSize: 1000 });
    assert.equal(r.res.requestUrls.length, 3);
    for (const url of r.res.requestUrls) {
      assert.doesNotMatch(url, SECRET_PARAMS);
      assert.ok(!url.includes(creds.stsToken) && !url.includes(creds.accessKeyId), url);
    }
    const err = await rejects(client.append(key, pattern(5, 5), { position: 1 }), { code: 'PositionNotEqualToLength' });
    const secrets = [creds.stsToken, creds.accessKeySecret, 'Signature=', 'x-oss-signature=', 'x-oss-credential='];
    for (const secret of secrets) {
      assertNoSecret(err, secret);
    }
    // A rejected signature's error quotes what was signed; the token and signature stay hidden.
    const wrong = new OSS(emu.clientOptions({ querySign: true, ...creds, accessKeySecret: 'not-the-secret' }));
    const denied = await rejects(wrong.append(key, pattern(5, 6), { position: r.nextAppendPosition }),
      { code: 'SignatureDoesNotMatch' });
    for (const secret of [creds.stsToken, 'not-the-secret', creds.accessKeySecret]) assertNoSecret(denied, secret);
  });
});
