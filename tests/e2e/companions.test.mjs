// The calls an append workflow needs besides append, with ali-oss's shapes: head, get (whole and ranged), delete, put,
// sealAppend, and presigned URLs (V1 signatureUrl, V4 signatureUrlV4) fetched for real.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, refCrc64, rejects, uniqueKey, userMeta } from './helpers/util.mjs';

const T = { timeout: 30_000 };
const fetchT = (url, init = {}) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });

let OSS;
before(async () => { ({ default: OSS } = await loadEsm()); });

function tamper(url, param) {
  const u = new URL(url);
  const v = u.searchParams.get(param);
  assert.ok(v, `${param} missing from ${url}`);
  u.searchParams.set(param, (v[0] === 'A' ? 'B' : 'A') + v.slice(1));
  return u.toString();
}

for (const variant of [
  { name: 'V1', options: { authorizationV4: false } },
  { name: 'V4', options: {} },
]) {
  describe(`companions, client signing ${variant.name}`, () => {
    let emu;
    let client;
    let dir;
    before(async () => {
      emu = await startEmulator();
      client = new OSS(emu.clientOptions(variant.options));
      dir = mkdtempSync(join(tmpdir(), 'oss-e2e-companions-'));
    });
    after(async () => {
      await emu?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('head answers { status, meta, res, objectType, nextAppendPosition, crc64 }; 404 NoSuchKeyError when absent', T,
      async () => {
        const key = uniqueKey('head', 'song.mp3');
        const data = payload(4321, 'head');
        await client.append(key, data, { meta: { artist: 'e2e' } });
        const h = await client.head(key);
        assert.equal(h.status, 200);
        assert.equal(h.objectType, 'Appendable');
        assert.equal(h.nextAppendPosition, '4321');
        assert.equal(h.crc64, refCrc64(data));
        assert.deepEqual(h.meta, { artist: 'e2e' });
        assert.equal(h.res.status, 200);
        assert.equal(h.res.headers['content-length'], '4321');
        assert.equal(h.res.headers['content-type'], 'audio/mpeg');
        await rejects(client.head(uniqueKey('absent')), { status: 404, code: 'NoSuchKey', name: 'NoSuchKeyError' });
      });

    test('get: the whole object, and a range', T, async () => {
      const key = uniqueKey('get');
      const data = payload(10_000, 'get');
      await client.append(key, data);
      const g = await client.get(key);
      assert.ok(g.content instanceof Uint8Array);
      assert.ok(Buffer.from(g.content).equals(data));
      assert.equal(g.res.status, 200);
      assert.equal(g.res.headers['x-oss-hash-crc64ecma'], refCrc64(data));

      const ranged = await client.get(key, { range: 'bytes=995-1004' });
      assert.equal(ranged.res.status, 206);
      assert.ok(Buffer.from(ranged.content).equals(data.subarray(995, 1005)));
      assert.equal(ranged.res.headers['content-range'], `bytes 995-1004/${data.length}`);
      await rejects(client.get(uniqueKey('absent')), { status: 404, code: 'NoSuchKey' });
    });

    test('delete: 204, then the key is gone and can be appended from 0 again', T, async () => {
      const key = uniqueKey('delete');
      await client.append(key, Buffer.from('short lived'));
      const d = await client.delete(key);
      assert.equal(d.res.status, 204);
      await rejects(client.head(key), { status: 404, code: 'NoSuchKey' });
      assert.equal((await client.append(key, Buffer.from('again'))).nextAppendPosition, '5');
    });

    test('put: a Normal object from a Buffer, a file path and a Node Readable; options untouched', T, async () => {
      for (const [form, make] of [
        ['Buffer', (b) => b],
        ['file path', (b) => { const p = join(dir, 'put.bin'); writeFileSync(p, b); return p; }],
        ['Node Readable', (b) => Readable.from([b.subarray(0, 100), b.subarray(100)])],
      ]) {
        const key = uniqueKey(`put-${form.replace(/\W+/g, '-')}`, 'doc.txt');
        const data = payload(2048, `put-${form}`);
        const options = { meta: { kind: 'normal' } };
        const r = await client.put(key, make(data), options);
        assert.deepEqual(options, { meta: { kind: 'normal' } });
        assert.equal(r.name, key);
        assert.equal(r.res.status, 200);
        assert.ok(r.url.endsWith(`/${emu.bucket}/${key}`), r.url);
        const got = await assertStored(emu, key, data, form);
        assert.equal(got.type, 'Normal');
        assert.equal(got.content_type, 'text/plain');
        assert.deepEqual(userMeta(got), { kind: 'normal' });
        assert.equal((await client.head(key)).objectType, 'Normal');
      }
    });

    test('sealAppend: no further appends; the data stays', T, async () => {
      const key = uniqueKey('seal');
      const data = payload(777, 'seal');
      const r = await client.append(key, data);
      const s = await client.sealAppend(key, r.nextAppendPosition);
      assert.equal(s.res.status, 200);
      await rejects(client.append(key, Buffer.from('late'), { position: r.nextAppendPosition }), { status: 409 });
      await assertStored(emu, key, data);
      await rejects(client.sealAppend(uniqueKey('absent'), 0), { status: 404 });
    });

    test('signatureUrl (V1): GET fetched for real; a tampered signature is refused', T, async () => {
      const key = uniqueKey('presign-v1', 'signed file+ü.bin');
      const data = payload(513, 'presign-v1');
      await client.append(key, data);
      const url = client.signatureUrl(key, { expires: 60 });
      assert.equal(typeof url, 'string');
      assert.ok(new URL(url).searchParams.get('Signature'), url);
      const res = await fetchT(url);
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
      const bad = await fetchT(tamper(url, 'Signature'));
      assert.equal(bad.status, 403);
      assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    });

    test('signatureUrl (V1) for an append: POST with the signed sub-resources', T, async () => {
      const key = uniqueKey('presign-v1-append');
      const url = client.signatureUrl(key, {
        method: 'POST', expires: 60, subResource: { append: '', position: '0' }, 'Content-Type': 'application/octet-stream',
      });
      const res = await fetchT(url, {
        method: 'POST', body: Buffer.from('via url'), headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('x-oss-next-append-position'), '7');
      await assertStored(emu, key, Buffer.from('via url'));
    });

    test('signatureUrlV4: GET fetched for real; an append through a presigned POST', T, async () => {
      const key = uniqueKey('presign-v4', 'signed file+ü.bin');
      const data = payload(600, 'presign-v4');
      await client.append(key, data);
      const url = await client.signatureUrlV4('GET', 60, undefined, key);
      assert.equal(typeof url, 'string');
      const u = new URL(url);
      assert.equal(u.searchParams.get('x-oss-signature-version'), 'OSS4-HMAC-SHA256');
      assert.ok(u.searchParams.get('x-oss-signature'));
      const res = await fetchT(url);
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
      const bad = await fetchT(tamper(url, 'x-oss-signature'));
      assert.equal(bad.status, 403);

      const appendUrl = await client.signatureUrlV4('POST', 60, { queries: { append: null, position: '600' } }, key);
      const more = payload(50, 'presign-v4-more');
      const posted = await fetchT(appendUrl, { method: 'POST', body: more });
      assert.equal(posted.status, 200, await posted.clone().text());
      assert.equal(posted.headers.get('x-oss-next-append-position'), '650');
      await assertStored(emu, key, Buffer.concat([data, more]));
    });

    test('signatureUrlV4 signs a query value given as a number (position: 3)', T, async () => {
      const key = uniqueKey('presign-v4-number');
      await client.append(key, Buffer.from('abc'));
      const url = await client.signatureUrlV4('POST', 60, { queries: { append: null, position: 3 } }, key);
      assert.equal(new URL(url).searchParams.get('position'), '3');
      const posted = await fetchT(url, { method: 'POST', body: Buffer.from('def') });
      assert.equal(posted.status, 200, await posted.clone().text());
      await assertStored(emu, key, Buffer.from('abcdef'));
    });
  });
}
