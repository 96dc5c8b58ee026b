// CRC-64 rows. Node: bench/crc64/run.mjs (maintained separately) is run as it is and its table parsed. Chrome: the
// package's crc64 and crc64-ecma182.js inside the bench page, interleaved round by round.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { log, mbps, median } from './stats.mjs';

/** Parses the first table bench/crc64/run.mjs prints: rows `name  MB/s(median)  …`. Returns [{ name, mbps }]. */
export function parseCrcTable(text) {
  const rows = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (/^implementation\s{2,}MB\/s/.test(line)) { inTable = true; continue; }
    if (!inTable) continue;
    if (!line.trim()) break; // the end of the main table
    const m = /^(.*?)\s{2,}([\d,.]+)(\s|$)/.exec(line);
    if (m) rows.push({ name: m[1].trim(), mbps: Number(m[2].replace(/,/g, '')) });
  }
  return rows;
}

export async function crcNode({ root, runs }) {
  const script = join(root, 'bench', 'crc64', 'run.mjs');
  log(`CRC-64 in Node: node bench/crc64/run.mjs (CRC_BENCH_RUNS=${runs})`);
  const env = { ...process.env, CRC_BENCH_NO_BUILD: '1', CRC_BENCH_MIB: '64', CRC_BENCH_RUNS: String(runs) };
  const { stdout, stderr, error } = await new Promise((res) => {
    execFile(process.execPath, [script], { cwd: root, env, timeout: 600_000, maxBuffer: 1 << 24 },
      (err, out, errOut) => res({ stdout: out, stderr: errOut, error: err }));
  });
  const rows = parseCrcTable(stdout ?? '');
  const find = (re) => rows.find((r) => re.test(r.name));
  const ours = find(/^oss-append crc64\(bytes\)/i) ?? find(/^oss-append/i);
  const ecma = find(/crc64-ecma182/i);
  const native = find(/pclmul/i);
  const problem = error ? `bench/crc64/run.mjs failed: ${(stderr || String(error)).trim().split('\n').slice(-3).join(' ')}`
    : (!ours || !ecma || !native) ? 'bench/crc64/run.mjs printed no ours/crc64-ecma182.js/PCLMULQDQ rows' : null;
  return { ours, ecma, native, rows, raw: stdout, problem };
}

export async function crcChrome(page, { runs, warmup = 2, mib = 64 }) {
  log(`CRC-64 in Chrome: ${mib} MiB, ${warmup} warm-up + ${runs} rounds`);
  const bytes = await page.evaluate((n) => window.bench.prepare(n), mib << 20);
  const ecmaState = await page.evaluate(() => window.bench.ecmaAvailable());
  const impls = ecmaState === 'ok' ? ['ours', 'ecma'] : ['ours'];
  const ms = { ours: [], ecma: [] };
  for (let round = -warmup; round < runs; round++) {
    const values = {};
    for (const name of (round & 1 ? [...impls].reverse() : impls)) {
      const r = await page.evaluate((n) => window.bench.crcOnce(n), name);
      values[name] = r.value;
      if (round >= 0) ms[name].push(r.ms);
    }
    if (values.ecma !== undefined && values.ecma !== values.ours) {
      throw new Error(`Chrome CRC disagreement: ours ${values.ours}, crc64-ecma182.js ${values.ecma}`);
    }
  }
  const rate = (xs) => xs.map((t) => mbps(bytes, t));
  return {
    ours: { mbps: median(rate(ms.ours)), samples: rate(ms.ours) },
    ecma: ms.ecma.length ? { mbps: median(rate(ms.ecma)), samples: rate(ms.ecma) } : null,
    ecmaProblem: ecmaState === 'ok' ? null : ecmaState,
  };
}
