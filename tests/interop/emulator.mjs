// Start and stop the local `oss-emulator` for the ali-oss suite, plus a small CRC-64/XZ and test data helpers.
// The emulator prints `listening on http://127.0.0.1:<port>` first and `control token: <token>` second (the control
// plane wants it in `X-Emulator-Token`); later output is drained so it never blocks.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');

export const BUCKET = 'interop-bucket';
export const ACCESS_KEY_ID = 'LTAIinteropTestKeyId';
export const ACCESS_KEY_SECRET = 'interopTestSecretKey0123456789';
export const REGION = 'cn-hangzhou';
export const STS_TOKEN = 'CAIS-interop-sts-token+/=with.odd~chars';

/** Hosts under this (reserved) domain resolve to 127.0.0.1 through `testAgent`: cname and virtual-host tests. */
export const TEST_DOMAIN = 'interop.test';

function lookup(hostname, options, callback) {
  if (hostname === TEST_DOMAIN || hostname.endsWith(`.${TEST_DOMAIN}`)) {
    if (options && options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
    return callback(null, '127.0.0.1', 4);
  }
  return dns.lookup(hostname, options, callback);
}

/** An HTTP agent resolving `*.interop.test` to 127.0.0.1 (and everything else as usual). */
export const testAgent = new http.Agent({ keepAlive: true, lookup });

/** GET `url` through `testAgent`; resolves { status, headers, body: Buffer }. */
export function httpGet(url, headers = {}, timeoutMs = 10_000) {
  return new Promise((resolvePromise, reject) => {
    const req = http.get(url, { agent: testAgent, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\s*$/;
const TOKEN_LINE = /^control token: (\S+)\s*$/;

export function emulatorBinary() {
  const bin = process.env.OSS_EMULATOR || join(REPO_ROOT, 'target', 'release', 'oss-emulator');
  if (!existsSync(bin)) {
    throw new Error(`oss-emulator binary not found at ${bin} (set $OSS_EMULATOR or run ` +
      '`cargo build -p oss-append-emulator --release`)');
  }
  return bin;
}

/** Starts an emulator on a free port; resolves { url, port, stop(), control(method, path, body) }. */
export async function startEmulator({ auth = 'any', versioning, args = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'oss-interop-'));
  const child = spawn(emulatorBinary(), [
    '--port', '0',
    '--bucket', BUCKET,
    '--access-key-id', ACCESS_KEY_ID,
    '--access-key-secret', ACCESS_KEY_SECRET,
    '--region', REGION,
    '--data-dir', dataDir,
    '--auth', auth,
    ...(versioning ? ['--versioning', versioning] : []),
    ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));

  // never leave an emulator behind, even if the test process ends without running its hooks
  const killOnExit = () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);

  const lines = createInterface({ input: child.stdout });
  let url;
  let port;
  let token;
  try {
    ({ url, port, token } = await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(
        `oss-emulator printed no listening and token lines within ${START_TIMEOUT_MS} ms; stderr: ${stderr}`)),
      START_TIMEOUT_MS);
      let listening;
      lines.on('line', function first(line) {
        if (!listening) {
          const m = LISTENING.exec(line);
          if (m) listening = { url: m[1], port: Number(m[2]) };
          else {
            clearTimeout(timer);
            lines.off('line', first);
            rej(new Error(`unexpected first line from oss-emulator: ${JSON.stringify(line)}; stderr: ${stderr}`));
          }
          return;
        }
        clearTimeout(timer);
        lines.off('line', first);
        const t = TOKEN_LINE.exec(line);
        if (t) res({ ...listening, token: t[1] });
        else rej(new Error(`expected the control token line from oss-emulator, got ${JSON.stringify(line)}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        rej(new Error(`oss-emulator exited (${code ?? signal}) before listening; stderr: ${stderr}`));
      });
    }));
  } catch (err) {
    process.removeListener('exit', killOnExit);
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  lines.on('line', () => {}); // keep draining stdout

  async function stop() {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }

  /** Calls the control plane under /__emulator__/; resolves { status, body } (body parsed as JSON when it is). */
  async function control(method, path, body) {
    const res = await fetch(`${url}/__emulator__/${path.replace(/^\//, '')}`, {
      method,
      headers: { 'x-emulator-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  /** Runs `fn` with the emulator's clock moved by `ms` milliseconds (restored afterwards). */
  async function withClockShift(ms, fn) {
    const r = await control('POST', 'clock', { shift_ms: ms });
    if (r.status !== 200) throw new Error(`clock shift failed: ${r.status} ${JSON.stringify(r.body)}`);
    try {
      return await fn();
    } finally {
      await control('POST', 'clock', { shift_ms: -ms });
    }
  }

  /** Sets every bucket's versioning status ('enabled' or 'suspended'); resolves the status now. */
  async function setVersioning(status) {
    const r = await control('POST', 'versioning', { status });
    if (r.status !== 200) throw new Error(`versioning ${status}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.status;
  }

  /** Every version of `key` in `bucket`, newest first: [{ version_id, delete_marker, type, size, crc64 }]. */
  async function versions(key, bucket = BUCKET) {
    const r = await control('GET', `versions/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
    if (r.status !== 200) throw new Error(`versions of ${key}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.versions;
  }

  return { url, port, stop, control, withClockShift, setVersioning, versions, stderr: () => stderr };
}

// ---- CRC-64/XZ (the ECMA-182 polynomial, reflected, init and xorout all ones), as OSS reports it ----------------

const MASK = (1n << 64n) - 1n;
const POLY_REFLECTED = 0xC96C5795D7870F42n;
const TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = (c & 1n) ? (c >> 1n) ^ POLY_REFLECTED : c >> 1n;
  return c;
});

/** CRC-64 of `bytes` continuing from the CRC `init` of the bytes before them; returns a decimal string. */
export function crc64(bytes, init = '0') {
  let c = ~BigInt(init) & MASK;
  for (const b of bytes) c = TABLE[Number((c ^ BigInt(b)) & 0xffn)] ^ (c >> 8n);
  return (~c & MASK).toString();
}

if (crc64(Buffer.from('123456789')) !== '11051210869376104954') {
  throw new Error('the test CRC-64 implementation is wrong');
}

/** n deterministic bytes covering the whole byte range. */
export function payload(n, seed) {
  const chunks = [];
  let have = 0;
  for (let i = 0; have < n; i++) {
    const d = createHash('sha256').update(`${seed}:${i}`).digest();
    chunks.push(d);
    have += d.length;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** A key unique to this run. */
export function uniqueKey(label, suffix = 'obj.bin') {
  return `interop/ali-oss/${label}/${randomBytes(5).toString('hex')}/${suffix}`;
}
