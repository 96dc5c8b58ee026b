// Starts and stops the local `oss-emulator` for the JS suites (tests/e2e, tests/interop, tests/www), and drives its
// control plane (`/__emulator__/`): faults, clock, STS credentials, modelled network, request log, state, reset.
// The binary is $OSS_EMULATOR or target/release/oss-emulator. It prints `listening on http://127.0.0.1:<port>` first
// and `control token: <token>` second (the control plane wants it in `X-Emulator-Token`); later output is drained so
// that it never blocks. Every wait is bounded; every started emulator is stopped by `stop()`, and killed at the latest
// when the test process exits. Only Node's built-in modules are used, so that every suite can import it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..');

// The emulator's documented defaults (test values, not secrets); passed explicitly anyway, and a suite may start it
// with others.
export const BUCKET = 'examplebucket';
export const ACCESS_KEY_ID = 'emulator-access-key-id';
export const ACCESS_KEY_SECRET = 'emulator-access-key-secret';
export const REGION = 'cn-hangzhou';

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const CONTROL_TIMEOUT_MS = 5_000;
const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\s*$/;
const TOKEN_LINE = /^control token: (\S+)\s*$/;

// Emulators still running when this process ends (a test runner that times a file out sends SIGTERM) are killed.
const running = new Set();
function killAll() {
  for (const { child, dataDir } of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
process.once('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal); // the default action, now that this listener is gone
  });
}

export function emulatorBinary() {
  const bin = process.env.OSS_EMULATOR || join(REPO_ROOT, 'target', 'release', 'oss-emulator');
  if (!existsSync(bin)) {
    throw new Error(`oss-emulator binary not found at ${bin} (set $OSS_EMULATOR or run ` +
      '`cargo build --release -p oss-append-emulator`)');
  }
  return bin;
}

/**
 * Starts an emulator on a free port.
 * @param {object} [o]
 * @param {'v1'|'v4'|'any'} [o.auth]   accepted signature versions (default any)
 * @param {string} [o.stsToken]        require this STS token with the access key
 * @param {string} [o.corsExpose]      `--cors-expose` (e.g. 'none')
 * @param {'enabled'|'suspended'} [o.versioning]  `--versioning`: every bucket versioned
 * @param {number} [o.latencyMs]       `--latency-ms`: a modelled round trip held on every answer
 * @param {number} [o.uploadRate]      `--upload-rate`: request bytes per second (0: unpaced)
 * @param {string[]} [o.args]          further flags
 * @param {number} [o.port]            the port (default: a free one)
 * @param {string} [o.dataDir]         the data dir (default: a fresh temporary one)
 * @param {string} [o.bucket]          the bucket (default BUCKET above)
 * @param {string} [o.accessKeyId]     the key pair it accepts (default the pair above)
 * @param {string} [o.accessKeySecret]
 * @param {string} [o.region]          its region (default REGION above)
 */
export async function startEmulator({
  auth = 'any', stsToken, corsExpose, versioning, latencyMs, uploadRate, args = [], port: askedPort = 0, dataDir: askedDir,
  bucket = BUCKET, accessKeyId = ACCESS_KEY_ID, accessKeySecret = ACCESS_KEY_SECRET, region = REGION,
} = {}) {
  const dataDir = askedDir ?? mkdtempSync(join(tmpdir(), 'oss-emulator-'));
  const argv = [
    '--port', String(askedPort),
    '--bucket', bucket,
    '--access-key-id', accessKeyId,
    '--access-key-secret', accessKeySecret,
    '--region', region,
    '--data-dir', dataDir,
    '--auth', auth,
    ...(stsToken ? ['--sts-token', stsToken] : []),
    ...(corsExpose ? ['--cors-expose', corsExpose] : []),
    ...(versioning ? ['--versioning', versioning] : []),
    ...(latencyMs ? ['--latency-ms', String(latencyMs)] : []),
    ...(uploadRate ? ['--upload-rate', String(uploadRate)] : []),
    ...args,
  ];
  const child = spawn(emulatorBinary(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { child, dataDir };
  running.add(entry);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-8000); });
  const exited = new Promise((res) => child.once('exit', (code, signal) => {
    running.delete(entry);
    res({ code, signal });
  }));

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
    child.kill('SIGKILL');
    await exited;
    if (!askedDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  lines.on('line', () => {}); // keep draining stdout

  const emu = new Emulator({
    child, exited, url, port, token, dataDir, auth, stsToken, bucket, accessKeyId, accessKeySecret, region,
    stderr: () => stderr,
  });
  emu.startOptions = {
    auth, stsToken, corsExpose, versioning, latencyMs, uploadRate, args, bucket, accessKeyId, accessKeySecret, region,
  };
  return emu;
}

