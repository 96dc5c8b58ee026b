// The table (aligned Markdown, printed and written) and bench/RESULTS.md around it.
import { num, ratio, spread } from './stats.mjs';

const MiB = 2 ** 20;
const kB = 1000;

function cell(value, name, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  return name ? `${num(value, digits)} ${name}` : num(value, digits);
}

/** Builds the rows: { measure, unit, ours, peer, bound, vsPeer, vsBound } (all strings). */
function rows(r) {
  const out = [];
  const add = (measure, unit, ours, peer, bound, digits = 0) => out.push({
    measure, unit,
    ours: cell(ours?.v, null, digits),
    peer: cell(peer?.v, peer?.name, digits),
    bound: cell(bound?.v, bound?.name, digits),
    vsPeer: peer && ours ? ratio(ours.v, peer.v) : '—',
    vsBound: bound && ours ? ratio(ours.v, bound.v) : '—',
  });

  if (r.crcNode) {
    const c = r.crcNode;
    add('CRC-64, 64 MiB buffer, Node', 'MB/s ↑', c.ours && { v: c.ours.mbps }, c.ecma && { v: c.ecma.mbps, name: 'crc64-ecma182.js' },
      c.native && { v: c.native.mbps, name: 'native crc64fast (PCLMULQDQ)' });
  }
  if (r.crcChrome) {
    const c = r.crcChrome;
    add('CRC-64, 64 MiB buffer, Chrome', 'MB/s ↑', { v: c.ours.mbps }, c.ecma && { v: c.ecma.mbps, name: 'crc64-ecma182.js' }, null);
  }
  if (r.appendNode) {
    const a = r.appendNode;
    add('Append 256 MiB in 8 MiB parts, Node', 'MB/s ↑', { v: a.ours.mbps }, { v: a['ali-oss'].mbps, name: 'ali-oss' },
      { v: a.fetch.mbps, name: 'bare fetch' });
  }
  if (r.appendChrome) {
    const a = r.appendChrome;
    add('Append 256 MiB in 8 MiB parts, Chrome', 'MB/s ↑', { v: a.ours.mbps }, null, { v: a.fetch.mbps, name: 'bare fetch' });
  }
  for (const [env, a] of [['Node', r.spoolNode], ['Chrome', r.spoolChrome]]) {
    if (a) add(`Live appender with a spool, 256 MiB in 1 MiB writes, ${env}`, 'MB/s ↑', { v: a.spooled.mbps },
      { v: a.unspooled.mbps, name: 'the same unspooled' }, null);
  }
  if (r.ceiling && !r.ceiling.problem) {
    add('Emulator ceiling: 1 GiB in 8 MiB parts, native Rust client', 'MB/s ↑', null, null,
      { v: r.ceiling.mbps, name: 'native client' });
  }
  if (r.overhead) {
    const o = r.overhead;
    add('Per-append client cost, 4 KiB, V1 signature (transport stubbed)', 'µs ↓', { v: o['ours V1'].us },
      { v: o['ali-oss V1'].us, name: 'ali-oss' }, null, 1);
    add('Per-append client cost, 4 KiB, V4 signature (transport stubbed)', 'µs ↓', { v: o['ours V4'].us },
      { v: o['ali-oss V4'].us, name: 'ali-oss' }, null, 1);
  }
  if (r.roundTrip) {
    const o = r.roundTrip;
    add('4 KiB append round trip on loopback, Node', 'µs ↓', { v: o.ours.us }, { v: o['ali-oss'].us, name: 'ali-oss' },
      { v: o.fetch.us, name: 'bare fetch' });
  }
  if (r.memoryNode) {
    const m = r.memoryNode;
    add('Peak RSS growth, appending a 1 GiB file, Node', 'MiB ↓', { v: m.ours.bytes / MiB },
      { v: m['ali-oss'].bytes / MiB, name: 'ali-oss' }, { v: m.fetch.bytes / MiB, name: 'bare fetch' }, 1);
  }
  if (r.memoryChrome) {
    const m = r.memoryChrome;
    add('Peak RSS growth, 1 GiB File, Chrome renderer', 'MiB ↓', { v: m.renderer.ours.bytes / MiB },
      { v: m.renderer['fetch+crc'].bytes / MiB, name: 'hand loop: read + CRC + fetch' },
      { v: m.renderer.fetch.bytes / MiB, name: 'bare fetch' }, 1);
    add('Peak RSS growth, 1 GiB File, Chrome all processes', 'MiB ↓', { v: m.total.ours.bytes / MiB },
      { v: m.total['fetch+crc'].bytes / MiB, name: 'hand loop: read + CRC + fetch' },
      { v: m.total.fetch.bytes / MiB, name: 'bare fetch' }, 1);
  }
  if (r.outage) {
    const o = r.outage;
    const what = `${o.outageS} s outage in a ${o.seconds / 60}-minute live recording, Node`;
    // Written minus stored; whether what is stored is exactly the recording is under "All samples".
    add(`Bytes lost, ${what}`, 'bytes ↓', { v: o.ours.lost }, { v: o['ali-oss'].lost, name: 'ali-oss, append per chunk' },
      null);
    add(`Peak RSS growth, ${what}`, 'MiB ↓', { v: o.ours.growth / MiB },
      { v: o['ali-oss'].growth / MiB, name: 'ali-oss, append per chunk' },
      { v: o.bound / MiB, name: 'maxBuffered + one part' }, 1);
  }
  for (const l of Object.values(r.latency ?? {})) {
    const net = `${l.rtt} ms RTT, ${num(l.uploadRate * 8 / 1e6)} Mbit/s up, Chrome`;
    const live = `live recording, 1 s chunks of ${l.chunkBytes / 1024} KiB for ${l.liveSeconds} s`;
    const header = { name: 'querySign: false' };
    add(`Write → confirmed, median, ${live}, ${net}`, 'ms ↓', { v: l.live.ours.median },
      { ...header, v: l.live['ours-header'].median }, { v: l.live.fetch.median, name: 'bare fetch' });
    add(`Write → confirmed, p95, ${live}, ${net}`, 'ms ↓', { v: l.live.ours.p95 },
      { ...header, v: l.live['ours-header'].p95 }, { v: l.live.fetch.p95, name: 'bare fetch' });
    add(`Append ${l.total / MiB} MiB in ${l.part / MiB} MiB parts, ${net}`, 'MB/s ↑', { v: l.throughput.ours.mbps },
      { ...header, v: l.throughput['ours-header'].mbps }, { v: l.throughput.fetch.mbps, name: 'bare fetch' }, 1);
  }
  if (r.size) {
    const s = r.size;
    add('Shipped size, browser: .wasm + JS, gzip -9', 'kB ↓', s.web.gz !== undefined && { v: s.web.gz / kB },
      s.ali.gz !== undefined && { v: s.ali.gz / kB, name: 'ali-oss dist/aliyun-oss-sdk.min.js' }, null, 1);
    add('Shipped size, Node: .wasm + JS, gzip -9', 'kB ↓', s.node.gz !== undefined && { v: s.node.gz / kB }, null, null, 1);
  }
  return out;
}

