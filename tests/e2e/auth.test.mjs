// Credentials and time: STS tokens, `refreshSTSToken` when the emulator expires the token, and a server clock
// shifted past OSS's 15-minute skew window. Every scenario ends with the object byte-identical to the input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator, withEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertNoSecret, assertStored, payload, refCrc64, rejects, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 30_000 };
const MINUTE = 60_000;
const VARIANTS = [
  { name: 'V1', auth: 'v1', options: { authorizationV4: false } },
  { name: 'V4', auth: 'v4', options: {} },
];

let OSS;
before(async () => { ({ default: OSS } = await loadEsm()); });

for (const variant of VARIANTS) {
  describe(`STS credentials, ${variant.name}`, () => {
    const sts = () => ({ auth: variant.auth, stsToken: `sts-token-e2e-${variant.auth}` });

    test('a client with the token appends; one without it is refused', T, () => withEmulator(sts(), async (emu) => {
      const key = uniqueKey('sts');
      const data = payload(5000, 'sts');
      const r = await new OSS(emu.clientOptions(variant.options)).append(key, data);
      assert.equal(r.crc64, refCrc64(data));
      await assertStored(emu, key, data);

      const options = emu.clientOptions(variant.options);
      delete options.stsToken;
      const other = uniqueKey('no-token');
      await rejects(new OSS(options).append(other, Buffer.from('x')), { status: 403 });
      assert.equal(await emu.object(other), null);
    }));

    test('an expired token without refreshSTSToken: 403 SecurityTokenExpiredError, nothing appended', T,
      () => withEmulator(sts(), async (emu) => {
        const client = new OSS(emu.clientOptions(variant.options));
        const key = uniqueKey('expired');
        const first = payload(1000, 'expired-1');
        const r1 = await client.append(key, first);
        assert.equal(await emu.expireToken(), 1);
        const err = await rejects(client.append(key, Buffer.from('more'), { position: r1.nextAppendPosition }), {
          status: 403, code: 'SecurityTokenExpired', name: 'SecurityTokenExpiredError',
        });
        assertNoSecret(err, emu.accessKeySecret);
        assertNoSecret(err, emu.stsToken);
        await assertStored(emu, key, first);
      }));

    test('refreshSTSToken: called once when the token expires; the append goes on with the new credentials', T,
      () => withEmulator(sts(), async (emu) => {
        let calls = 0;
        const client = new OSS(emu.clientOptions({
          ...variant.options,
          refreshSTSToken: async () => {
            calls += 1;
            return emu.issueCredentials();
          },
        }));
        const key = uniqueKey('refresh');
        const part1 = payload(4000, 'refresh-1');
        const part2 = payload(3000, 'refresh-2');
        const part3 = payload(10, 'refresh-3');
        const r1 = await client.append(key, part1);
        assert.equal(calls, 0, 'no refresh while the token is valid');

        await emu.expireToken();
        const r2 = await client.append(key, part2, { position: r1.nextAppendPosition });
        const whole = Buffer.concat([part1, part2]);
        assert.equal(r2.nextAppendPosition, String(whole.length));
        assert.equal(r2.crc64, refCrc64(whole));
        assert.equal(calls, 1, 'exactly one refresh for the expired token');

        const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
        assert.deepEqual(appends.map((e) => [e.status, e.code]),
          [[200, null], [403, 'SecurityTokenExpired'], [200, null]], 'refused once, then accepted');

        const r3 = await client.append(key, part3, { position: r2.nextAppendPosition });
        assert.equal(r3.nextAppendPosition, String(whole.length + part3.length));
        assert.equal(calls, 1, 'the refreshed credentials stay in use');
        await assertStored(emu, key, Buffer.concat([whole, part3]));
      }));

    test('a refreshSTSToken that never settles fails the call within its timeout; the next call asks again', T,
      () => withEmulator(sts(), async (emu) => {
        let calls = 0;
        const client = new OSS(emu.clientOptions({
          ...variant.options,
          timeout: 300,
          refreshSTSToken: () => {
            calls += 1;
            return calls === 1 ? new Promise(() => {}) : Promise.resolve(emu.issueCredentials());
          },
        }));
        const key = uniqueKey('refresh-hangs');
        await emu.expireToken();
        const t0 = Date.now();
        const err = await rejects(client.append(key, payload(100, 'hang')), { code: 'RequestError' });
        assert.match(err.message, /refreshSTSToken did not settle within 300 ms/);
        assert.ok(Date.now() - t0 < 5_000, `settled after ${Date.now() - t0} ms`);
        assert.equal(await emu.object(key), null, 'nothing appended');

        const r = await client.append(key, payload(100, 'after'));
        assert.equal(r.nextAppendPosition, '100');
        assert.equal(calls, 2, 'the hung refresh is not waited on again');
        await assertStored(emu, key, payload(100, 'after'));
      }));

    test('an abort while refreshSTSToken runs settles the call at once', T,
      () => withEmulator(sts(), async (emu) => {
        const client = new OSS(emu.clientOptions({ ...variant.options, refreshSTSToken: () => new Promise(() => {}) }));
        await emu.expireToken();
        const controller = new AbortController();
        const pending = client.append(uniqueKey('refresh-abort'), payload(100, 'abort'), { signal: controller.signal });
        setTimeout(() => controller.abort(), 200);
        const t0 = Date.now();
        await rejects(pending, { name: 'AbortError' });
        assert.ok(Date.now() - t0 < 2_000, `settled ${Date.now() - t0} ms after the abort was scheduled`);
      }));

    test('concurrent appends that meet an expired token share one refresh', T,
      () => withEmulator(sts(), async (emu) => {
        let calls = 0;
        const client = new OSS(emu.clientOptions({
          ...variant.options,
          refreshSTSToken: async () => {
            calls += 1;
            await new Promise((r) => setTimeout(r, 100));
            return emu.issueCredentials();
          },
        }));
        const keys = [uniqueKey('single-flight-a'), uniqueKey('single-flight-b'), uniqueKey('single-flight-c')];
        await emu.expireToken();
        const results = await Promise.all(keys.map((k, i) => client.append(k, payload(100 + i, k))));
        assert.equal(calls, 1, 'one refresh for all three');
        results.forEach((r, i) => assert.equal(r.nextAppendPosition, String(100 + i)));
        for (const [i, k] of keys.entries()) await assertStored(emu, k, payload(100 + i, k));
      }));
  });

  describe(`clock skew, ${variant.name}`, () => {
    let emu;
    before(async () => { emu = await startEmulator({ auth: variant.auth }); });
    after(async () => { await emu?.stop(); });

    for (const offset of [20 * MINUTE, -20 * MINUTE]) {
      test(`server clock ${offset > 0 ? '+' : '-'}20 min: one RequestTimeTooSkewed, then appends succeed`, T,
        async () => {
          await emu.setClockOffset(offset);
          try {
            const client = new OSS(emu.clientOptions(variant.options));
            const key = uniqueKey('skew');
            const part1 = payload(2000, `skew-${offset}-1`);
            const part2 = payload(2000, `skew-${offset}-2`);
            const r1 = await client.append(key, part1);
            const r2 = await client.append(key, part2, { position: r1.nextAppendPosition });
            const whole = Buffer.concat([part1, part2]);
            assert.equal(r2.crc64, refCrc64(whole));

            const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
            assert.deepEqual(appends.map((e) => [e.status, e.code]),
              [[403, 'RequestTimeTooSkewed'], [200, null], [200, null]],
              'the first request learns the offset; the client keeps it for the next');
            await assertStored(emu, key, whole);
          } finally {
            await emu.setClockOffset(0);
          }
        });
    }

    test('within the window (+10 min) nothing is refused', T, async () => {
      await emu.setClockOffset(10 * MINUTE);
      try {
        const key = uniqueKey('small-skew');
        await new OSS(emu.clientOptions(variant.options)).append(key, Buffer.from('fine'));
        const appends = (await emu.requestsFor(key)).filter((e) => e.op === 'append');
        assert.deepEqual(appends.map((e) => e.status), [200]);
      } finally {
        await emu.setClockOffset(0);
      }
    });
  });
}
