// Headless Debian Chromium through playwright-core, and a static server on 127.0.0.1:<free port> that serves the
// installed package under /pkg/ and the test pages (tests/e2e/pages/) under /. Pages are a different origin from
// the emulator (another port), so every request to it is cross-origin and goes through CORS. startBrowserSuite and
// closeBrowserSuite are the set-up and tear-down of every browser suite.
import assert from 'node:assert/strict';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { INSTALLED } from './pkg.mjs';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
export const PAGES_DIR = resolve(HERE, '..', 'pages');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
];
const LAUNCH_TIMEOUT_MS = 30_000;

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Serves `mounts` ({ '/pkg/': dir, '/': dir }) on 127.0.0.1:0. Only GET/HEAD, no directory listings, nothing outside
 * the mounted directories; `headers` go with every file (e.g. a Content-Security-Policy). Resolves { origin, close() }.
 */
export async function startStaticServer(mounts, { headers = {} } = {}) {
  const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const mount = entries.find(([prefix]) => path.startsWith(prefix));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !mount) {
      res.writeHead(404).end();
      return;
    }
    const root = resolve(mount[1]);
    const file = normalize(join(root, path.slice(mount[0].length) || 'index.html'));
    if ((file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
      ...headers,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', res);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((res) => server.close(() => res()));
    },
  };
}

/** Launches headless Chromium with `extraArgs` on top of the suites' usual flags; resolves the playwright Browser. */
export async function launchBrowser(extraArgs = []) {
  const { chromium } = require('playwright-core');
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (scripts/install-tools.sh browser)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
  });
}

/**
 * A browser suite's set-up: the installed package and the test pages served (with `headers` on every file), and
 * headless Chromium (with `args` on top of the usual flags). Resolves { browser, site }; closeBrowserSuite ends them.
 */
export async function startBrowserSuite({ headers, args } = {}) {
  const site = await startStaticServer({ '/pkg/': INSTALLED, '/': PAGES_DIR }, { headers });
  try {
    return { browser: await launchBrowser(args), site };
  } catch (err) {
    await site.close();
    throw err;
  }
}

/**
 * Closes every browser and server given (those still undefined because the set-up failed are skipped), each even when
 * another fails to; throws the first failure.
 */
export async function closeBrowserSuite(...closables) {
  const outcomes = await Promise.allSettled(closables.map((c) => c?.close()));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Opens `url` in a new page and collects what goes wrong there: console errors, uncaught page errors, failed
 * requests. Resolves { page, problems } where problems is a live array of strings.
 */
export async function openPage(browser, url, { ignore = [] } = {}) {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  const problems = [];
  const ignored = (text) => ignore.some((re) => re.test(text));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !ignored(msg.text())) problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => { if (!ignored(err.message)) problems.push(`pageerror: ${err.message}`); });
  page.on('requestfailed', (req) => {
    const text = `requestfailed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`;
    if (!ignored(text)) problems.push(text);
  });
  page.on('worker', (worker) => {
    worker.on('console', (msg) => {
      if (msg.type() === 'error' && !ignored(msg.text())) problems.push(`worker console.error: ${msg.text()}`);
    });
  });
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new Error(`${url} answered ${res?.status()}`);
  return { page, problems };
}

/**
 * openPage, then waits until the page has loaded the package (a test page sets `window.ossReady` to 'ok', or to the
 * import error). Resolves { page, problems }.
 */
export async function openTestPage(browser, url, { ignore } = {}) {
  const { page, problems } = await openPage(browser, url, { ignore });
  await page.waitForFunction(() => window.ossReady !== undefined, null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.ossReady), 'ok');
  return { page, problems };
}
