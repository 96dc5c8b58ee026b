// Child process of memory.test.mjs: appends a local file by path (as a user's script does) and samples
// process.memoryUsage() while it uploads, so that the figures belong to the upload alone and not to the test
// runner. Usage: node memory-node.mjs <json: { file, key, partSize, options }>; prints one JSON line.
import { stat } from 'node:fs/promises';

import { loadEsm } from './pkg.mjs';

const { file, key, partSize, options } = JSON.parse(process.argv[2]);
const { default: OSS } = await loadEsm();
const client = new OSS(options);
const { size } = await stat(file);

const fields = ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'];
const snapshot = () => {
  const m = process.memoryUsage();
  return Object.fromEntries(fields.map((f) => [f, m[f]]));
};

// Warm up: the WASM instance, fetch and the file reader reach their steady state on a first 2-part append of the
// same kind, so that the baseline does not count one-time costs.
await client.append(`${key}.warmup`, new Blob([new Uint8Array(2 * partSize)]), { partSize });
await client.delete(`${key}.warmup`);

const baseline = snapshot();
const peak = { ...baseline };
// The peak RSS in each half of the upload: memory that grew with the input would be higher in the second.
const halves = [0, 0];
let loaded = 0;
const samples = [];
const sample = () => {
  const s = snapshot();
  samples.push(s);
  for (const f of fields) peak[f] = Math.max(peak[f], s[f]);
  const half = loaded * 2 < size ? 0 : 1;
  halves[half] = Math.max(halves[half], s.rss);
};
const timer = setInterval(sample, 20);
const started = Date.now();
let parts = 0;
const result = await client.append(key, file, {
  partSize,
  progress: (p, info) => {
    parts += 1;
    loaded = Number(info.loaded);
    sample();
  },
});
const ms = Date.now() - started;
clearInterval(timer);
sample();
process.stdout.write(`${JSON.stringify({
  nextAppendPosition: result.nextAppendPosition,
  crc64: result.crc64,
  ms,
  parts,
  samples: samples.length,
  baseline,
  peak,
  growth: Object.fromEntries(fields.map((f) => [f, peak[f] - baseline[f]])),
  halves,
  final: snapshot(),
})}\n`);
