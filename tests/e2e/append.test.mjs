// client.append as DESIGN §1 specifies it, signed V1 and V4 (each against an emulator that accepts only that version):
// position forms, the result shape, options left untouched, service errors shaped like ali-oss's (with what ali-oss
// drops), and bad input rejected with a clear error before any request is sent.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import {
  assertNoSecret, assertStored, payload, refCrc64, rejects, snapshot, uniqueKey, userMeta,
} from './helpers/util.mjs';

const T = { timeout: 15_000 };
const GiB = 1024 ** 3;

let OSS;
before(async () => { ({ default: OSS } = await loadEsm()); });

function deepFreeze(o) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

const VARIANTS = [
  { name: 'V1', auth: 'v1', options: { authorizationV4: false } },
  { name: 'V4', auth: 'v4', options: {} }, // V4 is the default
];

for (const variant of VARIANTS) {
  describe(`append, signed ${variant.name}`, () => {
    let emu;
    let client;
    before(async () => {
      emu = await startEmulator({ auth: variant.auth });
      client = new OSS(emu.clientOptions(variant.options));
    });
    after(async () => { await emu?.stop(); });

    test('the result has { name, url, res: { status, headers, size, rt, requestUrls }, nextAppendPosition, crc64 }',
      T, async () => {
        const key = uniqueKey('shape', 'clip one+two.webm');
        const data = payload(1234, 'shape');
        const r = await client.append(key, data);
        assert.deepEqual(Object.keys(r).sort(), ['crc64', 'name', 'nextAppendPosition', 'res', 'url'],
          'no versionId when the bucket has no versioning');
        assert.equal(r.name, key);
        assert.equal(typeof r.url, 'string');
        const url = new URL(r.url);
        assert.equal(url.origin, emu.url);
        assert.equal(url.search, '', 'the url has no query');
        assert.equal(decodeURIComponent(url.pathname), `/${emu.bucket}/${key}`);
        assert.equal(r.nextAppendPosition, '1234');
        assert.equal(typeof r.nextAppendPosition, 'string');
        assert.equal(r.crc64, refCrc64(data));

        // ali-oss's res fields; a further one is allowed only if ali-oss's res has it too (e.g. statusCode)
        for (const k of ['status', 'headers', 'size', 'rt', 'requestUrls']) assert.ok(k in r.res, `res.${k}`);
        const ALI_RES = ['status', 'statusCode', 'headers', 'size', 'aborted', 'rt', 'keepAliveSocket', 'data',
          'requestUrls', 'timing', 'remoteAddress', 'remotePort'];
        for (const k of Object.keys(r.res)) assert.ok(ALI_RES.includes(k), `res.${k} is not in ali-oss's res`);
        if ('statusCode' in r.res) assert.equal(r.res.statusCode, r.res.status);
        assert.equal(r.res.status, 200);
        assert.equal(typeof r.res.rt, 'number');
        assert.ok(r.res.rt >= 0);
        assert.equal(typeof r.res.size, 'number');
        assert.equal(r.res.headers['x-oss-next-append-position'], '1234');
        assert.equal(r.res.headers['x-oss-hash-crc64ecma'], refCrc64(data));
        assert.ok(r.res.headers['x-oss-request-id'], 'headers have lower-case names');
        assert.ok(Array.isArray(r.res.requestUrls) && r.res.requestUrls.length >= 1);
        const sent = new URL(r.res.requestUrls[0]);
        assert.ok(sent.searchParams.has('append'), r.res.requestUrls[0]);
        assert.equal(sent.searchParams.get('position'), '0');
        await assertStored(emu, key, data);
      });

    test('position as number and string; each next append at r.nextAppendPosition', T, async () => {
      const key = uniqueKey('positions');
      const parts = [payload(100, 'p0'), payload(200, 'p1'), payload(1, 'p2')];
      const r0 = await client.append(key, parts[0], { position: 0 });
      const r1 = await client.append(key, parts[1], { position: r0.nextAppendPosition });
      const r2 = await client.append(key, parts[2], { position: Number(r1.nextAppendPosition) });
      assert.deepEqual([r0, r1, r2].map((r) => r.nextAppendPosition), ['100', '300', '301']);
      const whole = Buffer.concat(parts);
      assert.equal(r2.crc64, refCrc64(whole));
      await assertStored(emu, key, whole);
    });

    test('a bigint position is taken like a number', T, async () => {
      const key = uniqueKey('bigint-position');
      const parts = [payload(100, 'b0'), payload(200, 'b1')];
      const r0 = await client.append(key, parts[0], { position: 0n });
      const r1 = await client.append(key, parts[1], { position: BigInt(r0.nextAppendPosition) });
      assert.deepEqual([r0, r1].map((r) => r.nextAppendPosition), ['100', '300']);
      await assertStored(emu, key, Buffer.concat(parts));
    });

    test('position defaults to 0 and "0" works like 0', T, async () => {
      const a = uniqueKey('default-position');
      const b = uniqueKey('string-zero');
      assert.equal((await client.append(a, Buffer.from('abc'))).nextAppendPosition, '3');
      assert.equal((await client.append(b, Buffer.from('abcd'), { position: '0' })).nextAppendPosition, '4');
      assert.ok((await emu.requestsFor(a)).some((e) => e.op === 'append' && e.position === '0'));
    });

    test('the options object is never modified, and frozen options work', T, async () => {
      const key = uniqueKey('options', 'notes.txt');
      const options = {
        headers: { 'Cache-Control': 'no-cache', 'x-oss-meta-extra': 'x' },
        meta: { author: 'e2e', take: '7' },
        mime: 'text/plain',
        partSize: 1 << 20,
        timeout: 10_000,
        progress: () => {},
      };
      const before = snapshot(options);
      const headersRef = options.headers;
      const metaRef = options.meta;
      const r1 = await client.append(key, Buffer.from('first '), options);
      assert.deepEqual(options, before, 'append must not modify its options');
      assert.equal(options.headers, headersRef);
      assert.equal(options.meta, metaRef);

      const frozen = deepFreeze({ ...before, position: r1.nextAppendPosition, headers: { ...before.headers } });
      const r2 = await client.append(key, Buffer.from('second'), frozen);
      assert.equal(r2.nextAppendPosition, '12');

      const clientOptions = emu.clientOptions(variant.options);
      const clientBefore = snapshot(clientOptions);
      const other = new OSS(clientOptions);
      await other.append(uniqueKey('client-options'), Buffer.from('z'));
      assert.deepEqual(clientOptions, clientBefore, 'new OSS(options) must not modify its options');
    });

    test('meta values may be numbers and booleans, as in ali-oss (sent as text)', T, async () => {
      const key = uniqueKey('meta-numbers');
      await client.append(key, Buffer.from('x'), { meta: { take: 7, ok: true, name: 'n' } });
      assert.deepEqual(userMeta(await emu.object(key)), { take: '7', ok: 'true', name: 'n' });
    });

    test('meta, mime and headers count at creation; the key\'s extension gives the Content-Type by default', T,
      async () => {
        const key = uniqueKey('creation', 'clip.webm');
        const r1 = await client.append(key, Buffer.from('first'), {
          meta: { author: 'e2e', take: '7' },
          headers: { 'Cache-Control': 'no-cache', 'Content-Disposition': 'inline' },
        });
        await client.append(key, Buffer.from('second'), { position: r1.nextAppendPosition, mime: 'text/plain' });
        const got = await emu.object(key);
        assert.equal(got.content_type, 'video/webm');
        assert.equal(got.headers['cache-control'], 'no-cache');
        assert.equal(got.headers['content-disposition'], 'inline');
        assert.deepEqual(userMeta(got), { author: 'e2e', take: '7' });

        const typed = uniqueKey('mime', 'data.bin');
        await client.append(typed, Buffer.from('x'), { mime: 'audio/ogg' });
        const plain = await emu.object(typed);
        assert.equal(plain.content_type, 'audio/ogg');
        assert.deepEqual(plain.headers, {}, 'no creation header (Cache-Control, ...) that the caller did not give');
      });

    test('a wrong position: 409 PositionNotEqualToLengthError with the server\'s length and CRC, nothing changed',
      T, async () => {
        const key = uniqueKey('wrong-position');
        const data = payload(300, 'wrong-position');
        await client.append(key, data);
        for (const wrong of [0, '299', 301]) {
          const err = await rejects(client.append(key, Buffer.from('more'), { position: wrong }), {
            name: 'PositionNotEqualToLengthError',
            code: 'PositionNotEqualToLength',
            status: 409,
            ecCode: '0026-00000016',
            nextAppendPosition: '300',
          });
          // OSS's 409 carries no CRC header; when the client reports one it must be the server's
          if (err.crc64 !== undefined) assert.equal(err.crc64, refCrc64(data));
          assert.ok(err.requestId, 'requestId');
          assert.equal(typeof err.message, 'string');
          assert.ok(err.message.length > 0);
        }
        await assertStored(emu, key, data);
      });

    test('appending to an object made by put: 409 ObjectNotAppendableError', T, async () => {
      const key = uniqueKey('normal');
      await client.put(key, Buffer.from('normal object'));
      const err = await rejects(client.append(key, Buffer.from('tail'), { position: 0 }), {
        name: 'ObjectNotAppendableError', code: 'ObjectNotAppendable', status: 409,
      });
      assert.ok(err.requestId);
      assert.equal((await assertStored(emu, key, Buffer.from('normal object'))).type, 'Normal');
    });

    test('a wrong secret: 403 SignatureDoesNotMatchError, and no secret anywhere in the error', T, async () => {
      const wrong = 'wrong-secret-0123456789-abcdef';
      const bad = new OSS(emu.clientOptions({ ...variant.options, accessKeySecret: wrong }));
      const key = uniqueKey('wrong-secret');
      const err = await rejects(bad.append(key, Buffer.from('data')), {
        name: 'SignatureDoesNotMatchError', code: 'SignatureDoesNotMatch', status: 403,
      });
      assertNoSecret(err, wrong);
      assertNoSecret(err, emu.accessKeySecret);
      if (err.params !== undefined) {
        const walk = (v, depth = 0) => {
          if (depth > 5 || v === null || typeof v !== 'object') return;
          assert.ok(!(v instanceof Uint8Array || v instanceof ArrayBuffer || v instanceof Blob),
            'error.params holds no request body');
          Object.values(v).forEach((c) => walk(c, depth + 1));
        };
        walk(err.params);
      }
      assert.equal(await emu.object(key), null, 'nothing was written');
    });

    test('a client signing the other version is refused (the emulator accepts only ' + variant.name + ')', T,
      async () => {
        const other = new OSS(emu.clientOptions({ authorizationV4: variant.auth !== 'v4' }));
        const err = await rejects(other.append(uniqueKey('other-version'), Buffer.from('x')), { status: 403 });
        assert.ok(err.code, 'a service error code');
      });
  });
}

