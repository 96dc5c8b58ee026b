// Headless Debian Chromium driven over a bare DevTools pipe (--remote-debugging-pipe), and the benchmark page served
// from bench/pages with the package under /pkg/.
//
// Why not playwright: it enables the DevTools Network domain on every page, and with it Chromium's uploads on this
// machine run at about 10 MB/s instead of 100+ (the request bodies are kept for the inspector). This driver uses
// only Target, Runtime.evaluate and DOM.setFileInputFiles, so nothing instruments the network path.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS, startStaticServer } from '../../tests/e2e/helpers/browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH = resolve(HERE, '..');
export { CHROMIUM };

export async function startBenchSite(pkgDir) {
  return startStaticServer({
    '/pkg/': pkgDir,
    '/vendor/crc64-ecma182/': join(BENCH, 'node_modules', 'crc64-ecma182.js', 'dist'),
    '/': join(BENCH, 'pages'),
  });
}

// Chromium processes still running when this process exits are killed.
const live = new Set();
process.once('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

class Browser {
  constructor(child, userDataDir) {
    this.child = child;
    this.userDataDir = userDataDir;
    this.nextId = 1;
    this.pending = new Map();
    this.stderr = '';
    this.exited = new Promise((res) => child.once('exit', res));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => { this.stderr = (this.stderr + s).slice(-4000); });
    let buf = '';
    child.stdio[4].setEncoding('utf8');
    child.stdio[4].on('data', (chunk) => {
      buf += chunk;
      for (let end = buf.indexOf('\0'); end >= 0; end = buf.indexOf('\0')) {
        const msg = JSON.parse(buf.slice(0, end));
        buf = buf.slice(end + 1);
        const waiter = msg.id !== undefined && this.pending.get(msg.id);
        if (waiter) {
          this.pending.delete(msg.id);
          if (msg.error) waiter.rej(new Error(`${waiter.method}: ${msg.error.message}`));
          else waiter.res(msg.result);
        }
      }
    });
    this.exited.then(() => {
      for (const w of this.pending.values()) w.rej(new Error(`chromium exited; stderr: ${this.stderr}`));
      this.pending.clear();
    });
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej, method });
      this.child.stdio[3].write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  get pid() {
    return this.child.pid;
  }

  /** Opens `url` in a fresh browser context, or with `{ reuseTab: true }` in the tab the browser started with. */
  async newPage(url, { reuseTab = false } = {}) {
    let browserContextId;
    let targetId;
    if (reuseTab) {
      const { targetInfos } = await this.send('Target.getTargets');
      targetId = targetInfos.find((t) => t.type === 'page')?.targetId;
    }
    if (!targetId) {
      ({ browserContextId } = await this.send('Target.createBrowserContext', { disposeOnDetach: true }));
      ({ targetId } = await this.send('Target.createTarget', { url: 'about:blank', browserContextId }));
    }
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, { browserContextId, targetId, sessionId });
    await this.send('Page.navigate', { url }, sessionId);
    return page;
  }

  async close() {
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 5000))]);
    } catch { /* already gone */ }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

class Page {
  constructor(browser, ids) {
    this.browser = browser;
    Object.assign(this, ids);
  }

  async #evaluateRaw(expression, returnByValue = true) {
    const r = await this.browser.send('Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue, userGesture: true }, this.sessionId);
    if (r.exceptionDetails) {
      const e = r.exceptionDetails;
      throw new Error(`in page: ${e.exception?.description ?? e.text}`);
    }
    return r.result;
  }

  /** Runs `fn(arg)` in the page (fn is serialised; arg is JSON); resolves its (JSON) value. */
  async evaluate(fn, arg) {
    return (await this.#evaluateRaw(`(${fn})(${JSON.stringify(arg)})`)).value;
  }

  /** Polls `fn()` in the page until it is truthy; resolves its value. */
  async waitFor(fn, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const v = await this.evaluate(fn);
        if (v) return v;
      } catch { /* navigating */ }
      if (Date.now() > deadline) throw new Error(`page: ${fn} still false after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Chooses `path` in the <input type=file> that `selector` finds (the way a user picks a local file). */
  async setInputFile(selector, path) {
    const { objectId } = await this.#evaluateRaw(`document.querySelector(${JSON.stringify(selector)})`, false);
    await this.browser.send('DOM.setFileInputFiles', { files: [path], objectId }, this.sessionId);
  }

  async close() {
    if (!this.browserContextId) return; // the browser's own tab stays
    await this.browser.send('Target.closeTarget', { targetId: this.targetId }).catch(() => {});
    await this.browser.send('Target.disposeBrowserContext', { browserContextId: this.browserContextId }).catch(() => {});
  }
}

export async function launchBrowser(extraArgs = []) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'oss-bench-chromium-'));
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, ...extraArgs, '--remote-debugging-pipe', `--user-data-dir=${userDataDir}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  const browser = new Browser(child, userDataDir);
  live.add(child);
  child.once('exit', () => live.delete(child));
  await Promise.race([
    browser.send('Browser.getVersion'),
    browser.exited.then(() => { throw new Error(`chromium exited at start; stderr: ${browser.stderr}`); }),
    new Promise((_, rej) => setTimeout(() => rej(new Error(`chromium did not answer in 30 s; stderr: ${browser.stderr}`)), 30_000)),
  ]);
  return browser;
}

/** The bench page loaded and ready (in a fresh context unless `{ reuseTab: true }`): { page, close() }. */
export async function openBenchPage(browser, origin, options = {}) {
  const page = await browser.newPage(`${origin}/index.html`, options);
  const ready = await page.waitFor(() => window.benchReady, 30_000);
  if (ready !== 'ok') throw new Error(`bench page: ${ready}`);
  return { page, close: () => page.close() };
}
