// The cost of a spool: `total` bytes through a live appender in `chunk`-sized writes, with a spool (Node: files
// under a spoolDir on the bench's disk; Chrome: OPFS) and without, in the same rounds (order rotating, an emulator
// reset between runs, not timed). The target is a spooled rate of at least 0.8x the unspooled one.
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { log, mbps, median, rotate } from './stats.mjs';

let seq = 0;
const uniqueKey = (name) => `bench/spool-${name}-${process.pid}-${++seq}.bin`;

async function rounds(emu, impls, { runs, warmup, bytes }) {
  const names = Object.keys(impls);
  const ms = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -warmup; round < runs; round++) {
    for (const name of rotate(names, round + warmup)) {
      await emu.reset();
      const t = await impls[name]();
      if (round >= 0) ms[name].push(t);
    }
  }
  await emu.reset();
  return Object.fromEntries(names.map((n) => {
    const samples = ms[n].map((t) => mbps(bytes, t));
    return [n, { mbps: median(samples), samples }];
  }));
}

export async function spoolNode({ emu, OSS, crc64, runs, warmup = 1, total, part, chunk, tmpDir }) {
  log(`spool in Node: ${total / 2 ** 20} MiB in ${chunk / 2 ** 20} MiB writes through openAppender, with and ` +
    `without a spool, ${warmup} warm-up + ${runs} rounds`);
  const data = randomFillSync(Buffer.alloc(total));
  const expectedCrc = crc64(data);
  const spoolDir = mkdtempSync(join(tmpDir, 'spool-'));
  const client = new OSS(emu.clientOptions({ timeout: 120_000, spoolDir }));
  const run = (spool) => async () => {
    const key = uniqueKey(spool ? 'on' : 'off');
    const t = performance.now();
    const w = await client.openAppender(key, { partSize: part, minPartSize: part, ...(spool ? { spool: 'bench' } : {}) });
    for (let at = 0; at < total; at += chunk) {
      await w.ready();
      w.write(data.subarray(at, Math.min(total, at + chunk))).catch(() => {});
    }
    const r = await w.close();
    const ms = performance.now() - t;
    if (r.nextAppendPosition !== String(total) || r.crc64 !== expectedCrc) {
      throw new Error(`spool ${spool}: next ${r.nextAppendPosition}, crc ${r.crc64}, expected ${total}, ${expectedCrc}`);
    }
    return ms;
  };
  try {
    return await rounds(emu, { spooled: run(true), unspooled: run(false) }, { runs, warmup, bytes: total });
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

export async function spoolChrome({ emu, page, runs, warmup = 1, total, part, chunk }) {
  log(`spool in Chrome: ${total / 2 ** 20} MiB in ${chunk / 2 ** 20} MiB writes through openAppender, with a spool ` +
    `(OPFS) and without, ${warmup} warm-up + ${runs} rounds`);
  await page.evaluate((n) => window.bench.prepare(n), total);
  const opts = {
    endpoint: emu.url, region: `oss-${emu.region}`, bucket: emu.bucket,
    accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, timeout: 120_000,
  };
  const call = (spool) => async () => {
    const r = await page.evaluate(([o, k, p, c, s]) => window.bench.appenderRun(o, k, p, c, s),
      [opts, uniqueKey(spool ? 'on' : 'off'), part, chunk, spool ? 'bench' : null]);
    if (r.next !== String(total)) throw new Error(`spool ${spool}: ended at ${r.next}, expected ${total}`);
    return r.ms;
  };
  return rounds(emu, { spooled: call(true), unspooled: call(false) }, { runs, warmup, bytes: total });
}
