// A live recording hit by an outage: ours (openAppender, defaults) and ali-oss (append per chunk) record side by side
// in fresh Node processes against one emulator, which is stopped for `outageS` seconds in the middle and started
// again on the same port and data dir. Measures the bytes lost (written minus what the object holds, and whether
// what it holds is exactly what was written) and each process's peak RSS growth.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { log } from './stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const MiB = 2 ** 20;

function child(variant, emu, key, { seconds, chunk, everyMs }) {
  const info = JSON.stringify({ url: emu.url, region: emu.region, bucket: emu.bucket, accessKeyId: emu.accessKeyId,
    accessKeySecret: emu.accessKeySecret });
  const p = spawn(process.execPath, ['--expose-gc', join(HERE, 'outage-child.mjs'), variant, info, key,
    String(seconds), String(chunk), String(everyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: p.stdout });
  let onReady;
  const ready = new Promise((res) => { onReady = res; });
  const result = new Promise((res, rej) => {
    const timer = setTimeout(() => { p.kill('SIGKILL'); rej(new Error(`${variant}: no result in time`)); },
      (seconds + 180) * 1000);
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) { clearTimeout(timer); res(JSON.parse(line)); }
    });
    p.on('exit', (code) => { if (code !== 0) { clearTimeout(timer); rej(new Error(`${variant} exited ${code}`)); } });
  });
  return { ready, result };
}

export async function outageRecording({ emu, seconds = 120, outageAt = 30, outageS = 60, chunk = 64 * 1024,
  everyMs = 250, maxBuffered = 64 * MiB, part = 8 * MiB }) {
  log(`outage: a ${seconds} s recording of ${chunk / 1024} KiB every ${everyMs} ms, the emulator down from ` +
    `${outageAt} s for ${outageS} s`);
  const stamp = Date.now();
  const variants = ['ours', 'ali-oss'];
  const runs = Object.fromEntries(variants.map((v) => [v, child(v, emu, `bench/outage-${v}-${stamp}.bin`,
    { seconds, chunk, everyMs })]));
  await Promise.all(variants.map((v) => runs[v].ready));
  await sleep(outageAt * 1000);
  await emu.halt();
  await sleep(outageS * 1000);
  await emu.restart();
  const out = { seconds, outageS, chunk, everyMs, bound: maxBuffered + part };
  for (const v of variants) {
    const r = await runs[v].result;
    const obj = await emu.object(`bench/outage-${v}-${stamp}.bin`);
    const stored = obj?.size ?? 0;
    out[v] = { ...r, stored, lost: r.written - stored, intact: obj?.md5 === r.md5 };
    log(`outage: ${v}: wrote ${r.written}, the object holds ${stored} (${out[v].intact ? 'exactly them' : 'not them'}), ` +
      `peak RSS growth ${(r.growth / MiB).toFixed(1)} MiB`);
  }
  return out;
}