export class Emulator {
  constructor({
    child, exited, url, port, token, dataDir, auth, stsToken, bucket, accessKeyId, accessKeySecret, region, stderr,
  }) {
    this.child = child;
    this.exited = exited;
    this.url = url;
    this.port = port;
    this.token = token;
    this.dataDir = dataDir;
    this.bucket = bucket;
    this.region = region;
    this.accessKeyId = accessKeyId;
    this.accessKeySecret = accessKeySecret;
    this.auth = auth;
    this.stsToken = stsToken;
    this.stderr = stderr;
  }

  /** Client options addressing this emulator path-style (`/bucket/key`), the form browsers can use too. */
  clientOptions(extra = {}) {
    return {
      region: `oss-${this.region}`,
      bucket: this.bucket,
      accessKeyId: this.accessKeyId,
      accessKeySecret: this.accessKeySecret,
      ...(this.stsToken ? { stsToken: this.stsToken } : {}),
      endpoint: this.url,
      pathStyle: true,
      timeout: 10_000,
      ...extra,
    };
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** The headers every control-plane request carries: the token, and the JSON type when there is a body. */
  controlHeaders(withBody = false) {
    return { 'x-emulator-token': this.token, ...(withBody ? { 'content-type': 'application/json' } : {}) };
  }

  /**
   * Stops the process as an outage does (connections are refused from then on), keeping its port and data dir
   * for restart().
   */
  async halt() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** After halt(): starts again on the same port and data dir, with the same flags; what was stored is back. */
  async restart() {
    const next = await startEmulator({ ...this.startOptions, port: this.port, dataDir: this.dataDir });
    Object.assign(this, { child: next.child, exited: next.exited, stderr: next.stderr, token: next.token });
  }

  /** Calls the control plane; resolves the parsed JSON (or text). Throws on a non-2xx answer. */
  async control(method, path, body) {
    const res = await fetch(`${this.url}/__emulator__/${path.replace(/^\//, '')}`, {
      method,
      headers: this.controlHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      throw new Error(`control plane ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    }
    return parsed;
  }

  /**
   * Arms a fault: { kind: drop_after_commit|error_before_commit|reset_mid_body|delay, op, key, key_prefix, count,
   * status, code, delay_ms, after_bytes }. Resolves its id.
   */
  async armFault(spec) {
    return (await this.control('POST', 'faults', spec)).id;
  }

  /** The faults still armed. */
  async faults() {
    return (await this.control('GET', 'faults')).faults;
  }

  async clearFaults() {
    await this.control('DELETE', 'faults');
  }

  /** Sets the server clock to real time plus `offsetMs` (absolute, not cumulative). */
  async setClockOffset(offsetMs) {
    await this.control('POST', 'clock', { offset_ms: offsetMs });
  }

  /** Runs `fn` with the server clock moved by `ms` milliseconds (cumulative), moved back afterwards. */
  async withClockShift(ms, fn) {
    await this.control('POST', 'clock', { shift_ms: ms });
    try {
      return await fn();
    } finally {
      await this.control('POST', 'clock', { shift_ms: -ms });
    }
  }

  /**
   * Sets the modelled network: `latencyMs` held on every answer (preflights included), `uploadRate` bytes per
   * second for request bytes (0: unpaced). Either may be left out. Resolves what is in force.
   */
  async setNetwork({ latencyMs, uploadRate } = {}) {
    const r = await this.control('POST', 'network', {
      ...(latencyMs !== undefined ? { latency_ms: latencyMs } : {}),
      ...(uploadRate !== undefined ? { upload_rate: uploadRate } : {}),
    });
    return { latencyMs: r.latency_ms, uploadRate: r.upload_rate };
  }

  /** The modelled network in force: { latencyMs, uploadRate }. */
  async network() {
    const r = await this.control('GET', 'network');
    return { latencyMs: r.latency_ms, uploadRate: r.upload_rate };
  }

  /** Marks every STS credential as expired: requests with them answer 403 SecurityTokenExpired. */
  async expireToken() {
    return (await this.control('POST', 'sts/expire', {})).expired;
  }

  /** Makes the emulator accept another key pair (with an STS token when given). */
  async addCredentials({ accessKeyId, accessKeySecret, stsToken, expiresInSecs }) {
    await this.control('POST', 'credentials', {
      access_key_id: accessKeyId,
      access_key_secret: accessKeySecret,
      ...(stsToken ? { sts_token: stsToken } : {}),
      ...(expiresInSecs !== undefined ? { expires_in_secs: expiresInSecs } : {}),
    });
  }

  /** Fresh STS credentials, as an STS service would hand them out, registered with the emulator. */
  async issueCredentials() {
    const n = randomBytes(6).toString('hex');
    const creds = { accessKeyId: `STS.e2e-${n}`, accessKeySecret: `sts-secret-${n}`, stsToken: `sts-token-${n}` };
    await this.addCredentials(creds);
    return creds;
  }

  /**
   * The request log, oldest first: [{ request_id, method, op, bucket, key, position, status, code, fault,
   * preflight_key }]; a CORS preflight has method OPTIONS, no key, and the key and position it precedes.
   */
  async requestLog() {
    return (await this.control('GET', 'requests')).requests;
  }

  /** Requests logged for `key` (all when omitted). */
  async requestsFor(key) {
    const log = await this.requestLog();
    return key === undefined ? log : log.filter((e) => e.key === key);
  }

  /** Forgets the request log. */
  async clearLog() {
    await this.control('DELETE', 'requests');
  }

  /**
   * What the emulator stores for `key`, read through the unsigned control plane (independent of signing, credentials
   * and clock): { size, type, crc64, md5, etag, content_type, meta, headers, ... }, or null when there is none.
   */
  async object(key, bucket = this.bucket) {
    const path = key.split('/').map(encodeURIComponent).join('/');
    const res = await fetch(`${this.url}/__emulator__/objects/${bucket}/${path}`,
      { headers: this.controlHeaders(), signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS) });
    const text = await res.text();
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`control plane GET objects/${bucket}/${key} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  /**
   * Every version of `key`, newest first, read through the control plane: [{ version_id, delete_marker, type, size,
   * crc64 }] (empty when the key has none).
   */
  async versions(key, bucket = this.bucket) {
    const path = key.split('/').map(encodeURIComponent).join('/');
    return (await this.control('GET', `versions/${bucket}/${path}`)).versions;
  }

  /** Sets every bucket's versioning status: 'enabled' or 'suspended'. */
  async setVersioning(status) {
    return (await this.control('POST', 'versioning', { status })).status;
  }

  /** The server state dump (objects, clock). */
  async state() {
    return this.control('GET', 'state');
  }

  /** Deletes every object and puts credentials, clock, faults and the log back to their start values. */
  async reset() {
    await this.control('POST', 'reset', {});
  }
}

/** Runs `fn` with an emulator that is always stopped afterwards. */
export async function withEmulator(options, fn) {
  const emu = await startEmulator(options);
  try {
    return await fn(emu);
  } finally {
    await emu.stop();
  }
}