describe('bad input: a clear error and no request sent', () => {
  let emu;
  let client;
  before(async () => {
    emu = await startEmulator();
    client = new OSS(emu.clientOptions());
  });
  after(async () => { await emu?.stop(); });

  /** Runs `fn` (which may throw or reject) and asserts the error and that the emulator saw no request. */
  async function refused(fn, expected) {
    const before = (await emu.requestLog()).length;
    const err = await rejects((async () => fn())(), expected);
    assert.equal((await emu.requestLog()).length, before, `no request may be sent (${err.message})`);
    return err;
  }
  const invalid = (what) => ({ code: 'InvalidArgument', name: 'InvalidArgumentError', message: what });

  test('a missing bucket or credential, or a bad bucket name, is refused', T, async () => {
    for (const [field, re] of [['bucket', /bucket/], ['accessKeyId', /accessKeyId/], ['accessKeySecret', /accessKeySecret/]]) {
      const options = emu.clientOptions();
      delete options[field];
      await refused(() => new OSS(options).append(uniqueKey('no-' + field), Buffer.from('x')), invalid(re));
    }
    await refused(() => new OSS(emu.clientOptions({ bucket: 'Bad_Bucket' })).append('k', Buffer.from('x')),
      invalid(/bucket/));
  });

  test('V4 with a custom endpoint is refused without a region; V1 needs none', T, async () => {
    const options = emu.clientOptions();
    delete options.region;
    await refused(() => new OSS(options).append(uniqueKey('v4-no-region'), Buffer.from('x')), invalid(/region/));
    const v1 = new OSS({ ...options, authorizationV4: false });
    const key = uniqueKey('v1-no-region');
    assert.equal((await v1.append(key, Buffer.from('ok'))).nextAppendPosition, '2');
  });

  test('object names that are empty, over 1023 bytes, with a newline or not a string are refused', T, async () => {
    for (const name of ['', 'a'.repeat(1024), `${'日'.repeat(341)}ab`, 'a\nb', 'a\rb']) {
      await refused(() => client.append(name, Buffer.from('x')), invalid(/name|key/i));
    }
    for (const name of [undefined, null, 42]) {
      await refused(() => client.append(name, Buffer.from('x')), { code: 'InvalidArgument' });
    }
  });

  test('positions that are negative, NaN, fractional, junk or past 5 GiB are refused', T, async () => {
    for (const position of [-1, NaN, 1.5, Infinity, '1.5', 'abc', '-3', '', 5 * GiB + 1, '18446744073709551616', {}]) {
      await refused(() => client.append(uniqueKey('bad-position'), Buffer.from('x'), { position }),
        invalid(/position/));
    }
  });

  test('bigint positions that are negative, past 5 GiB or past 2^64 are refused', T, async () => {
    for (const position of [-1n, 5n * 2n ** 30n + 1n, 2n ** 64n]) {
      await refused(() => client.append(uniqueKey('bad-position'), Buffer.from('x'), { position }),
        invalid(/position/));
    }
  });

  test('unsupported file types name what is accepted', T, async () => {
    for (const file of [42, {}, null, undefined, true, [1, 2, 3], Symbol('x')]) {
      const err = await refused(() => client.append(uniqueKey('bad-file'), file), { code: 'InvalidArgument' });
      assert.ok(err instanceof TypeError, `a TypeError, as JS APIs report a wrong input type: ${err}`);
      for (const word of ['Blob', 'Uint8Array', 'ArrayBuffer', 'ReadableStream']) {
        assert.ok(err.message.includes(word), `the message names ${word}: ${err.message}`);
      }
    }
    await refused(() => client.append(uniqueKey('no-such-file'), '/nonexistent/dir/file.bin'),
      { code: 'InvalidArgument', message: /nonexistent/ });
    await refused(() => client.append(uniqueKey('dir'), '/tmp'), { code: 'InvalidArgument' });
  });

  test('streams that yield text instead of bytes are refused', T, async () => {
    await refused(() => client.append(uniqueKey('text-readable'), Readable.from(['some', 'text'])),
      { code: 'InvalidArgument', message: /Uint8Array/ });
    const decoded = Readable.from([Buffer.from('bytes')]);
    decoded.setEncoding('utf8');
    await refused(() => client.append(uniqueKey('decoded-readable'), decoded), { code: 'InvalidArgument' });
    const web = new ReadableStream({ start(c) { c.enqueue('text'); c.close(); } });
    await refused(() => client.append(uniqueKey('text-stream'), web), { code: 'InvalidArgument', message: /Uint8Array/ });
  });

  test('a partSize out of range is refused', T, async () => {
    for (const partSize of [0, -1, 1.5, NaN, 6 * GiB, 'big']) {
      await refused(() => client.append(uniqueKey('bad-part-size'), Buffer.from('x'), { partSize }),
        invalid(/partSize/));
    }
  });

  test('an append that would pass 5 GiB: ObjectTooLarge, checked before sending', T, async () => {
    const err = await refused(
      () => client.append(uniqueKey('too-large'), Buffer.alloc(11), { position: 5 * GiB - 10 }),
      { code: 'ObjectTooLarge', name: 'ObjectTooLargeError' },
    );
    assert.match(err.message, /5368709120|5 GiB/);
    // exactly at the limit is still fine to attempt (the server answers; here with a 409, the object is new)
    const before = (await emu.requestLog()).length;
    await rejects(client.append(uniqueKey('at-limit'), Buffer.alloc(10), { position: 5 * GiB - 10 }),
      { status: 409 });
    assert.ok((await emu.requestLog()).length > before, 'an append ending exactly at 5 GiB is sent');
  });

  test('options of the wrong type are refused', T, async () => {
    await refused(() => client.append(uniqueKey('bad-options'), Buffer.from('x'), 'position=0'), { code: 'InvalidArgument' });
    await refused(() => client.append(uniqueKey('bad-progress'), Buffer.from('x'), { progress: 'yes' }),
      invalid(/progress/));
    await refused(() => client.append(uniqueKey('bad-signal'), Buffer.from('x'), { signal: {} }), invalid(/signal/));
    await refused(() => client.append(uniqueKey('bad-meta'), Buffer.from('x'), { meta: 'a=b' }), invalid(/meta/));
  });
});
