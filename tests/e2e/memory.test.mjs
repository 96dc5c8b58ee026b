// Memory stays bounded by the part size, not the input size: a large file appended by path in Node (a child process
// samples process.memoryUsage() during the upload) and the same file as a File (a Blob read from disk) in headless
// Chromium (performance.memory with --enable-precise-memory-info in the page, and the RSS of every Chromium process
// from /proc), both with partSize 8 MiB. The growth over a baseline taken just before the upload must stay within
// LIMIT, memory must not be higher in the second half of the upload than in the first, and the object must arrive
// byte-identical. The figures are printed as test diagnostics (`# memory: ...`).
// Knob: OSS_APPEND_MEMORY_TEST_BYTES (default 1 GiB, about 30 s for both tests on 2 cores; 268435456 for a
// quicker run).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { closeBrowserSuite, startBrowserSuite } from './helpers/browser.mjs';
import { FastCrc64 } from './helpers/crc64-fast.mjs';
import { assertDigest } from './helpers/streaming.mjs';
import { settleWithin, uniqueKey } from './helpers/util.mjs';
import { Pattern } from './pages/streams.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MIB = 1 << 20;
const PART = 8 * MIB;
const SIZE = Number(process.env.OSS_APPEND_MEMORY_TEST_BYTES || 1024 * MIB);
// The part being sent, the next one being read, the runtime's copies of them (fetch bodies, Blob reads), and parts
// already sent that the garbage collector has not reclaimed yet (V8 collects external memory in a sawtooth): Node's
// RSS grew by 40–75 MiB here, with 256 MiB and with 1 GiB inputs alike.
const LIMIT = 12 * PART;
// Memory that grew with the input would peak higher in the second half of the upload than in the first.
const HALF_SLACK = 4 * PART;
const T = { timeout: 240_000 };
// The Chromium upload's own limit, inside T: about 10 s here, so a run at this limit is stalled, not slow.
const UPLOAD_BUDGET_MS = 150_000;
const mib = (n) => `${(n / MIB).toFixed(1)} MiB`;

assert.ok(SIZE % PART === 0 && SIZE > 2 * PART, 'OSS_APPEND_MEMORY_TEST_BYTES: a multiple of 8 MiB, at least 24 MiB');

