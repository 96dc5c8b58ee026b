// Recordings survive a crash, in Node against the emulator: a child process recording with a spool is killed with
// SIGKILL during an outage and a new process resumes it byte-identical; a landed part whose answer was lost is not
// sent twice; another writer makes the reopen fail with both sides intact; the spool stays within the unconfirmed
// bytes plus one part; no secret reaches the spool files; bad spool options are refused before anything is sent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { CONSUMER, loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, rejects, sleep, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };
const KIB = 1024;
const MIB = 1024 * KIB;

let OSS;
let emu;
let spoolDir;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator();
  spoolDir = mkdtempSync(join(tmpdir(), 'oss-spool-'));
});
after(async () => {
  await emu?.stop();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

async function until(predicate, ms, what) {
  const t0 = Date.now();
  while (!(await predicate())) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** Every file under `dir`, with its bytes. */
function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      out.push({ path, bytes: readFileSync(path) });
    }
  }
  return out;
}

/** The bytes of a spool's segments on disk. */
function segmentBytes(id) {
  return readdirSync(join(spoolDir, id)).filter((n) => n.startsWith('s-'))
    .reduce((sum, n) => sum + statSync(join(spoolDir, id, n)).size, 0);
}

describe('spool', () => {
  test('a process killed with SIGKILL during an outage: a new process lists the spool and resumes, byte-identical',
    T, async () => {
      const key = uniqueKey('spool-sigkill', 'rec.webm');
      const first = payload(1 * MIB, 'landed');
      const rest = payload(6 * MIB, 'spooled');
      const script = join(CONSUMER, `spool-child-${process.pid}.mjs`);
      writeFileSync(script, `
        import OSS from 'oss-append';
        import { readFileSync } from 'node:fs';
        const [options, key, spoolDir, firstPath, restPath] = JSON.parse(process.argv[2]);
        const client = new OSS({ ...options, spoolDir });
        const w = await client.openAppender(key, { spool: 'rec-kill', minPartSize: 0, maxRetryDelay: 600000 });
        await w.write(readFileSync(firstPath));
        process.stdout.write('landed\\n');
        await new Promise((r) => process.stdin.once('data', r));   // the parent stopped the emulator
        const rest = readFileSync(restPath);
        for (let at = 0; at < rest.length; at += 64 * 1024) w.write(rest.subarray(at, at + 64 * 1024)).catch(() => {});
        const total = ${first.length} + rest.length;
        while (w.spooled < total) await new Promise((r) => setTimeout(r, 10));
        process.stdout.write('spooled ' + w.spooled + ' buffered ' + w.buffered + '\\n');
        setInterval(() => {}, 1000);
      `);
      const firstPath = join(spoolDir, 'first.bin');
      const restPath = join(spoolDir, 'rest.bin');
      writeFileSync(firstPath, first);
      writeFileSync(restPath, rest);
      const dir = join(spoolDir, 'kill');
      const child = spawn(process.execPath,
        [script, JSON.stringify([emu.clientOptions(), key, dir, firstPath, restPath])],
        { stdio: ['pipe', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      try {
        await until(() => out.includes('landed'), 15_000, 'the first part landed');
        await emu.halt();
        child.stdin.write('go\n');
        await until(() => out.includes('spooled'), 20_000, `everything spooled (${out})`);
        assert.match(out, new RegExp(`spooled ${first.length + rest.length} buffered ${rest.length}`));
        child.kill('SIGKILL');
        assert.equal((await exited).signal, 'SIGKILL');
      } finally {
        child.kill('SIGKILL');
        rmSync(script, { force: true });
        await emu.restart();
      }
      // No secret anywhere in the spool.
      const files = filesUnder(dir);
      assert.ok(files.length > 1, 'the spool is on disk');
      for (const { path, bytes } of files) {
        assert.ok(!bytes.includes(emu.accessKeySecret), `no secret in ${path}`);
        assert.ok(!bytes.includes(emu.accessKeyId), `no access key id in ${path}`);
      }

      const client = new OSS({ ...emu.clientOptions(), spoolDir: dir });
      const listed = await client.listUnfinished();
      assert.equal(listed.length, 1, JSON.stringify(listed));
      assert.deepEqual({ ...listed[0], updatedAt: undefined },
        { spool: 'rec-kill', name: key, position: String(first.length), pending: rest.length, updatedAt: undefined });
      assert.ok(listed[0].updatedAt instanceof Date && Date.now() - listed[0].updatedAt < 60_000);
      const w = await client.openAppender(key, { spool: 'rec-kill', minPartSize: 0 });
      await w.write(payload(1000, 'after'));
      const closed = await w.close();
      const whole = Buffer.concat([first, rest, payload(1000, 'after')]);
      await assertStored(emu, key, whole, 'byte-identical to everything written before the crash, then the new write');
      assert.equal(closed.nextAppendPosition, String(whole.length));
      assert.deepEqual(await client.listUnfinished(), [], 'a successful close deletes the spool');
      assert.deepEqual(readdirSync(dir), []);
    });

  test('the last append landed but its answer was lost, then a crash: nothing is duplicated', T, async () => {
    const key = uniqueKey('spool-lost-answer');
    const dir = join(spoolDir, 'lost');
    const client = new OSS({ ...emu.clientOptions(), spoolDir: dir });
    const a = payload(200 * KIB, 'a');
    const b = payload(300 * KIB, 'b');
    const retries = [];
    const w = await client.openAppender(key, { spool: 'rec-lost', minPartSize: 0, maxRetryDelay: 600_000,
      onRetry: (r) => retries.push(r) });
    await w.write(a);
    // The append lands but its answer is lost, and so are the answers that would tell the appender so.
    await emu.armFault({ kind: 'drop_after_commit', op: 'append', key });
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'head', key, count: 100 });
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 100 });
    w.write(b).catch(() => {});
    await until(() => retries.length > 0 && w.spooled === a.length + b.length, 15_000, 'the answer was lost');
    await emu.clearFaults();
    await w.abort();   // the process ends here, as a crash would: the spool stays
    const listed = await client.listUnfinished();
    assert.deepEqual(listed.map((l) => [l.spool, l.position, l.pending]), [['rec-lost', String(a.length), b.length]]);
    const again = await client.openAppender(key, { spool: 'rec-lost' });
    assert.equal(again.position, String(a.length + b.length), 'the landed part was verified and skipped');
    await again.close();
    await assertStored(emu, key, Buffer.concat([a, b]), 'no byte twice');
  });

  test('another writer appended in between: the reopen fails with SpoolMismatch, both sides intact', T, async () => {
    const key = uniqueKey('spool-other-writer');
    const dir = join(spoolDir, 'other');
    const client = new OSS({ ...emu.clientOptions(), spoolDir: dir });
    const a = payload(100 * KIB, 'a');
    const mine = payload(150 * KIB, 'mine');
    const theirs = payload(50 * KIB, 'theirs');
    const w = await client.openAppender(key, { spool: 'rec-other', minPartSize: 0, maxRetryDelay: 600_000 });
    await w.write(a);
    await emu.halt();
    w.write(mine).catch(() => {});
    await until(() => w.spooled === a.length + mine.length, 10_000, 'spooled');
    await w.abort();
    await emu.restart();
    await new OSS(emu.clientOptions()).append(key, theirs, { position: a.length });
    const e = await rejects(client.openAppender(key, { spool: 'rec-other' }),
      { name: 'SpoolMismatchError', code: 'SpoolMismatch' });
    assert.match(e.message, /another writer/);
    assert.match(e.message, /kept/);
    await assertStored(emu, key, Buffer.concat([a, theirs]), "the other writer's bytes survive");
    const listed = await client.listUnfinished();
    assert.deepEqual(listed.map((l) => [l.spool, l.position, l.pending]), [['rec-other', String(a.length), mine.length]],
      'the spool is untouched');
    await client.discardSpool('rec-other');
    assert.deepEqual(await client.listUnfinished(), []);
  });

  test('after many confirmed parts the spool holds no more than the unconfirmed bytes plus one part', T, async () => {
    const key = uniqueKey('spool-trim');
    const client = new OSS({ ...emu.clientOptions(), spoolDir });
    const part = 64 * KIB;
    const w = await client.openAppender(key, { spool: 'rec-trim', partSize: part, minPartSize: 0,
      maxRetryDelay: 600_000 });
    const written = [];
    for (let i = 0; i < 40; i++) {
      const chunk = payload(50 * KIB + i * 7, `t${i}`);
      written.push(chunk);
      await w.write(chunk);
    }
    // The trim runs right after each confirmed part: it is done within moments.
    await until(() => segmentBytes('rec-trim') <= part, 5_000,
      `confirmed parts trimmed (${segmentBytes('rec-trim')} bytes left)`);
    await emu.halt();
    const unconfirmed = payload(700 * KIB, 'unconfirmed');
    w.write(unconfirmed).catch(() => {});
    await until(() => w.spooled === written.reduce((s, c) => s + c.length, 0) + unconfirmed.length, 10_000, 'spooled');
    const onDisk = segmentBytes('rec-trim');
    assert.ok(onDisk >= unconfirmed.length && onDisk <= w.buffered + part,
      `${onDisk} bytes on disk for ${w.buffered} unconfirmed`);
    await emu.restart();
    w.retryNow();
    await w.close();
    await assertStored(emu, key, Buffer.concat([...written, unconfirmed]));
  });

  test('with a spool, memory holds maxBuffered and the rest waits on disk; BufferFull only past maxSpool', T,
    async () => {
      const key = uniqueKey('spool-limits');
      const client = new OSS({ ...emu.clientOptions(), spoolDir });
      const w = await client.openAppender(key, { spool: 'rec-limits', minPartSize: 0, partSize: 256 * KIB,
        maxBuffered: 256 * KIB, maxSpool: 5 * MIB, maxRetryDelay: 600_000 });
      await emu.halt();
      const chunks = [];
      const outcomes = [];
      try {
        for (let i = 0; i < 64; i++) {   // 4 MiB during the outage: 16 times maxBuffered
          const c = payload(64 * KIB, `m${i}`);
          chunks.push(c);
          outcomes.push(w.write(c).then(() => 'ok', (e) => e.code));
        }
        await until(() => w.spooled === 4 * MIB, 10_000, `spooled (${w.spooled})`);
        const tooMuch = await rejects(w.write(payload(1200 * KIB, 'too much')),
          { code: 'BufferFull', name: 'BufferFullError' });
        assert.match(tooMuch.message, /maxSpool/);
        assert.equal(w.buffered, 4 * MIB, 'nothing accepted before was dropped');
      } finally {
        await emu.restart();
      }
      w.retryNow();
      await w.close();
      assert.deepEqual([...new Set(await Promise.all(outcomes))], ['ok']);
      await assertStored(emu, key, Buffer.concat(chunks), 'the spilled bytes were read back in order');
    });

  test('storage that refuses more (a full disk, a quota) makes writes BufferFull until OSS has every byte', T,
    async () => {
      const key = uniqueKey('spool-full');
      const dir = join(spoolDir, 'full');
      const client = new OSS({ ...emu.clientOptions(), spoolDir: dir });
      const w = await client.openAppender(key, { spool: 'rec-full', minPartSize: 0, maxRetryDelay: 600_000 });
      const written = [payload(30 * KIB, 'a')];
      await w.write(written[0]);
      await emu.halt();
      const accepted = [];
      let refused;
      try {
        // The spool's directory turns into a file: every storage write fails from now on.
        rmSync(join(dir, 'rec-full'), { recursive: true, force: true });
        writeFileSync(join(dir, 'rec-full'), 'not a directory');
        const b = payload(40 * KIB, 'b');
        written.push(b);
        accepted.push(w.write(b));
        await until(async () => {
          const probe = payload(1, `probe${accepted.length}`);
          const p = w.write(probe);
          const outcome = await Promise.race([p.then(() => 'landed', (e) => e), sleep(20).then(() => 'waiting')]);
          if (outcome instanceof Error) {
            refused = outcome;
            return true;
          }
          written.push(probe);
          accepted.push(p);
          return false;
        }, 5_000, 'a write refused once storage failed');
      } finally {
        await emu.restart();
      }
      assert.equal(refused.code, 'BufferFull', refused.message);
      assert.equal(refused.name, 'BufferFullError');
      assert.match(refused.message, /local storage failed/);
      w.retryNow();
      await Promise.all(accepted);   // nothing accepted before was dropped
      rmSync(join(dir, 'rec-full'), { force: true });
      const d = payload(5000, 'd');
      await w.write(d);              // every byte is on OSS: the spool takes writes again
      written.push(d);
      await w.close();
      await assertStored(emu, key, Buffer.concat(written));
    });

  test('a spool is open in one appender at a time; it belongs to its object', T, async () => {
    const key = uniqueKey('spool-lock');
    const client = new OSS({ ...emu.clientOptions(), spoolDir });
    const w = await client.openAppender(key, { spool: 'rec-lock', minPartSize: 0 });
    await w.write(payload(1000, 'x'));
    const e = await rejects(client.openAppender(key, { spool: 'rec-lock' }), { code: 'InvalidArgument' });
    assert.match(e.message, /open in another appender/);
    await w.abort();
    const other = await rejects(client.openAppender(uniqueKey('spool-lock-other'), { spool: 'rec-lock' }),
      { code: 'InvalidArgument' });
    assert.match(other.message, new RegExp(`holds a recording of oss://${emu.bucket}/${key}`));
    const again = await client.openAppender(key, { spool: 'rec-lock' });
    await again.close();
    await assertStored(emu, key, payload(1000, 'x'));
  });

  test('a new spool starts at a known position without a HEAD; reopening it always asks the object', T, async () => {
    const key = uniqueKey('spool-position');
    const client = new OSS({ ...emu.clientOptions(), spoolDir });
    await emu.clearLog();
    const w = await client.openAppender(key, { spool: 'rec-position', position: 0, minPartSize: 0 });
    await w.write(payload(2000, 'p'));
    assert.deepEqual((await emu.requestsFor(key)).map((r) => r.op), ['append'], 'no HEAD before the first append');
    await w.abort();
    // An existing spool continues where it stands, whatever position says.
    const again = await client.openAppender(key, { spool: 'rec-position', position: 0 });
    assert.equal(again.position, '2000');
    await again.write(payload(1000, 'q'));
    await again.close();
    await assertStored(emu, key, Buffer.concat([payload(2000, 'p'), payload(1000, 'q')]));
  });

  test('a spooled entry is on disk before it counts: its file is flushed and its directory synced after the rename',
    T, async () => {
      const key = uniqueKey('spool-durable');
      const client = new OSS({ ...emu.clientOptions(), spoolDir });
      const w = await client.openAppender(key, { spool: 'rec-durable', minPartSize: 0, partSize: 64 * KIB,
        maxBuffered: 64 * KIB, maxRetryDelay: 600_000 });
      // The spool's file system calls, in order: which files were flushed, renamed into a directory, and synced.
      const events = [];
      const { rename, open } = fs.promises;
      fs.promises.rename = async (from, to) => {
        await rename(from, to);
        events.push(['rename', from, dirname(to)]);
      };
      fs.promises.open = async (path, ...rest) => {
        const handle = await open(path, ...rest);
        for (const method of ['sync', 'datasync']) {
          const original = handle[method].bind(handle);
          handle[method] = async () => { await original(); events.push(['flush', path]); };
        }
        return handle;
      };
      const chunks = [];
      try {
        await emu.halt();
        for (let i = 0; i < 8; i++) {
          chunks.push(payload(40 * KIB, `d${i}`));
          w.write(chunks[i]).catch(() => {});
        }
        await until(() => w.spooled === 8 * 40 * KIB, 10_000, `spooled (${w.spooled})`);
      } finally {
        fs.promises.rename = rename;
        fs.promises.open = open;
        await emu.restart();
      }
      const renames = events.flatMap(([what, from, dir], i) => (what === 'rename' ? [[i, from, dir]] : []));
      assert.ok(renames.length > 0, 'entries were renamed into place');
      const flushed = (path, among) => among.some(([what, p]) => what === 'flush' && p === path);
      for (const [i, from, dir] of renames) {
        assert.ok(flushed(from, events.slice(0, i)), `${from} was flushed before its rename: ${JSON.stringify(events)}`);
        assert.ok(flushed(dir, events.slice(i + 1)),
          `the rename into ${dir} (event ${i}) was followed by a sync of that directory: ${JSON.stringify(events)}`);
      }
      w.retryNow();
      await w.close();
      await assertStored(emu, key, Buffer.concat(chunks));
    });

  test('a spooled appender that fails (another writer during an outage) keeps its bytes in the spool', T, async () => {
    const key = uniqueKey('spool-fails');
    const client = new OSS({ ...emu.clientOptions(), spoolDir });
    const a = payload(80 * KIB, 'a');
    const mine = payload(120 * KIB, 'mine');
    const w = await client.openAppender(key, { spool: 'rec-fails', minPartSize: 0, maxRetryDelay: 300 });
    await w.write(a);
    await emu.halt();
    const pending = w.write(mine);
    pending.catch(() => {});
    await until(() => w.spooled === a.length + mine.length, 10_000, 'spooled');
    await emu.restart();
    await new OSS(emu.clientOptions()).append(key, payload(10, 'theirs'), { position: a.length });
    const e = await rejects(pending, { code: 'PositionNotEqualToLength' });
    assert.equal(e.spool, 'rec-fails', 'the error names the spool that keeps the bytes');
    assert.equal(w.state, 'failed');
    const listed = await client.listUnfinished();
    assert.deepEqual(listed.filter((l) => l.spool === 'rec-fails').map((l) => [l.position, l.pending]),
      [[String(a.length), mine.length]]);
    await rejects(client.openAppender(key, { spool: 'rec-fails' }), { code: 'SpoolMismatch' });
    await client.discardSpool('rec-fails');
  });

  test('the default spoolDir is the user state directory, not the temp directory', T, async () => {
    const state = join(spoolDir, 'xdg-state');
    const script = join(CONSUMER, `spool-default-${process.pid}.mjs`);
    writeFileSync(script, `
      import OSS from 'oss-append';
      const client = new OSS(JSON.parse(process.argv[2]));
      const w = await client.openAppender('spool-default/obj.bin', { spool: 'rec-default', position: 0 });
      await w.abort();
      process.stdout.write(JSON.stringify(await client.listUnfinished()));
    `);
    try {
      const out = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, JSON.stringify(emu.clientOptions())],
          { env: { ...process.env, XDG_STATE_HOME: state, HOME: join(spoolDir, 'home') }, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        child.stdout.on('data', (d) => { text += d; });
        child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
      });
      assert.deepEqual(JSON.parse(out).map((l) => l.spool), ['rec-default']);
      assert.ok(readdirSync(join(state, 'oss-append', 'spool', 'rec-default')).includes('record'));
    } finally {
      rmSync(script, { force: true });
    }
  });

  test('bad spool options are refused before anything is sent', T, async () => {
    const client = new OSS({ ...emu.clientOptions(), spoolDir });
    const key = uniqueKey('spool-bad');
    await emu.clearLog();
    for (const [options, what] of [
      [{ spool: 'a/b' }, /options\.spool.*A-Z/],
      [{ spool: '' }, /options\.spool/],
      [{ spool: 'x'.repeat(129) }, /options\.spool/],
      [{ spool: 42 }, /options\.spool/],
      [{ spool: 'ok', maxSpool: 0 }, /options\.maxSpool/],
      [{ spool: 'ok', maxSpool: 1.5 }, /options\.maxSpool/],
      [{ spool: 'ok', spoolDir: '' }, /options\.spoolDir/],
      [{ spool: 'ok', position: 5 }, /options\.position/],
    ]) {
      const e = await rejects(client.openAppender(key, options), { code: 'InvalidArgument' });
      assert.match(e.message, what, JSON.stringify(options));
    }
    assert.throws(() => new OSS({ ...emu.clientOptions(), spoolDir: 7 }), { code: 'InvalidArgument' });
    await rejects(client.discardSpool('../x'), { code: 'InvalidArgument' });
    assert.deepEqual(await emu.requestsFor(key), [], 'nothing was sent');
  });
});
