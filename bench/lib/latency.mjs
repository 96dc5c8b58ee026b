// Browser appends under a modelled network: the emulator holds every answer for a round trip (--latency-ms) and
// takes request bytes in at an uplink rate (--upload-rate). Ours (query-signed appends, the browser default) against
// a bare fetch of presigned URLs (the bound) and against ours with querySign: false (every append preflighted):
// a live recording's time from write() to confirmed, and the throughput of 64 MiB in 1 MiB parts.
import { startEmulator } from '../../tests/e2e/helpers/emulator.mjs';
import { runRounds } from './append.mjs';
import { log, median } from './stats.mjs';

const MIB = 1 << 20;
let seq = 0;
const uniqueKey = (name) => `bench/latency/${name}-${process.pid}-${++seq}.bin`;

/** The `p`-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/**
 * For each round trip in `rtts` (ms): a fresh emulator with that latency and `uploadRate`, then in the bench `page`
 * the live recording (`liveSeconds` one-second chunks of `chunkBytes`, each implementation once, in turn) and the
 * throughput rounds. Resolves { [rtt]: { live, throughput } }.
 */
export async function latencyChrome({
  page, rtts, uploadRate, liveSeconds, chunkBytes, total, part, runs, warmup = 1,
}) {
  await page.evaluate((n) => window.bench.prepare(n), Math.max(total, liveSeconds * chunkBytes));
  const out = {};
  for (const rtt of rtts) {
    const emu = await startEmulator({ latencyMs: rtt, uploadRate });
    try {
      const inForce = await emu.network();
      if (inForce.latencyMs !== rtt || inForce.uploadRate !== uploadRate) {
        throw new Error(`the emulator models ${JSON.stringify(inForce)}, not ${rtt} ms and ${uploadRate} B/s`);
      }
      const opts = {
        endpoint: emu.url, region: `oss-${emu.region}`, bucket: emu.bucket,
        accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, timeout: 120_000,
      };
      log(`latency ${rtt} ms, uplink ${uploadRate / 1e6} MB/s: live recording, ${liveSeconds} s of ` +
        `${chunkBytes / 1024} KiB chunks per implementation`);
      const live = {};
      for (const mode of ['ours', 'ours-header', 'fetch']) {
        const r = await page.evaluate(([o, k, m]) => window.bench.liveRecording(o, k, m),
          [opts, uniqueKey(`live-${mode}`), { mode, seconds: liveSeconds, chunkBytes }]);
        if (r.next !== String(liveSeconds * chunkBytes)) throw new Error(`live ${mode}: ended at ${r.next}`);
        live[mode] = { median: median(r.times), p95: quantile(r.times, 0.95), samples: r.times };
        await emu.reset();
      }
      log(`latency ${rtt} ms: ${total / MIB} MiB in ${part / MIB} MiB parts, ${warmup} warm-up + ${runs} rounds`);
      const call = (fn, extra) => async () => {
        const r = await page.evaluate(([f, o, k, p]) => window.bench[f](o, k, p),
          [fn, { ...opts, ...extra }, uniqueKey(fn), part]);
        if (r.next !== String(total)) throw new Error(`${fn}: ended at ${r.next}, expected ${total}`);
        return r.ms;
      };
      const throughput = await runRounds(emu, {
        ours: call('appendOurs', {}),
        'ours-header': call('appendOurs', { querySign: false }),
        fetch: call('appendBare', {}),
      }, { runs, warmup, bytes: total });
      out[rtt] = { live, throughput, rtt, uploadRate, chunkBytes, liveSeconds, total, part };
    } finally {
      await emu.stop();
    }
  }
  return out;
}