function alignedTable(rs) {
  const head = { measure: 'Measure', unit: 'Unit', ours: 'oss-append', peer: 'Peer', bound: 'Bound', vsPeer: 'ours ÷ peer', vsBound: 'ours ÷ bound' };
  const cols = Object.keys(head);
  const right = new Set(['ours', 'vsPeer', 'vsBound']);
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rs].map((r) => [...r[c]].length))]));
  const pad = (c, s) => (right.has(c) ? s.padStart(width[c]) : s.padEnd(width[c]));
  const line = (r) => `| ${cols.map((c) => pad(c, r[c])).join(' | ')} |`;
  const rule = `|${cols.map((c) => (right.has(c) ? `${'-'.repeat(width[c] + 1)}:` : '-'.repeat(width[c] + 2))).join('|')}|`;
  return [line(head), rule, ...rs.map(line)].join('\n');
}

/** ours ÷ bound round by round (the rounds interleave them, so each pair shares the machine's state then). */
function paired(ours, bound) {
  const xs = ours.samples.map((v, i) => v / bound.samples[i]).filter(Number.isFinite);
  return xs.length ? `round by round ${spread(xs, 2)}` : '';
}

function targets(r) {
  const t = [];
  const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');
  const c = r.crcNode;
  if (c?.ours) {
    const x = c.ecma ? c.ours.mbps / c.ecma.mbps : undefined;
    t.push(`- CRC-64 in Node ≥ 3 GB/s: ${verdict(c.ours.mbps >= 3000)} (${num(c.ours.mbps)} MB/s = ${(c.ours.mbps / 3000).toFixed(2)}× the target).`);
    t.push(`- CRC-64 in Node ≥ 5× the best JS (crc64-ecma182.js): ${verdict(x === undefined ? undefined : x >= 5)} (${x ? x.toFixed(2) : '—'}×).`);
  } else {
    t.push('- CRC-64 in Node ≥ 3 GB/s and ≥ 5× best JS: not measured (see Problems).');
  }
  for (const [env, a] of [['Node', r.appendNode], ['Chrome', r.appendChrome]]) {
    if (!a) { t.push(`- Append throughput ≥ 0.9× bare fetch in ${env}: not measured.`); continue; }
    const x = a.ours.mbps / a.fetch.mbps;
    t.push(`- Append throughput ≥ 0.9× bare fetch in ${env}: ${verdict(x >= 0.9)} (${x.toFixed(2)}×: ${num(a.ours.mbps)} vs ` +
      `${num(a.fetch.mbps)} MB/s; ${paired(a.ours, a.fetch)}).`);
  }
  for (const l of Object.values(r.latency ?? {})) {
    const transferMs = (l.chunkBytes / l.uploadRate) * 1e3;
    const limit = 1.2 * l.rtt + transferMs;
    t.push(`- At ${l.rtt} ms RTT in Chrome, a live append's median ≤ 1.2 × RTT + transfer (${num(limit)} ms): ` +
      `${verdict(l.live.ours.median <= limit)} (${num(l.live.ours.median)} ms; with querySign: false ` +
      `${num(l.live['ours-header'].median)} ms; bare fetch ${num(l.live.fetch.median)} ms).`);
    const x = l.throughput.ours.mbps / l.throughput.fetch.mbps;
    t.push(`- At ${l.rtt} ms RTT in Chrome, append throughput ≥ 0.95× bare fetch: ${verdict(x >= 0.95)} (${x.toFixed(2)}×: ` +
      `${num(l.throughput.ours.mbps, 1)} vs ${num(l.throughput.fetch.mbps, 1)} MB/s; ${paired(l.throughput.ours, l.throughput.fetch)}).`);
  }
  for (const [env, a] of [['Node', r.spoolNode], ['Chrome', r.spoolChrome]]) {
    if (!a) continue;
    const x = a.spooled.mbps / a.unspooled.mbps;
    t.push(`- A spooled appender ≥ 0.8× the unspooled rate in ${env}: ${verdict(x >= 0.8)} (${x.toFixed(2)}×: ` +
      `${num(a.spooled.mbps)} vs ${num(a.unspooled.mbps)} MB/s; ${paired(a.spooled, a.unspooled)}).`);
  }
  if (r.size?.web?.gz !== undefined) {
    t.push(`- Shipped .wasm + JS ≤ 90 kB gzipped: ${verdict(r.size.web.gz <= 90_000)} (browser build ${num(r.size.web.gz / kB, 1)} kB; ` +
      `the .wasm alone ${num(r.size.web.parts.find((p) => p.file.endsWith('.wasm')).gz / kB, 1)} kB).`);
  }
  return t.join('\n');
}

