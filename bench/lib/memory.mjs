// Peak memory growth while appending a 1 GiB file in 8 MiB parts.
// Node: each run is a fresh process (mem-node-child.mjs); growth = VmHWM after the upload − VmRSS when the peak
// was reset just before it. Chrome: each run is a fresh browser context (its own renderer) with the file chosen in
// an <input type=file> (a disk-backed File, as a user's is); the peaks of every Chromium process of this browser
// are reset before the upload and read after it.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser, openBenchPage } from './browser.mjs';
import { chromiumProcesses, resetPeak, status } from './procmem.mjs';
import { log, median, rotate } from './stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A file of `size` random bytes at `path`, kept between runs. */
export function ensureFile(path, size) {
  if (existsSync(path) && statSync(path).size === size) return path;
  log(`writing ${size / 2 ** 20} MiB test file ${path}`);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(8 << 20);
  try {
    for (let at = 0; at < size; at += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, size - at));
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

function emuJson(emu) {
  return JSON.stringify({ url: emu.url, region: emu.region, bucket: emu.bucket, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret });
}

function child(variant, emu, file, part) {
  return new Promise((res, rej) => {
    execFile(process.execPath, ['--expose-gc', join(HERE, 'mem-node-child.mjs'), variant, emuJson(emu), file, String(part)],
      { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) rej(new Error(`memory run ${variant}: ${stderr || err.message}`));
        else res(JSON.parse(stdout.trim().split('\n').pop()));
      });
  });
}

export async function memoryNode({ emu, file, part, runs }) {
  log(`peak memory in Node: ${statSync(file).size / 2 ** 30} GiB file, ${runs} rounds, a fresh process each`);
  const names = ['ours', 'ali-oss', 'fetch'];
  const out = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < runs; round++) {
    for (const name of rotate(names, round)) {
      await emu.reset();
      out[name].push(await child(name, emu, file, part));
    }
  }
  await emu.reset();
  return summarize(out, (r) => r.growth);
}

export async function memoryChrome({ emu, origin, file, part, runs }) {
  log(`peak memory in Chrome: ${statSync(file).size / 2 ** 30} GiB File, ${runs} rounds, a fresh browser each`);
  const opts = {
    endpoint: emu.url, region: `oss-${emu.region}`, bucket: emu.bucket,
    accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, timeout: 300_000,
  };
  const names = { ours: 'fileOurs', 'fetch+crc': 'fileReadCrc', fetch: 'fileBare' };
  const out = { ours: [], 'fetch+crc': [], fetch: [] };
  let seq = 0;
  for (let round = 0; round < runs; round++) {
    for (const name of rotate(Object.keys(names), round)) {
      await emu.reset();
      // A fresh browser whose start-up tab loads the page, without a spare renderer: nothing of an earlier run,
      // and as few other renderers as Chromium allows, are counted.
      const browser = await launchBrowser(['--disable-features=SpareRendererForSitePerProcess']);
      try {
        const { page } = await openBenchPage(browser, origin, { reuseTab: true });
        await page.setInputFile('#file', file);
        await new Promise((r) => setTimeout(r, 2000)); // let start-up work settle
        const wasmBefore = await page.evaluate(() => window.bench.wasmMemory());
        const procs = chromiumProcesses(browser.pid).map((p) => {
          try { return { ...p, before: resetPeak(p.pid) }; } catch { return null; }
        }).filter(Boolean);
        const r = await page.evaluate(([f, o, k, p]) => window.bench[f](o, k, p),
          [names[name], opts, `bench/mem-chrome-${name}-${++seq}.bin`, part]);
        if (r.next !== String(r.size)) throw new Error(`${name}: ended at ${r.next}, expected ${r.size}`);
        const wasmAfter = await page.evaluate(() => window.bench.wasmMemory());
        const growth = procs.map((p) => {
          try { return { pid: p.pid, type: p.type, growth: status(p.pid).hwm - p.before }; } catch { return null; }
        }).filter(Boolean);
        const renderer = Math.max(0, ...growth.filter((g) => g.type === 'renderer').map((g) => g.growth));
        const total = growth.reduce((s, g) => s + Math.max(0, g.growth), 0);
        out[name].push({ renderer, total, ms: r.ms, byType: growth, wasmBefore, wasmAfter });
      } finally {
        await browser.close();
      }
    }
  }
  await emu.reset();
  return {
    renderer: summarize(out, (r) => r.renderer),
    total: summarize(out, (r) => r.total),
    runs: out,
  };
}

function summarize(out, pick) {
  return Object.fromEntries(Object.entries(out).map(([n, rs]) => {
    const samples = rs.map(pick);
    return [n, { bytes: median(samples), samples, ms: rs.map((r) => r.ms) }];
  }));
}
