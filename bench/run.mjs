// oss-append's benchmark suite: every row measured in one run next to its peer, medians of several rounds with the
// peers interleaved, shown as ratios. Prints one table and writes it, with the machine and the method, to
// bench/RESULTS.md.
//
//   bash bench/run.sh            (what `make bench` runs; installs bench/node_modules, then runs this)
//   node bench/run.mjs           when bench/node_modules, pkg/ and the emulator are already there
//
// Environment: BENCH_RUNS (rounds per row, default 7),
// BENCH_ONLY=crc,append,overhead,spool,memory,outage,size,ceiling,latency (a subset, for development; RESULTS.md is
// then not written unless BENCH_WRITE=1), BENCH_LIVE_SECONDS (length of the live recordings under modelled latency,
// default 60; shorter only for trial runs), OSS_APPEND_PKG (default pkg/), OSS_EMULATOR (default
// target/release/oss-emulator), CHROMIUM (default /usr/bin/chromium).
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startEmulator } from '../tests/e2e/helpers/emulator.mjs';
import { CHROMIUM, launchBrowser, openBenchPage, startBenchSite } from './lib/browser.mjs';
import { emulatorCeiling } from './lib/ceiling.mjs';
import { crcChrome, crcNode } from './lib/crc.mjs';
import { appendChrome, appendNode } from './lib/append.mjs';
import { latencyChrome } from './lib/latency.mjs';
import { describeMachine, loadavg } from './lib/machine.mjs';
import { ensureFile, memoryChrome, memoryNode } from './lib/memory.mjs';
import { wasmModules } from './lib/modules.mjs';
import { outageRecording } from './lib/outage.mjs';
import { overheadLoopback, overheadStubbed } from './lib/overhead.mjs';
import { render } from './lib/report.mjs';
import { spoolChrome, spoolNode } from './lib/spool.mjs';
import { shippedSize } from './lib/size.mjs';
import { log } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const PKG = resolve(process.env.OSS_APPEND_PKG || join(ROOT, 'pkg'));
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS || 7));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (section) => !ONLY || ONLY.has(section);
const MIB = 1 << 20;

const config = {
  runs: RUNS,
  crcMib: 64,
  appendTotal: 256 * MIB,
  part: 8 * MIB,
  memTotal: 1024 * MIB,
  memRuns: 3,
  overheadIterations: 1000,
  roundTripIterations: 200,
  // Under a modelled network: round trips (emulator --latency-ms), a 100 Mbit/s uplink, 1 s chunks of 256 KiB
  // (a 2 Mbit/s recording), 64 MiB in 1 MiB parts, fewer rounds (each takes seconds of modelled waiting).
  rtts: [50, 150],
  uplink: 12_500_000,
  liveSeconds: Math.max(5, Number(process.env.BENCH_LIVE_SECONDS || 60)),
  liveChunk: 256 * 1024,
  latencyTotal: 64 * MIB,
  latencyPart: MIB,
  latencyRuns: Math.min(RUNS, 3),
};

const started = new Date();
const loadBefore = loadavg();
const t0 = performance.now();
const machine = describeMachine(CHROMIUM);
log(`${machine.cpu}, ${machine.cores} cores, load ${loadBefore}; ${RUNS} rounds per row`);

const { OSS, crc64 } = await import(join(PKG, 'node.mjs'));
const AliOSS = require('ali-oss');
const aliVersion = require('ali-oss/package.json').version;

const results = { config, machine, aliVersion };
const emu = await startEmulator();
let browser;
let site;
try {
  if (want('size')) {
    results.size = shippedSize({ pkgDir: PKG, benchDir: BENCH });
    results.modules = wasmModules({ root: ROOT, pkgDir: PKG });
  }
  if (want('ceiling')) results.ceiling = await emulatorCeiling({ root: ROOT, emu, passes: 3 });
  if (want('crc')) results.crcNode = await crcNode({ root: ROOT, runs: Math.max(RUNS, 9) });
  if (want('overhead')) {
    results.overhead = await overheadStubbed({ emu, OSS, AliOSS, runs: RUNS, iterations: config.overheadIterations });
    results.roundTrip = await overheadLoopback({ emu, OSS, AliOSS, runs: RUNS, iterations: config.roundTripIterations });
  }
  if (want('append')) {
    results.appendNode = await appendNode({ emu, OSS, AliOSS, crc64, runs: RUNS, total: config.appendTotal, part: config.part });
  }
  if (want('spool')) {
    mkdirSync(join(BENCH, '.tmp'), { recursive: true });
    results.spoolNode = await spoolNode({ emu, OSS, crc64, runs: Math.max(3, Math.ceil(RUNS / 2)), total: config.appendTotal,
      part: config.part, chunk: MIB, tmpDir: join(BENCH, '.tmp') });
  }
  if (want('outage')) results.outage = await outageRecording({ emu });
  let file;
  if (want('memory')) {
    mkdirSync(join(BENCH, '.tmp'), { recursive: true });
    file = ensureFile(join(BENCH, '.tmp', 'upload-1g.bin'), config.memTotal);
    results.memoryNode = await memoryNode({ emu, file, part: config.part, runs: config.memRuns });
  }
  if (want('crc') || want('append') || want('memory') || want('spool')) {
    site = await startBenchSite(PKG);
    browser = await launchBrowser();
    const { page, close } = await openBenchPage(browser, site.origin);
    if (want('crc')) results.crcChrome = await crcChrome(page, { runs: RUNS, mib: config.crcMib });
    if (want('append')) {
      results.appendChrome = await appendChrome({ emu, page, runs: RUNS, total: config.appendTotal, part: config.part });
    }
    if (want('spool')) {
      results.spoolChrome = await spoolChrome({ emu, page, runs: Math.max(3, Math.ceil(RUNS / 2)), total: config.appendTotal,
        part: config.part, chunk: MIB });
    }
    await close();
    if (want('memory')) {
      results.memoryChrome = await memoryChrome({ emu, origin: site.origin, file, part: config.part, runs: config.memRuns });
    }
  }
  if (want('latency')) {
    site ??= await startBenchSite(PKG);
    browser ??= await launchBrowser();
    const { page, close } = await openBenchPage(browser, site.origin);
    results.latency = await latencyChrome({
      page, rtts: config.rtts, uploadRate: config.uplink, liveSeconds: config.liveSeconds, chunkBytes: config.liveChunk,
      total: config.latencyTotal, part: config.latencyPart, runs: config.latencyRuns,
    });
    await close();
  }
} finally {
  await browser?.close().catch(() => {});
  await site?.close().catch(() => {});
  await emu.stop();
}

const loadAfter = loadavg();
const seconds = (performance.now() - t0) / 1e3;
const { table, markdown } = render(results, {
  started, seconds, loadBefore, loadAfter,
  command: 'make bench',
  pkg: relative(ROOT, PKG) || PKG,
});
process.stdout.write(`\n${table}\n`);
if (!ONLY || process.env.BENCH_WRITE === '1') {
  writeFileSync(join(BENCH, 'RESULTS.md'), markdown);
  log(`wrote bench/RESULTS.md (${seconds.toFixed(0)} s)`);
} else {
  log(`BENCH_ONLY set: bench/RESULTS.md left as it was (${seconds.toFixed(0)} s)`);
}
