#!/usr/bin/env node
// A tiny static server for the demo: www/ at `/` and the built npm package (the repo's pkg/) at `/pkg/`, on
// 127.0.0.1 only. GET and HEAD only, no directory listings, nothing outside the two folders, and only for requests
// addressed to this server (Host 127.0.0.1:<port> or localhost:<port>), so a DNS-rebinding page cannot read it.
//
// Usage: node www/serve.mjs [--port N] [--endpoint URL | --emulator PATH]
//   --port N         port to listen on; 0 (the default) picks a free one. A bare number works too.
//   --endpoint URL   the OSS endpoint the printed demo URL points at (`?endpoint=URL`).
//   --emulator PATH  start this oss-emulator on a free port, point the demo at it, and stop it on exit.
// The first line printed is `serving http://127.0.0.1:<port>/`; the next is the demo URL to open.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WWW = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(WWW, '..', 'pkg');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webm': 'video/webm',
};

function parseArgs(argv) {
  const opts = { port: 0, endpoint: undefined, emulator: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(value());
    else if (a === '--endpoint') opts.endpoint = value();
    else if (a === '--emulator') opts.emulator = value();
    else if (a === '-h' || a === '--help') usage();
    else if (/^\d+$/.test(a)) opts.port = Number(a);
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('--port must be 0..65535');
  if (opts.endpoint && opts.emulator) usage('give --endpoint or --emulator, not both');
  return opts;
}

function usage(problem) {
  const text = 'usage: node www/serve.mjs [--port N] [--endpoint URL | --emulator PATH]';
  if (problem) {
    console.error(`serve.mjs: ${problem}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

/** The file a request path maps to, or null when it is outside the served folders or not a file. */
function fileFor(pathname) {
  const [prefix, root] = pathname.startsWith('/pkg/') ? ['/pkg/', PKG] : ['/', WWW];
  const rel = pathname.slice(prefix.length) || 'index.html';
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) return null;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  // The server itself is not part of the site.
  if (file === join(WWW, 'serve.mjs')) return null;
  return file;
}

/** Whether the request names this server itself in its Host (a rebinding DNS name does not). */
function isOwnHost(req) {
  const port = server.address()?.port;
  const host = String(req.headers.host ?? '').trim().toLowerCase();
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

function handle(req, res) {
  if (!isOwnHost(req)) {
    const port = server.address()?.port;
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`serve.mjs answers only requests for 127.0.0.1:${port} or localhost:${port}`);
    return;
  }
  let pathname;
  if (req.url === '/config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
    // The page's fallback endpoint when the URL names none and the browser remembers none.
    const body = JSON.stringify({ endpoint: opts.endpoint ?? null });
    res.writeHead(200, { 'content-type': MIME['.json'], 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad request path');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET or HEAD only');
    return;
  }
  const file = fileFor(pathname);
  if (!file) {
    const hint = pathname.startsWith('/pkg/') && !existsSync(PKG)
      ? ' (pkg/ is not built: run `bash scripts/build-pkg.sh` or `make pkg`)' : '';
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${pathname}${hint}`);
    return;
  }
  res.writeHead(200, {
    'content-type': MIME[extname(file)] ?? 'application/octet-stream',
    'content-length': statSync(file).size,
    // Always the files on disk: a rebuilt pkg/ shows up on reload.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/** Starts the emulator on a free port; resolves { url, child }. */
function startEmulator(bin) {
  if (!existsSync(bin)) {
    console.error(`serve.mjs: no emulator at ${bin} (cargo build --release -p oss-append-emulator)`);
    process.exit(1);
  }
  const child = spawn(bin, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error('oss-emulator printed nothing within 15 s')), 15_000);
    child.once('exit', (code, signal) => rej(new Error(`oss-emulator exited (${code ?? signal}) before listening`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (!m) rej(new Error(`unexpected first line from oss-emulator: ${line}`));
      else {
        lines.on('line', (l) => console.log(`[emulator] ${l}`));
        child.on('exit', (code, signal) => console.error(`serve.mjs: oss-emulator exited (${code ?? signal})`));
        res({ url: m[1].replace(/\/$/, ''), child });
      }
    });
  });
}

const opts = parseArgs(process.argv.slice(2));
let emulator;
if (opts.emulator) {
  try {
    emulator = await startEmulator(resolve(opts.emulator));
  } catch (err) {
    console.error(`serve.mjs: ${err.message}`);
    process.exit(1);
  }
  opts.endpoint = emulator.url;
}

const server = createServer(handle);
const sockets = new Set();
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
server.on('error', (err) => {
  console.error(`serve.mjs: ${err.message}`);
  emulator?.child.kill('SIGTERM');
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  console.log(`serving ${origin}/`);
  if (!existsSync(join(PKG, 'web.js'))) console.log('warning: pkg/web.js is missing: run `bash scripts/build-pkg.sh`');
  // Kept readable when the endpoint needs no escaping in a query (the usual http://host:port).
  const endpoint = opts.endpoint && (/^[\w:/.\-[\]]+$/.test(opts.endpoint) ? opts.endpoint : encodeURIComponent(opts.endpoint));
  const query = endpoint ? `?endpoint=${endpoint}` : '';
  console.log(`demo: ${origin}/${query}`);
});

function shutdown() {
  for (const s of sockets) s.destroy();
  server.close();
  if (emulator && emulator.child.exitCode === null) emulator.child.kill('SIGTERM');
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
