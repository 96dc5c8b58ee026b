// ali-oss (the npm SDK) against the local oss-emulator, signing V1 (its default) and V4 (`authorizationV4: true`).
// Each signature version gets its own emulator started with `--auth v1` or `--auth v4`, so passing means ali-oss
// really spoke that version. Run: node --test ali-oss.test.mjs
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import {
  ACCESS_KEY_ID, ACCESS_KEY_SECRET, BUCKET, IDENTITY, REGION, STS_TOKEN, TEST_DOMAIN, crc64, httpGet, payload,
  testAgent, uniqueKey,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
const OSS = require('ali-oss');

const T = { timeout: 20_000 };

/**
 * An ali-oss client for the emulator, in one of four addressing styles:
 *  - 'virtual': endpoint http://oss-emulator.interop.test:<port> → Host <bucket>.oss-emulator.interop.test, /key
 *  - 'cname':   endpoint http://media.interop.test:<port>, `cname: true` → /key; the emulator's default bucket
 *  - 'path':    endpoint http://localhost:<port>, `sldEnable: true` → /bucket/key
 *  - 'ip':      endpoint http://127.0.0.1:<port> → /key with `Host: <bucket>.oss-<region>.aliyuncs.com` (ali-oss's IP mode)
 * `*.interop.test` resolves to 127.0.0.1 through `testAgent`.
 */
function makeClient(emu, { v4, mode, secret = ACCESS_KEY_SECRET, stsToken }) {
  const host = {
    virtual: `oss-emulator.${TEST_DOMAIN}`,
    cname: `media.${TEST_DOMAIN}`,
    path: 'localhost',
    ip: '127.0.0.1',
  }[mode];
  assert.ok(host, `unknown addressing mode ${mode}`);
  return new OSS({
    region: `oss-${REGION}`,
    bucket: BUCKET,
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: secret,
    endpoint: `http://${host}:${emu.port}`,
    secure: false,
    cname: mode === 'cname',
    sldEnable: mode === 'path',
    authorizationV4: v4,
    stsToken,
    agent: testAgent,
    timeout: 10_000,
  });
}

async function rejectsWith(promise, { status, code }) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a ${status} ${code} error, got success`);
  assert.equal(err.code, code, `code (message: ${err.message})`);
  assert.equal(err.status, status, 'status');
  assert.equal(err.name, `${code}Error`);
  return err;
}

function tamper(url, param) {
  const u = new URL(url);
  const v = u.searchParams.get(param);
  assert.ok(v, `${param} missing from ${url}`);
  u.searchParams.set(param, (v[0] === 'A' ? 'B' : 'A') + v.slice(1));
  return u.toString();
}

const VARIANTS = [
  { name: 'V1', v4: false, auth: 'v1', mode: 'virtual' },
  { name: 'V4 (authorizationV4: true)', v4: true, auth: 'v4', mode: 'path' },
];

for (const variant of VARIANTS) {
  describe(`ali-oss ${variant.name}`, () => {
    let emu;
    let client;
    const presign = (key, expires) => (variant.v4
      ? client.signatureUrlV4('GET', expires, undefined, key)
      : Promise.resolve(client.signatureUrl(key, { expires })));
    const signatureParam = variant.v4 ? 'x-oss-signature' : 'Signature';

    before(async () => {
      emu = await startEmulator({ ...IDENTITY, auth: variant.auth });
      client = makeClient(emu, variant);
    }, T);
    after(async () => { await emu?.stop(); }, T);

    test('append twice with nextAppendPosition, then HEAD, GET and Range GET', T, async () => {
      const key = uniqueKey('append-twice');
      const part1 = payload(1000, 'ali-a');
      const part2 = payload(777, 'ali-b');
      const whole = Buffer.concat([part1, part2]);

      const r1 = await client.append(key, part1);
      assert.equal(r1.res.status, 200);
      assert.equal(r1.nextAppendPosition, String(part1.length));
      assert.equal(r1.res.headers['x-oss-hash-crc64ecma'], crc64(part1));

      const r2 = await client.append(key, part2, { position: r1.nextAppendPosition });
      assert.equal(r2.nextAppendPosition, String(whole.length));
      assert.equal(r2.res.headers['x-oss-hash-crc64ecma'], crc64(whole));
      assert.equal(r2.res.headers['x-oss-hash-crc64ecma'], crc64(part2, r1.res.headers['x-oss-hash-crc64ecma']));

      const head = await client.head(key);
      assert.equal(head.status, 200);
      assert.equal(head.res.headers['x-oss-object-type'], 'Appendable');
      assert.equal(head.res.headers['content-length'], String(whole.length));
      assert.equal(head.res.headers['x-oss-next-append-position'], String(whole.length));
      assert.equal(head.res.headers['x-oss-hash-crc64ecma'], crc64(whole));

      const got = await client.get(key);
      assert.equal(got.res.status, 200);
      assert.ok(Buffer.from(got.content).equals(whole), 'GET returns the exact bytes');

      const ranged = await client.get(key, { headers: { Range: 'bytes=995-1004' } });
      assert.equal(ranged.res.status, 206);
      assert.ok(Buffer.from(ranged.content).equals(whole.subarray(995, 1005)));
      assert.equal(ranged.res.headers['content-range'], `bytes 995-1004/${whole.length}`);

      // Several ranges: OSS returns only the first.
      const multi = await client.get(key, { headers: { Range: 'bytes=10-19,500-599' } });
      assert.equal(multi.res.status, 206);
      assert.ok(Buffer.from(multi.content).equals(whole.subarray(10, 20)));
      assert.equal(multi.res.headers['content-range'], `bytes 10-19/${whole.length}`);
    });

    test('Node Readable streams (chunked and with contentLength) and file paths append too', T, async () => {
      const key = uniqueKey('streams');
      const a = payload(5000, 'ali-s1');
      const b = payload(3000, 'ali-s2');
      const c = payload(1234, 'ali-s3');
      // no contentLength: ali-oss sends Transfer-Encoding: chunked
      const r1 = await client.append(key, Readable.from([a.subarray(0, 2000), a.subarray(2000)]));
      assert.equal(r1.nextAppendPosition, '5000');
      const r2 = await client.append(key, Readable.from([b]),
        { position: r1.nextAppendPosition, contentLength: b.length });
      assert.equal(r2.nextAppendPosition, '8000');
      const dir = mkdtempSync(join(tmpdir(), 'oss-interop-file-'));
      try {
        const file = join(dir, 'tail.log');
        writeFileSync(file, c);
        const r3 = await client.append(key, file, { position: r2.nextAppendPosition });
        assert.equal(r3.nextAppendPosition, '9234');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const whole = Buffer.concat([a, b, c]);
      assert.ok(Buffer.from((await client.get(key)).content).equals(whole));
      assert.equal((await client.head(key)).res.headers['x-oss-hash-crc64ecma'], crc64(whole));
    });

    test('a wrong position is 409 PositionNotEqualToLength and changes nothing', T, async () => {
      const key = uniqueKey('position');
      const data = payload(300, 'ali-c');
      await client.append(key, data, { position: 0 });
      for (const wrong of [0, '299', 301]) {
        const err = await rejectsWith(client.append(key, Buffer.from('more'), { position: wrong }),
          { status: 409, code: 'PositionNotEqualToLength' });
        assert.ok(err.requestId, 'the error carries a request id');
      }
      const got = await client.get(key);
      assert.ok(Buffer.from(got.content).equals(data));
    });

    test('appending to an object created by put is 409 ObjectNotAppendable', T, async () => {
      const key = uniqueKey('not-appendable');
      await client.put(key, Buffer.from('normal object'));
      const head = await client.head(key);
      assert.equal(head.res.headers['x-oss-object-type'], 'Normal');
      await rejectsWith(client.append(key, Buffer.from('tail'), { position: 0 }),
        { status: 409, code: 'ObjectNotAppendable' });
      const got = await client.get(key);
      assert.equal(Buffer.from(got.content).toString(), 'normal object');
    });

    test('meta and content type given at creation stick', T, async () => {
      const key = uniqueKey('meta', 'clip.bin');
      const r1 = await client.append(key, Buffer.from('first'), {
        mime: 'video/webm',
        meta: { author: 'interop', take: '7' },
      });
      // a later append carries another Content-Type; the object keeps the one it was created with
      await client.append(key, Buffer.from('second'), { position: r1.nextAppendPosition, mime: 'text/plain' });

      const head = await client.head(key);
      assert.equal(head.res.headers['content-type'], 'video/webm');
      assert.deepEqual(head.meta, { author: 'interop', take: '7' });
      assert.equal(head.res.headers['content-length'], '11');
    });

    test(`presigned GET (${variant.v4 ? 'signatureUrlV4' : 'signatureUrl'}) works over HTTP`, T, async () => {
      const key = uniqueKey('presign', 'signed file.bin');
      const data = payload(513, 'ali-d');
      await client.append(key, data);

      const url = await presign(key, 60);
      assert.ok(new URL(url).searchParams.get(signatureParam), url);
      const res = await httpGet(url);
      assert.equal(res.status, 200, res.body.toString());
      assert.ok(res.body.equals(data));

      const ranged = await httpGet(url, { Range: 'bytes=500-' });
      assert.equal(ranged.status, 206);
      assert.ok(ranged.body.equals(data.subarray(500)));

      const bad = await httpGet(tamper(url, signatureParam));
      assert.equal(bad.status, 403);
      assert.match(bad.body.toString(), /<Code>SignatureDoesNotMatch<\/Code>/);

      // five minutes later the 60-second URL has expired; back inside its window it works again
      const expired = await emu.withClockShift(5 * 60_000, () => httpGet(url));
      assert.equal(expired.status, 403);
      assert.match(expired.body.toString(), /<Code>AccessDenied<\/Code>/);
      assert.equal((await httpGet(url)).status, 200);

      if (!variant.v4) { // V1 URLs carry an absolute Expires; one in the past is refused
        const past = await httpGet(client.signatureUrl(key, { expires: -60 }));
        assert.equal(past.status, 403);
      }
    });

    test('a wrong secret is 403 SignatureDoesNotMatch', T, async () => {
      const bad = makeClient(emu, { ...variant, secret: 'not-the-secret' });
      const key = uniqueKey('wrong-secret');
      await rejectsWith(bad.append(key, Buffer.from('data')), { status: 403, code: 'SignatureDoesNotMatch' });
      await rejectsWith(client.head(key), { status: 404, code: 'NoSuchKey' }); // nothing was written
    });

    test(`the emulator refuses the other signature version (it is in --auth ${variant.auth} mode)`, T, async () => {
      const other = makeClient(emu, { ...variant, v4: !variant.v4 });
      let err;
      try {
        await other.append(uniqueKey('other-version'), Buffer.from('x'));
      } catch (e) {
        err = e;
      }
      assert.ok(err, 'a request signed with the other version must fail');
      assert.equal(err.status, 403);
    });

    if (variant.v4) {
      test('V4 additional headers: a signed Content-Length, and a presigned URL bound to its Host', T, async () => {
        const key = uniqueKey('additional-headers');
        const r = await client.append(key, Buffer.from('abc'), { additionalHeaders: ['content-length'] });
        assert.equal(r.nextAppendPosition, '3');

        const host = `localhost:${emu.port}`;
        const url = await client.signatureUrlV4('GET', 60, { headers: { host } }, key, ['host']);
        assert.equal(new URL(url).searchParams.get('x-oss-additional-headers'), 'host');
        const ok = await httpGet(url);
        assert.equal(ok.status, 200);
        assert.equal(ok.body.toString(), 'abc');
        const elsewhere = await httpGet(url, { host: `elsewhere:${emu.port}` });
        assert.equal(elsewhere.status, 403);
        assert.match(elsewhere.body.toString(), /<Code>SignatureDoesNotMatch<\/Code>/);
      });
    }

    test('a clock 20 minutes off is 403 RequestTimeTooSkewed', T, async () => {
      const key = uniqueKey('skew');
      await emu.withClockShift(20 * 60_000, () => rejectsWith(client.append(key, Buffer.from('late')),
        { status: 403, code: 'RequestTimeTooSkewed' }));
      assert.equal((await client.append(key, Buffer.from('on time'))).nextAppendPosition, '7');
    });

    test('delete, then HEAD is 404 NoSuchKey', T, async () => {
      const key = uniqueKey('delete');
      await client.append(key, Buffer.from('short lived'));
      assert.equal((await client.head(key)).status, 200);

      const del = await client.delete(key);
      assert.equal(del.res.status, 204);
      await rejectsWith(client.head(key), { status: 404, code: 'NoSuchKey' });
      await rejectsWith(client.get(key), { status: 404, code: 'NoSuchKey' });

      const again = await client.append(key, Buffer.from('again'), { position: 0 });
      assert.equal(again.nextAppendPosition, '5');
    });

    for (const mode of ['virtual', 'cname', 'path', 'ip']) {
      test(`${mode} addressing appends to the same object`, T, async () => {
        const c = makeClient(emu, { ...variant, mode });
        const key = uniqueKey(`addressing-${mode}`);
        const r1 = await c.append(key, Buffer.from('abc'));
        const r2 = await c.append(key, Buffer.from('def'), { position: r1.nextAppendPosition });
        assert.equal(r2.nextAppendPosition, '6');
        // the same object is visible through the suite's main client (another addressing style)
        const got = await client.get(key);
        assert.equal(Buffer.from(got.content).toString(), 'abcdef');
        assert.equal((await c.head(key)).res.headers['x-oss-hash-crc64ecma'], crc64(Buffer.from('abcdef')));
      });
    }

    test('keys with spaces, plus, percent and non-ASCII characters round-trip', T, async () => {
      const key = uniqueKey('odd-key', 'a b+c%20d/日志 ü.bin');
      const part1 = payload(10, 'ali-e');
      const part2 = payload(20, 'ali-f');
      const r1 = await client.append(key, part1);
      await client.append(key, part2, { position: r1.nextAppendPosition });
      const whole = Buffer.concat([part1, part2]);
      const got = await client.get(key);
      assert.ok(Buffer.from(got.content).equals(whole));
      const head = await client.head(key);
      assert.equal(head.res.headers['x-oss-hash-crc64ecma'], crc64(whole));
      const res = await httpGet(await presign(key, 60));
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(whole));
    });
  });
}

describe('ali-oss with an STS token', () => {
  let emu;
  before(async () => { emu = await startEmulator({ ...IDENTITY, auth: 'any', args: ['--sts-token', STS_TOKEN] }); }, T);
  after(async () => { await emu?.stop(); }, T);

  for (const v4 of [false, true]) {
    test(`${v4 ? 'V4' : 'V1'}: requests and presigned URLs carry the token`, T, async () => {
      const client = makeClient(emu, { v4, mode: 'cname', stsToken: STS_TOKEN });
      const key = uniqueKey(`sts-${v4 ? 'v4' : 'v1'}`);
      const data = payload(100, 'ali-sts');
      const r = await client.append(key, data);
      assert.equal(r.nextAppendPosition, '100');
      assert.ok(Buffer.from((await client.get(key)).content).equals(data));

      const url = v4 ? await client.signatureUrlV4('GET', 60, undefined, key) : client.signatureUrl(key, { expires: 60 });
      assert.equal(new URL(url).searchParams.get(v4 ? 'x-oss-security-token' : 'security-token'), STS_TOKEN);
      const res = await httpGet(url);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(data));

      const wrong = makeClient(emu, { v4, mode: 'cname', stsToken: 'not-the-token' });
      await rejectsWith(wrong.append(key, Buffer.from('x'), { position: r.nextAppendPosition }),
        { status: 403, code: 'InvalidSecurityToken' });
    });
  }
});

describe('ali-oss on a versioned bucket', () => {
  let emu;
  before(async () => { emu = await startEmulator({ ...IDENTITY, auth: 'v4', versioning: 'enabled' }); });
  after(async () => { await emu?.stop(); });

  test('append, put, append, delete: version ids as oss-append reports them', T, async () => {
    const client = makeClient(emu, { v4: true, mode: 'path' });
    const key = uniqueKey('versioned', 'take.webm');
    const part1 = payload(3000, 'v-ali-a');
    const part2 = payload(1234, 'v-ali-b');
    const r1 = await client.append(key, part1);
    const r2 = await client.append(key, part2, { position: r1.nextAppendPosition });
    assert.deepEqual([r1.res.headers['x-oss-version-id'], r2.res.headers['x-oss-version-id']], ['null', 'null']);
    const listed = await client.getBucketVersions({ prefix: key });
    assert.deepEqual(listed.objects.map((o) => [o.versionId, o.isLatest, o.type]), [['null', true, 'Appendable']]);

    const put = await client.put(key, Buffer.from('normal'));
    const putId = put.res.headers['x-oss-version-id'];
    assert.ok(putId && putId !== 'null', putId);
    const old = await client.get(key, { versionId: 'null' });
    assert.ok(Buffer.compare(old.content, Buffer.concat([part1, part2])) === 0);
    await rejectsWith(client.append(key, Buffer.from('late'), { position: r2.nextAppendPosition }),
      { status: 409, code: 'ObjectNotAppendable' });

    const deleted = await client.delete(key);
    assert.equal(deleted.res.headers['x-oss-delete-marker'], 'true');
    const markerId = deleted.res.headers['x-oss-version-id'];
    await rejectsWith(client.get(key), { status: 404, code: 'NoSuchKey' });
    const kept = await client.get(key, { versionId: 'null' });
    assert.ok(Buffer.compare(kept.content, Buffer.concat([part1, part2])) === 0);
    assert.deepEqual((await emu.versions(key)).map((v) => [v.version_id, v.delete_marker]),
      [[markerId, true], [putId, false], ['null', false]]);
  });

  test('suspended: a put over an appendable object answers and replaces the null version', T, async () => {
    const client = makeClient(emu, { v4: true, mode: 'path' });
    const key = uniqueKey('suspended');
    assert.equal(await emu.setVersioning('suspended'), 'suspended');
    try {
      const a = await client.append(key, Buffer.from('abc'));
      assert.equal(a.res.headers['x-oss-version-id'], 'null');
      const p = await client.put(key, Buffer.from('def'));
      assert.equal(p.res.headers['x-oss-version-id'], 'null');
      assert.equal((await client.get(key, { versionId: 'null' })).content.toString(), 'def');
      assert.deepEqual((await emu.versions(key)).map((v) => [v.version_id, v.type]), [['null', 'Normal']]);
    } finally {
      await emu.setVersioning('enabled');
    }
  });

  test('putBucketVersioning suspends and enables versioning, as getBucketVersioning reports', T, async () => {
    const client = makeClient(emu, { v4: true, mode: 'path' });
    const key = uniqueKey('put-versioning');
    try {
      assert.equal((await client.putBucketVersioning(BUCKET, 'Suspended')).status, 200);
      assert.equal((await client.getBucketVersioning(BUCKET)).versionStatus, 'Suspended');
      assert.equal((await client.put(key, Buffer.from('a'))).res.headers['x-oss-version-id'], 'null');
      await client.putBucketVersioning(BUCKET, 'Enabled');
      assert.equal((await client.getBucketVersioning(BUCKET)).versionStatus, 'Enabled');
      assert.notEqual((await client.put(key, Buffer.from('b'))).res.headers['x-oss-version-id'], 'null');
    } finally {
      await emu.setVersioning('enabled');
    }
  });
});