function details(r) {
  const d = [];
  const mb = (xs) => spread(xs, 0);
  if (r.crcNode?.raw) d.push(`CRC-64 in Node, as bench/crc64/run.mjs printed it:\n\n\`\`\`\n${r.crcNode.raw.trim()}\n\`\`\``);
  if (r.crcChrome) {
    d.push(`- CRC-64 in Chrome, MB/s: ours ${mb(r.crcChrome.ours.samples)}` +
      (r.crcChrome.ecma ? `; crc64-ecma182.js ${mb(r.crcChrome.ecma.samples)}` : `; crc64-ecma182.js: ${r.crcChrome.ecmaProblem}`));
  }
  for (const [label, a] of [['Append in Node', r.appendNode], ['Append in Chrome', r.appendChrome],
    ['Live appender, spooled and not, in Node', r.spoolNode], ['Live appender, spooled and not, in Chrome', r.spoolChrome]]) {
    if (a) d.push(`- ${label}, MB/s: ${Object.entries(a).map(([n, v]) => `${n} ${mb(v.samples)}`).join('; ')}`);
  }
  for (const l of Object.values(r.latency ?? {})) {
    d.push(`- ${l.rtt} ms RTT, write → confirmed, ms: ${Object.entries(l.live).map(([n, v]) => `${n} ${spread(v.samples, 0)}, p95 ${num(v.p95)}`).join('; ')}`);
    d.push(`- ${l.rtt} ms RTT, ${l.total / MiB} MiB in ${l.part / MiB} MiB parts, MB/s: ${Object.entries(l.throughput).map(([n, v]) => `${n} ${spread(v.samples, 1)}`).join('; ')}`);
  }
  if (r.ceiling) {
    d.push(r.ceiling.problem ? `- Emulator ceiling: ${r.ceiling.problem}` : `- Emulator ceiling (native client), MB/s per pass: ${r.ceiling.samples.map((x) => num(x)).join(', ')}`);
  }
  if (r.overhead) {
    const { stubCost, ...o } = r.overhead;
    d.push(`- Per-append client cost, µs: ${Object.entries(o).map(([n, v]) => `${n} ${spread(v.samples, 1)}`).join('; ')}`);
    d.push(`- The stubs' own cost per call (inside the figures above): fetch stub with \`new Response\` + \`arrayBuffer()\` ${num(stubCost.fetch, 1)} µs; urllib stub ${num(stubCost.urllib, 1)} µs`);
  }
  if (r.roundTrip) {
    d.push(`- 4 KiB append round trip, µs: ${Object.entries(r.roundTrip).map(([n, v]) => `${n} ${spread(v.samples, 0)}`).join('; ')}; ` +
      `ours − bare fetch = ${num(r.roundTrip.ours.us - r.roundTrip.fetch.us, 0)} µs, ali-oss − bare fetch = ${num(r.roundTrip['ali-oss'].us - r.roundTrip.fetch.us, 0)} µs`);
  }
  const memLine = (label, m, pick = (v) => v) => `- ${label}, MiB: ${Object.entries(m).map(([n, v]) => `${n} ${spread(v.samples.map((b) => b / MiB), 1)}` +
    ` (1 GiB in ${spread(v.ms.map((x) => x / 1e3), 2)} s)`).join('; ')}`;
  if (r.memoryNode) d.push(memLine('Peak RSS growth in Node', r.memoryNode));
  if (r.memoryChrome) {
    d.push(memLine('Peak RSS growth in the Chrome renderer', r.memoryChrome.renderer));
    d.push(memLine('Peak RSS growth, all Chrome processes summed', r.memoryChrome.total));
    const last = r.memoryChrome.runs.ours.at(-1);
    if (last) {
      d.push(`- Last oss-append Chrome run, growth by process: ${last.byType.map((g) => `${g.type} ${num(g.growth / MiB, 1)}`).join(', ')} MiB; ` +
        `the package's wasm linear memory went from ${num(last.wasmBefore / MiB, 1)} to ${num(last.wasmAfter / MiB, 1)} MiB`);
    }
  }
  if (r.outage) {
    const o = r.outage;
    for (const v of ['ours', 'ali-oss']) {
      const x = o[v];
      d.push(`- Outage, ${v}: wrote ${num(x.written)} bytes; the object holds ${num(x.stored)}` +
        ` (${x.intact ? 'exactly the bytes written' : 'not the bytes written'}); peak RSS growth ${num(x.growth / MiB, 1)} MiB;` +
        ` ended ${num(x.ms / 1e3, 1)} s after the recording began`);
    }
  }
  if (r.size) {
    const s = r.size;
    const parts = (m) => (m.parts ? m.parts.map((p) => `${p.file.split('/').slice(-2).join('/')} ${num(p.raw)} B → ${num(p.gz)} B`).join(', ') : m.problem);
    d.push(`- Sizes (raw → gzip -9): browser: ${parts(s.web)}; Node: ${parts(s.node)}; ali-oss: ${parts(s.ali)}`);
  }
  return d.join('\n');
}

