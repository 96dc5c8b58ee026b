#!/usr/bin/env node
// oss-append CLI: appends a file, a growing file (--follow) or stdin to an OSS object, verified by CRC-64.
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import OSS, { Crc64 } from './node.mjs';

const HELP = `Usage: oss-append <file|-> oss://<bucket>/<key> [options]

Appends a local file (or stdin, with -) to an OSS object with AppendObject. Every append is checked
against the whole-object CRC-64 that OSS returns; a lost response is reconciled, never re-sent blindly.

Options:
  --endpoint <url>     OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com or http://127.0.0.1:9000
  --region <id>        region, e.g. cn-hangzhou (required for V4 unless the endpoint names it)
  --resume             continue where the object ends: skip the part of the file the object already has
                       (its CRC-64 is checked first), or append stdin at the end of the object
  --part-size <n>      bytes per append request (k, m, g suffixes; default 8m)
  --follow             keep appending what is added to the file (like tail -f) until interrupted
                       (Ctrl-C) or idle for --idle seconds
  --idle <seconds>     with --follow: stop after this long without new bytes (default: never)
  --poll <ms>          with --follow: how often to look for new bytes (default 500)
                       While OSS is unreachable (network errors, timeouts, 5xx, 429) every byte is kept and
                       the append goes on when it is back ("retrying in N s"); Ctrl-C twice quits at once.
  --v1                 sign with V1 (HMAC-SHA1) instead of V4
  --quiet              no progress output
  -h, --help           this help

Credentials come from the environment: OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and, for STS,
OSS_SESSION_TOKEN. Progress is a bar on a terminal and plain lines otherwise.
Exit status: 0 on success; 1 with a one-line reason on any error; 2 for bad usage; 130 when interrupted
before anything was appended.

Examples:
  oss-append recording.webm oss://examplebucket/rec/a.webm --region cn-hangzhou
  oss-append app.log oss://logs/app.log --endpoint http://127.0.0.1:9000 --region cn-hangzhou --resume --follow
  tar c dir | oss-append - oss://backups/dir.tar --region cn-hangzhou`;

class UsageError extends Error {}

function parseSize(text, what) {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(String(text).trim());
  if (!m) throw new UsageError(`${what} must be a byte count such as 8388608, 512k or 8m, not ${JSON.stringify(text)}`);
  const unit = (m[2] || '').toLowerCase()[0];
  return Number(m[1]) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] || 1);
}

function parseArgs(argv) {
  const opts = { partSize: 8 * 1024 ** 2, follow: false, resume: false, v1: false, quiet: false, idle: null, poll: 500 };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h': case '--help': opts.help = true; break;
      case '--endpoint': opts.endpoint = value(); break;
      case '--region': opts.region = value(); break;
      case '--resume': opts.resume = true; break;
      case '--part-size': opts.partSize = parseSize(value(), '--part-size'); break;
      case '--follow': opts.follow = true; break;
      case '--idle': {
        const v = Number(value());
        if (!(v > 0)) throw new UsageError('--idle must be a positive number of seconds');
        opts.idle = v;
        break;
      }
      case '--poll': {
        const v = Number(value());
        if (!(v >= 10)) throw new UsageError('--poll must be at least 10 ms');
        opts.poll = v;
        break;
      }
      case '--v1': opts.v1 = true; break;
      case '--quiet': opts.quiet = true; break;
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}; see --help`);
        positional.push(arg);
    }
  }
  if (opts.help) return opts;
  if (positional.length !== 2) throw new UsageError('expected a source (file or -) and a destination oss://bucket/key; see --help');
  [opts.source, opts.destination] = positional;
  const dest = /^oss:\/\/([^/]+)\/(.+)$/.exec(opts.destination);
  if (!dest) throw new UsageError(`the destination must look like oss://bucket/key, not ${JSON.stringify(opts.destination)}`);
  [, opts.bucket, opts.key] = dest;
  if (opts.follow && opts.source === '-') throw new UsageError('--follow needs a file; stdin is already read until it ends');
  return opts;
}

