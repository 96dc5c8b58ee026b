// Randomized recovery: 20 fixed seeds, each a 64 MiB stream with random write sizes (1 B – 2 MiB, log-uniform) through
// openAppender writes, appender.writable or append(ReadableStream), parts of 1–4 MiB, and faults on a random 5–30%
// of the requests: lost responses after commit, 5xx before commit, resets mid-body, answers slower than the
// timeout, STS expiry (refreshSTSToken) and clock jumps. Every run must end with the stored object byte-identical
// to the input (length, MD5 and CRC-64 read through the control plane), progress monotonic, nothing duplicated.
// Node and headless Chromium run every seed with the same plans.
// Knobs: OSS_APPEND_RANDOM_BYTES (default 64 MiB), OSS_APPEND_RANDOM_CHROME_BYTES (default the same),
// OSS_APPEND_RANDOM_SEEDS (e.g. "1-20" or "3,7"; empty for none), OSS_APPEND_RANDOM_CHROME_SEEDS (default the same).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, startBrowserSuite } from './helpers/browser.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import {
  assertDigest, controller, openStreamsPage, patternDigest, runInPage,
} from './helpers/streaming.mjs';
import { uniqueKey } from './helpers/util.mjs';
import { randomPlan, runUpload } from './pages/streams.js';

const MIB = 1 << 20;
const SIZE = Number(process.env.OSS_APPEND_RANDOM_BYTES || 64 * MIB);
const CHROME_SIZE = Number(process.env.OSS_APPEND_RANDOM_CHROME_BYTES || SIZE);
const SEEDS = parseSeeds(process.env.OSS_APPEND_RANDOM_SEEDS ?? '1-20');
const CHROME_SEEDS = parseSeeds(process.env.OSS_APPEND_RANDOM_CHROME_SEEDS ?? process.env.OSS_APPEND_RANDOM_SEEDS ?? '1-20');
// A short timeout keeps the "slower than the timeout" faults cheap; retries are generous because up to 30% of
// all requests, reconciling HEADs included, fail on purpose.
const TIMEOUT_MS = 1000;
const RETRY_MAX = 10;
const T = { timeout: 120_000 };

function parseSeeds(text) {
  if (text.trim() === '') return [];
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

const digests = new Map();
function expected(seed, size) {
  const k = `${seed}:${size}`;
  if (!digests.has(k)) digests.set(k, patternDigest(seed, size));
  return digests.get(k);
}

let OSS;
let emu;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator({ stsToken: 'sts-token-randomized' });
});
after(async () => { await emu?.stop(); });

function describePlan(plan) {
  return `${plan.mode}, partSize ${plan.partSize}, minPartSize ${plan.minPartSize}, ` +
    `faults on ${(plan.rate * 100).toFixed(1)}% of requests`;
}

async function config(plan, key) {
  return {
    // credentials of its own: earlier seeds expired the ones before, and a part refreshes only once
    options: emu.clientOptions(await emu.issueCredentials()),
    key,
    seed: plan.seed,
    size: plan.size,
    mode: plan.mode,
    partSize: plan.partSize,
    minPartSize: plan.minPartSize,
    flushInterval: plan.flushInterval,
    writeMax: plan.writeMax,
    refresh: true,
    timeout: TIMEOUT_MS,
    retryMax: RETRY_MAX,
    faults: { type: 'random', seed: plan.seed, rate: plan.rate, timeoutMs: TIMEOUT_MS, sts: true },
  };
}

/** Checks one run's outcome and what is stored; reports a summary line; deletes the object. */
async function verify(t, plan, key, out) {
  const log = async () => (await emu.requestsFor(key)).slice(-15).map((e) =>
    `${e.method} ${e.op} pos=${e.position} ${e.status} ${e.code ?? ''} ${e.fault ?? ''}`).join('\n');
  if (!out.ok) {
    assert.fail(`seed ${plan.seed} failed: ${JSON.stringify(out.error)}\ninjected: ` +
      `${JSON.stringify(out.injected.slice(-8))}\nlast requests:\n${await log()}`);
  }
  const want = expected(plan.seed, plan.size);
  assert.equal(out.result.nextAppendPosition, String(plan.size));
  assert.equal(out.result.crc64, want.crc64, 'the CRC-64 the client reports');
  await assertDigest(emu, key, want, `seed ${plan.seed}`);
  assert.deepEqual(out.progress.problems, [], 'progress never goes backwards');
  assert.deepEqual(out.progress.totals, ['null'], 'total is null for streams');
  assert.equal(out.progress.last.loaded, plan.size);
  assert.equal(out.progress.last.position, String(plan.size));
  assert.ok(out.injected.length >= 1, 'faults were injected');
  const ratio = out.injected.length / out.requests;
  const kinds = {};
  for (const i of out.injected) kinds[i.action] = (kinds[i.action] ?? 0) + 1;
  t.diagnostic(`seed ${plan.seed}: ${out.requests} requests, ${out.injected.length} faults ` +
    `(${(ratio * 100).toFixed(1)}%) ${JSON.stringify(kinds)}, ${out.ms} ms`);
}

/** Puts the emulator back for the next seed, and deletes the object (its disk would hold 20 × 64 MiB otherwise). */
async function cleanUp(key) {
  await emu.setClockOffset(0);
  await emu.clearFaults();
  await emu.clearLog();
  await new OSS(emu.clientOptions(await emu.issueCredentials())).delete(key);
}

describe(`randomized faults over ${SIZE / MIB} MiB streams, Node`, () => {
  for (const seed of SEEDS) {
    const plan = randomPlan(seed, SIZE);
    test(`seed ${seed}: ${describePlan(plan)}: byte-identical`, T, async (t) => {
      const key = uniqueKey(`random-node-${seed}`);
      const { control } = controller(emu, OSS);
      try {
        const out = await runUpload(OSS, await config(plan, key), control);
        await verify(t, plan, key, out);
      } finally {
        await cleanUp(key);
      }
    });
  }
});

describe(`randomized faults over ${CHROME_SIZE / MIB} MiB streams, headless Chromium`, () => {
  let browser;
  let site;
  let page;
  let problems;
  before(async () => {
    ({ browser, site } = await startBrowserSuite());
    // The faults make requests fail on purpose, and Chromium logs each failed one; uncaught page errors still count.
    ({ page, problems } = await openStreamsPage(browser, site.origin, (...a) => control(...a),
      { ignore: [/^Failed to load resource/, /^requestfailed/] }));
  });
  after(async () => {
    await closeBrowserSuite(browser, site);
  });
  let control;

  for (const seed of CHROME_SEEDS) {
    const plan = randomPlan(seed, CHROME_SIZE);
    test(`seed ${seed}: ${describePlan(plan)}: byte-identical`, T, async (t) => {
      const key = uniqueKey(`random-chrome-${seed}`);
      ({ control } = controller(emu, OSS));
      try {
        const out = await runInPage(page, await config(plan, key));
        await verify(t, plan, key, out);
        assert.deepEqual(problems.splice(0), [], 'no uncaught error in the page');
      } finally {
        await cleanUp(key);
      }
    });
  }
});