function problems(r) {
  const p = [];
  if (r.crcNode?.problem) p.push(`- ${r.crcNode.problem}`);
  if (r.crcChrome?.ecmaProblem) p.push(`- crc64-ecma182.js in Chrome: ${r.crcChrome.ecmaProblem}`);
  if (r.ceiling?.problem) p.push(`- Emulator ceiling: ${r.ceiling.problem}`);
  for (const k of ['web', 'node', 'ali']) if (r.size?.[k]?.problem) p.push(`- Size (${k}): ${r.size[k].problem}`);
  return p.join('\n');
}

const METHOD = (r) => `
- **Rounds and medians.** Every figure is the median of ${r.config.runs} timed rounds (memory: ${r.config.memRuns}) after a
  warm-up round. Within a round each implementation runs once, in an order that rotates from round to round, so a
  busy machine slows the peers alike. Ratios are ours ÷ peer and ours ÷ bound of the medians: above 1 is better for
  MB/s (↑), below 1 is better for µs, MiB and kB (↓). MB/s = 10^6 bytes/s, kB = 1000 bytes, MiB = 2^20 bytes.
- **CRC-64, Node.** \`node bench/crc64/run.mjs\` (its own suite, run unchanged with \`CRC_BENCH_RUNS\`): a 64 MiB
  random buffer; ours is \`crc64(bytes)\` from the package, the copy of the JS bytes into wasm memory included;
  crc64-ecma182.js ${'2.0.2'} (C compiled to JS, the fastest JS CRC-64 on npm) in 8 MiB calls, as its fixed 16 MiB heap
  requires; the bound is crc64fast in a native x86_64 binary with PCLMULQDQ, reading the same bytes from a file.
  All implementations must return the same CRC.
- **CRC-64, Chrome.** The same in the bench page: the package's \`crc64\` (pkg/web.js) and crc64-ecma182.js's
  emscripten module loaded as a classic script and driven exactly as its Node entry drives it (8 MiB calls).
- **Append throughput.** ${r.config.appendTotal / MiB} MiB of random bytes appended in ${r.config.part / MiB} MiB parts to the emulator on
  127.0.0.1 (one emulator for the whole run, \`/__emulator__/reset\` between runs, untimed). Ours: one
  \`append(key, bytes, { partSize: 8 MiB })\` call (sign, CRC-64 of each part in wasm, verified against the server's
  \`x-oss-hash-crc64ecma\`; default V4 signing). ali-oss ${r.aliVersion}: its \`append\` called for each 8 MiB part with the
  returned \`nextAppendPosition\` (V1, its default; ali-oss computes and checks no CRC-64). Bare fetch, the bound:
  V1 presigned append URLs made before the clock starts, then one \`fetch\` POST of each part (no signing, no CRC,
  no headers); the server does the same work for it (signature check, CRC, write). In Chrome the page comes from
  another loopback port, so every request is cross-origin; ours sends appends after the first as query-signed
  CORS simple requests (\`querySign: 'auto'\`), as the presigned bare POSTs are, so only its first append pays a
  preflight.
- **Under a modelled network.** An emulator per round trip, started with \`--latency-ms\` (every answer, preflights
  included, held that long) and \`--upload-rate\` (request bytes taken in at that rate), from the bench page in
  Chromium. Ours: query-signed appends (the browser default); peer: ours with \`querySign: false\` (every append
  signed in headers, so preflighted: the preflight cache cannot help, each URL differs by its position); bound: bare
  \`fetch\` POSTs to presigned V1 URLs made up front. Live recording: every second one Blob chunk is written
  (\`openAppender\` with \`flushInterval: 1000\`, and \`flush()\`; the bound posts it after the previous answer),
  one recording per implementation; the figure is the time from \`write()\` to its promise resolving (bytes on the
  object, CRC checked), median and p95 (nearest rank) over the chunks, the creating append included. Throughput:
  \`append(key, bytes, { partSize: 1 MiB })\` as above, ${r.config.latencyRuns} rounds after a warm-up. Target: a median append
  within 1.2 × RTT + transfer (chunk ÷ uplink rate), and throughput ≥ 0.95× bare fetch.
- **Emulator ceiling.** \`emulator/examples/throughput.rs\` (native Rust client, V4, one keep-alive connection,
  precomputed CRC) against the same emulator: 1 GiB in 8 MiB parts, median of 3 passes. It bounds what any client
  can get from this emulator on this machine.
- **Per-append client cost (transport stubbed)** — everything a client does for one append except the HTTP
  exchange: options, signing, CRC, request build, response parsing and checks. The HTTP layer is replaced by a
  canned 200 answer with the headers the emulator really returned for this append: for ours the global \`fetch\`
  (which the package calls) becomes \`async () => new Response(null, { status: 200, headers })\`; for ali-oss its
  documented \`urllib\` option gets an object whose \`request()\` resolves \`{ status, headers, data, res }\`. Both append
  the same 4 KiB at position 0 ${r.config.overheadIterations} times per round (so the canned answer stays valid), with V1 and with V4.
  Ours' figure includes what it does around \`fetch\` that ali-oss leaves to urllib (an AbortController and a
  timeout timer per request, reading the response body) and the cost of building a \`Response\`, listed below.
- **4 KiB round trip (cross-check).** ${r.config.roundTripIterations} sequential 4 KiB appends per round to the emulator: ours (V4), ali-oss (V1),
  bare fetch to presigned URLs. Ours − bare fetch is ours' client share of a real loopback round trip.
- **Peak memory growth.** Node: a 1 GiB random file, each run in a fresh \`node\` process; after setup and a 4 KiB
  warm-up append, the kernel's peak-RSS counter is reset (\`/proc/self/clear_refs\` ← 5) and the growth is VmHWM
  after the upload minus VmRSS at the reset: exact, no sampling. Ours: \`append(key, path, { partSize: 8 MiB })\`;
  ali-oss: \`append(key, path)\`, its way to append a file (one streamed 1 GiB request); bare: one reused 8 MiB
  buffer, read from the file and POSTed part after part. Chrome: the same file chosen in an \`<input type=file>\`
  (a disk-backed File, as a user's is), a fresh Chromium per run (the page in its start-up tab, no spare
  renderer); the peaks of every process of that Chromium are reset just before the upload and read after it; the
  renderer figure is the page's renderer. Ours: \`append(key, file,
  { partSize: 8 MiB })\`; bare: \`fetch\` of \`file.slice()\` parts to presigned URLs; the "hand loop" peer is
  the least a CRC-checking uploader must do: each slice read into an ArrayBuffer and fed to the package's
  \`Crc64\`, then the slice POSTed to a presigned URL, the final CRC compared with the server's (no ali-oss here:
  it has no CRC-64). Reading parts into fresh ArrayBuffers is what costs memory, as the hand loop shows: V8 frees
  them late. Ours reads every part into one reused buffer (a BYOB reader). "All processes" sums each
  process's own peak growth (an upper bound: the peaks need not coincide).
- **Outage in a live recording.** A ${r.outage ? r.outage.seconds : 120} s recording in Node, ${r.outage ? r.outage.chunk / 1024 : 64} KiB of fresh random bytes every
  ${r.outage ? r.outage.everyMs : 250} ms (2 Mbit/s, a MediaRecorder's pace), with the emulator stopped from the 30th second for 60 s and
  started again on the same port and data dir. Ours: \`openAppender\` with every default (maxBuffered 64 MiB, partSize
  8 MiB), then \`close()\`; peer: ali-oss's \`append\` for each chunk in turn at the last \`nextAppendPosition\`, a
  chunk whose append fails being gone (ali-oss has no appender). Both run at once in fresh processes against the same
  emulator; bytes lost = written − stored, and the MD5 says whether what is stored is exactly what was written;
  peak RSS growth as for the file rows (clear_refs before the recording). The bound is maxBuffered + one part.
- **Shipped size.** Each file a runtime loads, gzipped with \`gzip -9\` and summed: browser = \`web.js\` (the entry
  with the bindings and the crate's JS bundled in) + the .wasm; Node = \`node.cjs\` + \`node.mjs\` +
  \`spool-node.cjs\` + the same .wasm; peer = ali-oss's browser bundle \`dist/aliyun-oss-sdk.min.js\`.
- **Chromium is driven over a bare DevTools pipe** (\`--remote-debugging-pipe\`; only Target, Runtime.evaluate and
  DOM.setFileInputFiles), not through playwright: playwright turns on the DevTools Network domain, and with it
  Chromium's uploads on this machine ran at about 10 MB/s instead of 130–170 MB/s, for any client.
- **Noise.** Unless the load average above is below 1, the machine was shared with other work while this ran;
  treat the absolute figures as indicative, and the spreads under "All samples" as the measure of the noise.
`;

