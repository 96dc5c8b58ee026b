// The `oss-append` command as installed from the tarball: parts, --resume, --follow, stdin, exit codes, the TTY bar.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, BUCKET, startEmulator } from '../support/emulator.mjs';
import { CONSUMER } from './helpers/install-pkg.mjs';
import { assertStored, sleep, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 30_000 };
const BIN = join(CONSUMER, 'node_modules', '.bin', 'oss-append');
const ENV = { ...process.env, OSS_ACCESS_KEY_ID: ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET };

let emu;
let dir;
before(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'oss-cli-'));
});
after(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI to completion; resolves { code, stdout, stderr }. */
function run(args, { input, env = ENV, timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`oss-append ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(input ?? undefined);
  });
}

const target = (key) => [`oss://${BUCKET}/${key}`, '--endpoint', emu.url, '--region', 'cn-hangzhou'];

describe('oss-append CLI', () => {
  test('--help documents every option and exits 0', T, async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const word of ['--endpoint', '--region', '--resume', '--part-size', '--follow', '--idle', '--v1', 'OSS_ACCESS_KEY_ID', 'OSS_SESSION_TOKEN']) {
      assert.ok(stdout.includes(word), `--help mentions ${word}`);
    }
  });

  test('appends a file in parts, then --resume appends only what the file gained', T, async () => {
    const key = uniqueKey('cli-file');
    const file = join(dir, 'grow.bin');
    const first = randomBytes(700_000);
    writeFileSync(file, first);
    let r = await run([file, ...target(key), '--part-size', '256k']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /appended 700000 bytes .* nextAppendPosition 700000, crc64 \d+ \(verified\)/);
    const posts = async () => (await emu.requestsFor(key)).filter((q) => q.method === 'POST').length;
    const firstPosts = await posts();
    assert.ok(firstPosts >= 3, 'several appends');
    await assertStored(emu, key, first);

    r = await run([file, ...target(key)]);
    assert.equal(r.code, 0, 'the same upload again finds its bytes already there: nothing is written twice');
    assert.match(r.stdout, /^appended 0 bytes to \S+ \(the object already had 700000\): nextAppendPosition 700000/,
      'it reports what it sent, not what was there');
    assert.equal(await posts(), firstPosts, 'no append was sent');
    await assertStored(emu, key, first);

    const more = randomBytes(300_000);
    appendFileSync(file, more);
    r = await run([file, ...target(key)]);
    assert.equal(r.code, 1, 'a grown file without --resume meets the existing object');
    assert.match(r.stderr, /^oss-append: PositionNotEqualToLength.*\noss-append: .*--resume/);
    await assertStored(emu, key, first);

    r = await run([file, ...target(key), '--resume', '--v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /appended 300000 bytes/);
    await assertStored(emu, key, Buffer.concat([first, more]));
  });

  test('--resume refuses a file whose start is not the object', T, async () => {
    const key = uniqueKey('cli-other');
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    writeFileSync(a, randomBytes(5000));
    writeFileSync(b, randomBytes(9000));
    assert.equal((await run([a, ...target(key)])).code, 0);
    const r = await run([b, ...target(key), '--resume']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not the start of/);
    assert.equal((await emu.object(key)).size, 5000, 'the object is unchanged');
  });

  test('reads stdin with -', T, async () => {
    const key = uniqueKey('cli-stdin');
    const data = randomBytes(123_456);
    const r = await run(['-', ...target(key)], { input: data });
    assert.equal(r.code, 0, r.stderr);
    await assertStored(emu, key, data);
  });

  test('--follow tails a growing file until idle', T, async () => {
    const key = uniqueKey('cli-follow');
    const file = join(dir, 'app.log');
    writeFileSync(file, 'start\n');
    const lines = ['start\n'];
    const writer = setInterval(() => {
      const line = `line ${lines.length} ${Date.now()}\n`;
      lines.push(line);
      appendFileSync(file, line);
      if (lines.length === 8) clearInterval(writer);
    }, 150);
    const r = await run([file, ...target(key), '--follow', '--idle', '1', '--poll', '50']);
    clearInterval(writer);
    assert.equal(r.code, 0, r.stderr);
    await assertStored(emu, key, Buffer.from(lines.join('')));
  });

  test('--follow rides out an outage: every line lands, and a terminal shows "retrying in N s"', { timeout: 60_000 },
    async (t) => {
      try {
        execFileSync('script', ['--version'], { stdio: 'ignore' });
      } catch {
        t.skip('script(1) is not installed');
        return;
      }
      const key = uniqueKey('cli-follow-outage');
      const file = join(dir, 'outage.log');
      writeFileSync(file, 'start\n');
      const lines = ['start\n'];
      const writer = setInterval(() => {
        const line = `line ${lines.length} ${Date.now()}\n`;
        lines.push(line);
        appendFileSync(file, line);
        if (lines.length === 40) clearInterval(writer);
      }, 100);
      const cmd = [BIN, file, ...target(key), '--follow', '--idle', '2', '--poll', '50'].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const exited = new Promise((res) => child.on('exit', (code) => res(code)));
      await sleep(800);
      await emu.halt();
      await sleep(4000);
      await emu.restart();
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      const code = await exited;
      clearTimeout(timer);
      clearInterval(writer);
      assert.equal(code, 0, out);
      assert.match(out, /retrying in \d+ s/, 'the terminal shows the wait');
      assert.match(out, /appended \d+ bytes/);
      await assertStored(emu, key, Buffer.from(lines.join('')));
    });

  test('bad usage exits 2 with one line; missing credentials too', T, async () => {
    for (const args of [[], ['only-one'], ['x', 'not-a-url'], ['x', 'oss://b/k', '--part-size', 'huge'], ['x', 'oss://b/k', '--bogus']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const r = await run([join(dir, 'a.bin'), ...target('k')], { env: { PATH: process.env.PATH } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /OSS_ACCESS_KEY_ID/);
  });

  test('a terminal gets a progress bar with rate and ETA', T, async (t) => {
    try {
      execFileSync('script', ['--version'], { stdio: 'ignore' });
    } catch {
      t.skip('script(1) is not installed');
      return;
    }
    const key = uniqueKey('cli-tty');
    const file = join(dir, 'tty.bin');
    writeFileSync(file, randomBytes(600_000));
    const cmd = [BIN, file, ...target(key), '--part-size', '128k'].map((a) => `'${a}'`).join(' ');
    const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { env: ENV, encoding: 'utf8', timeout: 20_000 });
    assert.match(out, /\[#+\.*\] +\d+% .*\/s ETA \d\d:\d\d/);
    assert.match(out, /\r/, 'the bar is redrawn in place');
  });
});
