// ali-oss parity: the same append sequence run with `require('ali-oss')` (the SDK this package mirrors, pinned in
// package.json) and with oss-append, against the same emulator and the same keys, signed V1 and V4. What a user's
// code reads must be the same: name, url, nextAppendPosition, the stored bytes and metadata, and error name, code and
// status.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadCjs } from './helpers/pkg.mjs';
import { payload } from './helpers/util.mjs';

const require = createRequire(import.meta.url);
const AliOSS = require('ali-oss');
const T = { timeout: 40_000 };

function clients(emu, v4) {
  const endpoint = `http://localhost:${emu.port}`;
  const common = {
    region: `oss-${emu.region}`,
    bucket: emu.bucket,
    accessKeyId: emu.accessKeyId,
    accessKeySecret: emu.accessKeySecret,
    endpoint,
    secure: false,
    authorizationV4: v4,
    timeout: 10_000,
  };
  const OSS = loadCjs(); // as ali-oss users write it: const OSS = require(...)
  return {
    'ali-oss': new AliOSS({ ...common, sldEnable: true }),
    'oss-append': new OSS({ ...common, pathStyle: true }),
  };
}

async function outcome(promise) {
  try {
    const r = await promise;
    return { ok: true, name: r.name, url: r.url, nextAppendPosition: r.nextAppendPosition, status: r.res.status };
  } catch (err) {
    return { ok: false, name: err.name, code: err.code, status: err.status };
  }
}

/** The stored object as the emulator describes it (bytes by MD5, CRC-64, type, Content-Type, headers, meta). */
async function stored(emu, key) {
  const obj = await emu.object(key);
  if (!obj) return null;
  const { last_modified: _time, ...rest } = obj;
  return rest;
}

/** The sequence, run with one client; the keys are the same for both libraries (each run starts from none). */
async function sequence(emu, client, keys) {
  const a = payload(1500, 'parity-a');
  const b = payload(999, 'parity-b');
  const out = {};
  out.first = await outcome(client.append(keys.main, a, {
    mime: 'video/webm',
    meta: { author: 'parity', take: '7' },
    headers: { 'Cache-Control': 'no-cache', 'Content-Disposition': 'inline; filename="take7.webm"' },
  }));
  out.second = await outcome(client.append(keys.main, b, { position: out.first.nextAppendPosition }));
  out.wrongPosition = await outcome(client.append(keys.main, Buffer.from('x'), { position: 0 }));
  out.pastEnd = await outcome(client.append(keys.main, Buffer.from('x'), { position: 100_000 }));
  out.stored = await stored(emu, keys.main);

  out.byExtension = await outcome(client.append(keys.typed, Buffer.from('abc')));
  out.storedByExtension = await stored(emu, keys.typed);

  await client.put(keys.normal, Buffer.from('a normal object'));
  out.appendToNormal = await outcome(client.append(keys.normal, Buffer.from('tail'), { position: 0 }));
  out.appendToNormalAt = await outcome(client.append(keys.normal, Buffer.from('tail'), { position: 15 }));
  out.storedNormal = await stored(emu, keys.normal);

  for (const k of Object.values(keys)) await client.delete(k);
  return out;
}

for (const variant of [{ name: 'V1', v4: false, auth: 'v1' }, { name: 'V4', v4: true, auth: 'v4' }]) {
  describe(`ali-oss parity, ${variant.name}`, () => {
    let emu;
    before(async () => { emu = await startEmulator({ auth: variant.auth }); });
    after(async () => { await emu?.stop(); });

    test('the same sequence gives the same results, objects and errors', T, async () => {
      const id = randomBytes(4).toString('hex');
      const keys = {
        main: `parity/${id}/rec one+ü.webm`,
        typed: `parity/${id}/notes.txt`,
        normal: `parity/${id}/normal.bin`,
      };
      const runs = {};
      for (const [lib, client] of Object.entries(clients(emu, variant.v4))) {
        runs[lib] = await sequence(emu, client, keys);
      }
      const ali = runs['ali-oss'];
      const ours = runs['oss-append'];

      // what ali-oss does, pinned, so that a change on its side is seen here and not mistaken for ours
      assert.deepEqual(ali.first, {
        ok: true, name: keys.main, url: ali.first.url, nextAppendPosition: '1500', status: 200,
      });
      assert.equal(ali.second.nextAppendPosition, '2499');
      assert.deepEqual(ali.wrongPosition,
        { ok: false, name: 'PositionNotEqualToLengthError', code: 'PositionNotEqualToLength', status: 409 });
      assert.deepEqual(ali.appendToNormal,
        { ok: false, name: 'ObjectNotAppendableError', code: 'ObjectNotAppendable', status: 409 });
      assert.equal(ali.stored.meta['x-oss-meta-author'], 'parity');
      assert.equal(ali.stored.content_type, 'video/webm');
      assert.equal(ali.storedByExtension.content_type, 'text/plain');

      const differences = Object.keys(ali)
        .filter((step) => !isDeepStrictEqual(ours[step], ali[step]))
        .map((step) => `step "${step}":\n  ali-oss:    ${JSON.stringify(ali[step])}\n  oss-append: ${JSON.stringify(ours[step])}`);
      if (differences.length > 0) assert.fail(`oss-append differs from ali-oss:\n${differences.join('\n')}`);
    });
  });
}