const MODULE_NOTES = {
  core: 'the pure core (oss_append outside wasm): signing, requests, responses, checks, state machines',
  bindings: 'oss_append::wasm, wasm-bindgen, js-sys, web-sys, futures, the exports\' shims',
  hashes: 'SHA-1, SHA-256, HMAC, CRC-64',
  allocator: 'dlmalloc, Vec growth',
  formatting: 'core::fmt and every Display/Debug impl',
  other: 'the rest of std/core/alloc (strings, sorting, collections), base64, percent-encoding',
  data: 'the data section: strings, tables, panic locations',
};

/** The .wasm's size per module (bench/lib/modules.mjs), as a markdown table. */
function modulesTable(r) {
  const w = r.modules;
  if (!w || w.problem) return `not measured${w?.problem ? `: ${w.problem}` : ''}`;
  const total = Object.values(w.modules).reduce((s, m) => s + m.raw, 0);
  const lines = ['| Module | Bytes | Share | What | Largest functions |', '|---|---:|---:|---|---|'];
  for (const [name, m] of Object.entries(w.modules)) {
    lines.push(`| ${name} | ${num(m.raw)} | ${num((100 * m.raw) / total, 1)} % | ${MODULE_NOTES[name] ?? ''} | ${m.largest.join('; ').replace(/\|/g, '\\|')} |`);
  }
  lines.push('', `The shipped .wasm: ${num(w.shippedRaw)} B, ${num(w.shippedGz)} B gzipped; its code ${num(w.shippedCode)} B ` +
    `(the names-kept build's: ${num(w.code)} B). Bytes are raw; a function is charged to the module its name says it comes ` +
    'from, after inlining, so core code inlined into a binding counts as bindings.');
  return lines.join('\n');
}

