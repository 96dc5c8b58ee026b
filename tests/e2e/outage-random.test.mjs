// Randomized outages in the middle of live recordings, in Node against the emulator: the emulator stopped at random
// moments for random lengths and started again on the same port and data dir, mixed with the emulator's fault kinds
// (a lost response, a 503, a reset mid-body, an answer slower than the timeout). Each recording must end
// byte-identical, with no write rejected. By default 2 seeds of 1-3 s outages (part of `make test`);
// OSS_E2E_LONG=1 (`make test-long`) runs 10 seeds of 1-30 s outages.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertDigest, patternDigest } from './helpers/streaming.mjs';
import { sleep, uniqueKey } from './helpers/util.mjs';
import { record } from './pages/outage.js';
import { Rng } from './pages/rng.js';

const LONG = process.env.OSS_E2E_LONG === '1';
const SEEDS = LONG ? [101, 102, 103, 104, 105, 106, 107, 108, 109, 110] : [201, 202];
const OUTAGE_MS = LONG ? [1000, 30_000] : [1000, 3000];
const TIMEOUT_MS = 2000;
const FAULTS = [
  { kind: 'drop_after_commit' },
  { kind: 'error_before_commit', status: 503 },
  { kind: 'reset_mid_body', after_bytes: 10_000 },
  { kind: 'delay', delay_ms: TIMEOUT_MS + 600 },
];

let OSS;
let emu;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
});
after(async () => { await emu?.stop(); });

/** A plan for one seed: outages and faults at random moments of a recording of `durationMs`. */
function plan(seed) {
  const rng = new Rng(seed);
  const outages = LONG ? rng.int(1, 2) : 1;
  const events = [];
  let t = rng.int(500, 2000);
  for (let i = 0; i < outages; i++) {
    for (let f = rng.int(1, 2); f > 0; f--) {
      events.push({ at: t, fault: FAULTS[rng.int(0, FAULTS.length - 1)] });
      t += rng.int(300, 1500);
    }
    const ms = rng.int(OUTAGE_MS[0], OUTAGE_MS[1]);
    events.push({ at: t, outage: ms });
    t += ms + rng.int(500, 2000);
  }
  events.push({ at: t, fault: FAULTS[rng.int(0, FAULTS.length - 1)] });
  return { events, durationMs: t + 1500 };
}

/** Carries out the plan's events on time; resolves what was done. */
async function play(key, events) {
  const t0 = Date.now();
  const done = [];
  for (const e of events) {
    await sleep(Math.max(0, t0 + e.at - Date.now()));
    if (e.outage) {
      await emu.halt();
      await sleep(e.outage);
      await emu.restart();
      done.push(`down ${e.outage} ms`);
    } else {
      await emu.armFault({ ...e.fault, op: 'append', key, count: 1 });
      done.push(e.fault.kind);
    }
  }
  return done;
}

describe(`randomized outages (${SEEDS.length} seeds, ${OUTAGE_MS[0] / 1000}-${OUTAGE_MS[1] / 1000} s)`, () => {
  for (const seed of SEEDS) {
    const { events, durationMs } = plan(seed);
    test(`seed ${seed}: ${events.map((e) => (e.outage ? `outage ${e.outage} ms` : e.fault.kind)).join(', ')}`,
      { timeout: durationMs + 120_000 }, async () => {
        const key = uniqueKey(`outage-random-${seed}`);
        const [out, done] = await Promise.all([
          record(OSS, {
            options: emu.clientOptions({ timeout: TIMEOUT_MS }), key, seed, durationMs, writeSize: 8 * 1024,
            appender: { maxRetryDelay: 4000, partSize: 256 * 1024 },
          }),
          play(key, events),
        ]);
        assert.deepEqual(out.rejected, [], `no write rejected (${done.join(', ')})`);
        const want = patternDigest(seed, out.size);
        assert.deepEqual(out.closed, { name: key, nextAppendPosition: String(out.size), crc64: want.crc64 });
        await assertDigest(emu, key, want, `byte-identical after ${done.join(', ')}`);
        assert.ok(out.states.some((s) => s.s === 'retrying'), 'the outage was seen');
        await emu.clearFaults();
      });
  }
});