let emu;
let dir;
let path;
let want;
before(async () => {
  emu = await startEmulator(); // its data directory (the stored copy) is deleted when it stops
  dir = mkdtempSync(join(tmpdir(), 'oss-e2e-memory-'));
  // A sparse file with a 4 KiB pattern marker in every MiB: cheap to make, and a part sent twice or out of place
  // would change the MD5.
  path = join(dir, 'large.bin');
  const fd = openSync(path, 'w');
  const marker = new Pattern(1).read(0, 4096);
  try {
    ftruncateSync(fd, SIZE);
    for (let at = 0; at < SIZE; at += MIB) writeSync(fd, marker, 0, marker.length, at + (at / MIB) % 4096);
  } finally {
    closeSync(fd);
  }
  want = fileDigest(path, SIZE);
});
after(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Digest of a file, read 8 MiB at a time. */
function fileDigest(path, size) {
  const md5 = createHash('md5');
  const crc = new FastCrc64();
  const buf = Buffer.allocUnsafe(PART);
  const fd = openSync(path, 'r');
  try {
    for (let at = 0; at < size;) {
      const n = readSync(fd, buf, 0, Math.min(PART, size - at), at);
      md5.update(buf.subarray(0, n));
      crc.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, md5: md5.digest('hex'), crc64: crc.digest() };
}

/** `text` with every line over 300 characters cut to its start and its length. */
function clipLines(text) {
  return text.split('\n').map((l) => (l.length > 300 ? `${l.slice(0, 300).trimEnd()}… (${l.length} characters)` : l)).join('\n');
}

describe(`memory while appending ${mib(SIZE)} with partSize 8 MiB`, () => {
  test('Node: a file by path (fs.openAsBlob) grows RSS, heap and ArrayBuffers by a few part sizes at most', T,
    async (t) => {
      const key = uniqueKey('memory-node', 'large.bin');
      const args = JSON.stringify({ file: path, key, partSize: PART, options: emu.clientOptions({ timeout: 60_000 }) });
      const out = await new Promise((resolve, reject) => {
        execFile(process.execPath, [join(HERE, 'helpers', 'memory-node.mjs'), args],
          { timeout: 200_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
            // err.message repeats stderr; an uncaught error in the bundle quotes its whole minified line, so
            // stderr is given once, with long lines clipped.
            if (err) reject(new Error(`memory-node.mjs failed (${err.killed ? 'killed at its timeout' : `exit ${err.code ?? err.signal}`}):\n${clipLines(stderr)}`));
            else resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
          });
      });
      assert.equal(out.nextAppendPosition, String(SIZE));
      assert.equal(out.crc64, want.crc64);
      await assertDigest(emu, key, want);
      const g = out.growth;
      const line = `Node ${mib(SIZE)} file, ${out.parts} parts in ${out.ms} ms ` +
        `(${(SIZE / MIB / (out.ms / 1000)).toFixed(0)} MiB/s), ${out.samples} samples; growth over baseline: ` +
        `rss ${mib(g.rss)}, heapUsed ${mib(g.heapUsed)}, external ${mib(g.external)}, ` +
        `arrayBuffers ${mib(g.arrayBuffers)}; peak rss ${mib(out.peak.rss)} (baseline ${mib(out.baseline.rss)}; ` +
        `first half ${mib(out.halves[0])}, second half ${mib(out.halves[1])})`;
      t.diagnostic(line);
      console.log(`# memory: ${line}`);
      assert.ok(g.rss <= LIMIT, `RSS grew by ${mib(g.rss)} (limit ${mib(LIMIT)})`);
      assert.ok(g.external <= LIMIT, `external memory grew by ${mib(g.external)} (limit ${mib(LIMIT)})`);
      assert.ok(g.heapUsed <= LIMIT, `the JS heap grew by ${mib(g.heapUsed)} (limit ${mib(LIMIT)})`);
      const [first, second] = out.halves;
      assert.ok(second <= first + HALF_SLACK,
        `RSS peaked at ${mib(first)} in the first half and ${mib(second)} in the second: it grows with the input`);
      await emu.reset();
    });

  // The same file as a File from an <input type=file>, as a user picks a recording: Chromium reads it from disk on
  // demand. (An in-memory Blob of that size is refused here: Chromium keeps Blobs within about 2% of the RAM;
  // 384 MiB worked and 512 MiB was NotReadableError on this 23 GiB machine, with or without a persistent profile.)
  // Every part the client reads is a fresh ArrayBuffer (Blob.slice().arrayBuffer()), which V8 collects lazily, in a
  // sawtooth whose peaks rise with its heap limit — a bare loop of those reads without the client peaks as high. So
  // the bound is asserted on what stays alive (the heap after a forced GC at the half and at the end), and the peaks
  // are reported.
  test('Chromium: a File keeps the renderer\'s live memory within a few part sizes; peaks reported', T, async (t) => {
    const { browser, site } = await startBrowserSuite({
      args: ['--enable-precise-memory-info', '--js-flags=--expose-gc'],
    });
    const tree = new ChromiumTree();
    try {
      const marks = {};
      let peak = null;
      const sampler = setInterval(() => {
        if (!peak) return;
        for (const [type, rss] of Object.entries(tree.rss())) peak[type] = Math.max(peak[type], rss);
      }, 100);
      const context = await browser.newContext();
      await context.exposeFunction('e2eControl', (what) => {
        marks[what] = tree.rss();
        if (what === 'start') peak = { ...marks.start };
        return null;
      });
      const key = uniqueKey('memory-chrome', 'large.bin');
      let out;
      try {
        const page = await context.newPage();
        await page.goto(`${site.origin}/streams.html`);
        await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
        assert.equal(await page.evaluate(() => window.ossReady), 'ok');
        await page.evaluate(() => {
          const input = document.createElement('input');
          input.type = 'file';
          input.id = 'file';
          document.body.append(input);
        });
        await page.setInputFiles('#file', path);
        // A stalled upload fails the test with where it stopped, within the test's time, instead of hanging it.
        out = await settleWithin(page.evaluate(async ({ options, key, size, part, budgetMs }) => {
          const { default: OSS } = window.ossAppend;
          const { errorInfo } = window.streams;
          const heap = () => performance.memory.usedJSHeapSize;
          // ArrayBuffer backing stores are freed by a sweeper after the GC, so give it a moment and collect again.
          const liveHeap = async () => {
            globalThis.gc();
            await new Promise((r) => setTimeout(r, 50));
            globalThis.gc();
            return heap();
          };
          const file = document.getElementById('file').files[0];
          if (file.size !== size) return { error: { message: `the File has ${file.size} bytes` } };
          const client = new OSS(options);
          const signal = AbortSignal.timeout(budgetMs);
          const began = performance.now();
          const seen = { stage: 'warm-up append', loaded: 0, at: began };
          const stalled = (err) => ({
            error: errorInfo(err),
            stalled: { ...seen, ms: performance.now() - began, sinceProgressMs: performance.now() - seen.at },
          });
          try {
            await client.append(`${key}.warmup`, file.slice(0, 2 * part), { partSize: part, signal });
          } catch (err) {
            return stalled(err);
          }
          seen.stage = 'append';
          const base = await liveHeap();
          await window.e2eControl('start');
          let peakHeap = base;
          const live = {};
          const note = () => { peakHeap = Math.max(peakHeap, heap()); };
          const timer = setInterval(note, 50);
          const started = performance.now();
          let parts = 0;
          try {
            const r = await client.append(key, file, {
              partSize: part,
              signal,
              progress: (p, info) => {
                parts += 1;
                seen.loaded = info.loaded;
                seen.at = performance.now();
                note();
                if (live.half === undefined && info.loaded * 2 >= size) {
                  live.half = null;
                  liveHeap().then((v) => { live.half = v; return window.e2eControl('half'); });
                }
              },
            });
            const ms = performance.now() - started;
            live.end = await liveHeap();
            await window.e2eControl('end');
            return { nextAppendPosition: r.nextAppendPosition, crc64: r.crc64, ms, parts, heap: { base, peak: peakHeap, ...live } };
          } catch (err) {
            return stalled(err);
          } finally {
            clearInterval(timer);
          }
        }, { options: emu.clientOptions({ timeout: 60_000 }), key, size: SIZE, part: PART, budgetMs: UPLOAD_BUDGET_MS }),
        UPLOAD_BUDGET_MS + 20_000, 'the page');
      } finally {
        clearInterval(sampler);
      }
      if (out.error) {
        const s = out.stalled;
        assert.fail(`the ${s.stage} failed after ${Math.round(s.ms)} ms with ${s.loaded} of ${SIZE} bytes confirmed, ` +
          `${Math.round(s.sinceProgressMs)} ms after the last progress: ${JSON.stringify(out.error)}`);
      }
      const h = out.heap;
      const rss = (mark, type) => marks[mark][type] - marks.start[type];
      const line = `Chromium ${mib(SIZE)} File, ${out.parts} parts in ${Math.round(out.ms)} ms ` +
        `(${(SIZE / MIB / (out.ms / 1000)).toFixed(0)} MiB/s); over the baseline: JS heap peak +${mib(h.peak - h.base)}, ` +
        `live after GC +${mib(h.half - h.base)} at the half, +${mib(h.end - h.base)} at the end; ` +
        `renderer RSS peak +${mib(peak.renderer - marks.start.renderer)}, after GC +${mib(rss('half', 'renderer'))} ` +
        `at the half, +${mib(rss('end', 'renderer'))} at the end (baseline ${mib(marks.start.renderer)}); ` +
        `all Chromium processes RSS peak +${mib(peak.total - marks.start.total)} (browser ` +
        `+${mib(peak.browser - marks.start.browser)}, network/utility +${mib(peak.utility - marks.start.utility)})`;
      t.diagnostic(line);
      console.log(`# memory: ${line}`);

      assert.equal(out.nextAppendPosition, String(SIZE));
      assert.equal(out.crc64, want.crc64);
      await assertDigest(emu, key, want);
      assert.ok(h.end - h.base <= LIMIT, `the JS heap keeps ${mib(h.end - h.base)} alive after the upload`);
      assert.ok(h.end <= h.half + HALF_SLACK, `live JS heap ${mib(h.half)} at the half, ${mib(h.end)} at the end`);
      assert.ok(rss('end', 'renderer') <= LIMIT, `the renderer's RSS is ${mib(rss('end', 'renderer'))} higher after GC`);
      assert.ok(peak.browser - marks.start.browser <= LIMIT, 'the browser process holds no copy of the file');
      assert.ok(peak.utility - marks.start.utility <= LIMIT, 'the network service holds no copy of the file');
      await emu.reset();
    } finally {
      const pids = tree.pids();
      // A wedged browser must not hold the suite past its timeout: what does not close in time is killed.
      await settleWithin(closeBrowserSuite(browser, site), 30_000, 'closing Chromium').catch((err) => {
        for (const pid of pids) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        throw err;
      });
    }
  });
});

/**
 * The Chromium processes this test process started, read from /proc: RSS by process type (browser, the largest
 * renderer, gpu, utility — the network service among them) and in total.
 */
class ChromiumTree {
  /** The PIDs of the Chromium processes below this one. */
  pids() {
    return ChromiumTree.#processes().map((p) => p.pid);
  }

  rss() {
    const out = { browser: 0, renderer: 0, gpu: 0, utility: 0, other: 0, total: 0 };
    for (const { type, rss } of ChromiumTree.#processes()) {
      const slot = type === undefined ? 'browser' : type === 'renderer' ? 'renderer'
        : type === 'gpu-process' ? 'gpu' : type === 'utility' ? 'utility' : 'other';
      out[slot] = slot === 'renderer' ? Math.max(out[slot], rss) : out[slot] + rss;
      out.total += rss;
    }
    return out;
  }

  /** Every Chromium process descended from this one: { pid, type (undefined for the browser), rss }. */
  static #processes() {
    const procs = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        procs.push({ pid: Number(name), ppid });
      } catch { /* gone */ }
    }
    const children = new Map();
    for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
    const found = [];
    const walk = (pid) => {
      for (const child of children.get(pid) ?? []) {
        let cmdline;
        let status;
        try {
          // Chromium rewrites its children's command lines into one space-separated string
          cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').split(/[\0 ]/);
          status = readFileSync(`/proc/${child}/status`, 'utf8');
        } catch {
          continue;
        }
        if (!/chrom/i.test(cmdline[0] ?? '')) continue;
        found.push({
          pid: child,
          type: cmdline.find((a) => a.startsWith('--type='))?.slice(7),
          rss: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024,
        });
        walk(child);
      }
    };
    walk(process.pid);
    return found;
  }
}