function human(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

function duration(seconds) {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Progress on stderr: a redrawn bar on a terminal, a line per part otherwise. */
class Progress {
  constructor(quiet) {
    this.quiet = quiet;
    this.tty = process.stderr.isTTY;
    this.started = Date.now();
    this.total = null;
    this.lastLine = 0;
  }

  update(loaded, position) {
    if (this.quiet) return;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? loaded / secs : 0;
    const rateText = `${human(rate)}/s`;
    if (this.tty) {
      const width = 28;
      let bar = '';
      let tail = '';
      if (this.total) {
        const f = Math.min(1, loaded / this.total);
        const fill = Math.round(f * width);
        bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(f * 100).toFixed(0).padStart(3)}% `;
        tail = ` ETA ${duration(rate > 0 ? (this.total - loaded) / rate : Infinity)}`;
      }
      const totalText = this.total ? ` / ${human(this.total)}` : '';
      process.stderr.write(`\r${bar}${human(loaded)}${totalText}  ${rateText}${tail}  position ${position}\x1b[K`);
    } else if (Date.now() - this.lastLine >= 1000 || (this.total && loaded >= this.total)) {
      this.lastLine = Date.now();
      const of = this.total ? ` of ${this.total}` : '';
      process.stderr.write(`appended ${loaded}${of} bytes (${rateText}), position ${position}\n`);
    }
  }

  /** OSS is unreachable: "retrying in N s", counted down in place on a terminal, a line per retry otherwise. */
  retry({ attempt, delayMs, error, buffered }) {
    if (this.quiet) return;
    this.retryUntil = Date.now() + delayMs;
    this.retryText = (secs) => `OSS unreachable (${error.code}): retrying in ${secs} s (attempt ${attempt}), `
      + `${human(buffered)} waiting`;
    if (!this.tty) {
      process.stderr.write(`${this.retryText(Math.ceil(delayMs / 1000))}\n`);
      return;
    }
    this.drawRetry();
    if (!this.ticker) {
      this.ticker = setInterval(() => this.drawRetry(), 1000);
      this.ticker.unref();
    }
  }

  drawRetry() {
    const secs = Math.max(0, Math.ceil((this.retryUntil - Date.now()) / 1000));
    process.stderr.write(`\r${this.retryText(secs)}\x1b[K`);
  }

  /** A part landed again after an outage. */
  resumed() {
    if (this.retryUntil === undefined) return;
    this.retryUntil = undefined;
    clearInterval(this.ticker);
    this.ticker = null;
    if (!this.quiet) process.stderr.write(this.tty ? '\r\x1b[K' : 'OSS reachable again; appending\n');
  }

  done() {
    clearInterval(this.ticker);
    if (!this.quiet && this.tty) process.stderr.write('\n');
  }
}

/** The CRC-64 of the first `length` bytes of the file, read in bounded chunks. */
async function fileCrc(fd, length) {
  const crc = new Crc64();
  const buf = Buffer.alloc(Math.min(length, 8 * 1024 ** 2) || 1);
  let at = 0;
  while (at < length) {
    const { bytesRead } = await fd.read(buf, 0, Math.min(buf.length, length - at), at);
    if (bytesRead === 0) break;
    crc.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return at === length ? crc.digest() : null;
}

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const accessKeyId = process.env.OSS_ACCESS_KEY_ID;
  const accessKeySecret = process.env.OSS_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new UsageError('set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN for STS credentials)');
  }
  const client = new OSS({
    bucket: opts.bucket,
    endpoint: opts.endpoint,
    region: opts.region,
    accessKeyId,
    accessKeySecret,
    stsToken: process.env.OSS_SESSION_TOKEN || undefined,
    authorizationV4: !opts.v1,
  });

  const progress = new Progress(opts.quiet);
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let fd = null;
  let offset = 0;
  let refused = null;
  const readChunk = 1024 * 1024;
  if (opts.source !== '-') {
    fd = await fs.promises.open(opts.source, 'r').catch((e) => {
      throw new Error(`cannot open ${opts.source}: ${e.code || e.message}`);
    });
  }
  try {
    const appender = await client.openAppender(opts.key, {
      position: opts.resume ? 'resume' : 0,
      partSize: opts.partSize,
      minPartSize: opts.partSize,
      flushInterval: opts.follow ? opts.poll : 1000,
      // Outages are waited out with every byte kept; two parts and a read fit, whatever the part size.
      maxBuffered: Math.min(5 * 1024 ** 3, Math.max(64 * 1024 ** 2, 2 * opts.partSize + readChunk)),
      progress: (_p, info) => progress.update(info.loaded, info.position),
      onRetry: (info) => progress.retry(info),
      onStateChange: (state) => { if (state !== 'retrying') progress.resumed(); },
    });
    const startedAt = BigInt(appender.position);
    if (fd) {
      offset = Number(startedAt);
      if (offset > 0) {
        // The object must hold exactly the file's first bytes, or continuing would splice two files.
        const size = (await fd.stat()).size;
        if (offset > size) {
          throw new Error(`the object already has ${offset} bytes, more than ${opts.source} (${size}); nothing to resume`);
        }
        const crc = await fileCrc(fd, offset);
        if (crc !== appender.crc64) {
          throw new Error(`the object's ${offset} bytes are not the start of ${opts.source} (CRC-64 ${appender.crc64} vs ${crc}); refusing to resume`);
        }
      }
      progress.total = opts.follow ? null : (await fd.stat()).size - offset;
    }

    // A failed write rejects close() too, with the same error; a refused one (BufferFull) must not pass silently.
    const write = async (chunk) => {
      appender.write(chunk).catch((e) => { if (e.code === 'BufferFull') refused ??= e; });
      await appender.ready();
      if (refused) throw refused;
    };

    if (!fd) {
      for await (const chunk of process.stdin) {
        if (interrupted.signal.aborted) break;
        await write(chunk);
      }
    } else {
      let idleSince = Date.now();
      for (;;) {
        const buf = Buffer.alloc(readChunk);
        const { bytesRead } = await fd.read(buf, 0, buf.length, offset);
        if (bytesRead > 0) {
          offset += bytesRead;
          idleSince = Date.now();
          await write(buf.subarray(0, bytesRead));
          continue;
        }
        if (!opts.follow || interrupted.signal.aborted) break;
        if (opts.idle !== null && Date.now() - idleSince >= opts.idle * 1000) break;
        // Sent in the background: during an outage the file itself keeps what is not read yet.
        appender.flush().catch(() => {});
        await delay(opts.poll, undefined, { signal: interrupted.signal }).catch(() => {});
        if (interrupted.signal.aborted) break;
      }
    }
    const result = await appender.close();
    progress.done();
    const appended = BigInt(result.nextAppendPosition) - startedAt;
    const head = await client.head(opts.key);
    if (head.nextAppendPosition !== result.nextAppendPosition || head.crc64 !== result.crc64) {
      throw new Error(`after the upload the object reports length ${head.nextAppendPosition} and CRC-64 ${head.crc64}, expected ${result.nextAppendPosition} and ${result.crc64}`);
    }
    process.stdout.write(`appended ${appended} bytes to oss://${opts.bucket}/${opts.key}: `
      + `nextAppendPosition ${result.nextAppendPosition}, crc64 ${result.crc64} (verified)\n`);
    return interrupted.signal.aborted && appended === 0n ? 130 : 0;
  } finally {
    progress.done();
    await fd?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    const where = e.requestId ? ` (request id ${e.requestId})` : '';
    const reason = e instanceof UsageError ? e.message : `${e.code && e.code !== 'InvalidArgument' ? `${e.code}: ` : ''}${e.message}${where}`;
    process.stderr.write(`oss-append: ${reason.split('\n')[0]}\n`);
    if (e.code === 'PositionNotEqualToLength') process.stderr.write('oss-append: the object already exists; pass --resume to continue it\n');
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