export function render(r, { started, seconds, loadBefore, loadAfter, command, pkg }) {
  const rs = rows(r);
  const table = alignedTable(rs);
  const m = r.machine;
  const probs = problems(r);
  const header = [
    `oss-append benchmarks, ${started.toISOString().replace(/\.\d+Z$/, 'Z')}; ${m.cpu}, ${m.cores} cores; load ${loadBefore} → ${loadAfter}; ${seconds.toFixed(0)} s`,
  ].join('\n');
  const markdown = `# oss-append benchmark results

Generated by \`bench/run.mjs\`; do not edit by hand, re-run instead.

- **Command:** \`${command}\` (= \`bash bench/run.sh\`, which installs bench/node_modules and runs \`node bench/run.mjs\`; \`BENCH_RUNS=${r.config.runs}\`)
- **Date:** ${started.toISOString().replace(/\.\d+Z$/, 'Z')} (run took ${seconds.toFixed(0)} s)
- **Machine:** ${m.cpu} (PCLMULQDQ ${m.pclmulqdq ? 'yes' : 'no'}), ${m.cores} cores, ${m.memory} RAM; ${m.os}
- **Software:** Node ${m.node}; ${m.chromium} (headless); ${m.rustc}; ali-oss ${r.aliVersion}; package under test: \`${pkg}/\`
- **Load average (1/5/15 min):** ${loadBefore} before, ${loadAfter} after

## Results

${table}

## Size per module

${modulesTable(r)}

## Targets

${targets(r)}

## Method
${METHOD(r)}
## All samples

${details(r)}
${probs ? `\n## Problems\n\n${probs}\n` : ''}`;
  return { table: `${header}\n\n${table}\n\nSize per module:\n${modulesTable(r)}\n\nTargets:\n${targets(r).replace(/\*\*/g, '')}${probs ? `\n\nProblems:\n${probs}` : ''}`, markdown };
}
