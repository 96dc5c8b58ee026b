// Broken and hostile inputs in Node: each meets a clear InvalidArgument (or the error it deserves) before anything is
// sent, and never a dead process, a promise that never settles or a broken module. Streams that fail, detached and
// resizable buffers, reused chunk buffers, oversized error bodies, part sizes at the 32-bit boundary, names, credentials
// and headers that OSS or browsers would refuse, and an abort during a retry wait.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { CONSUMER } from './helpers/install-pkg.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { assertStored, payload, rejects, uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

let OSS;
let crc64;
let Crc64;
let emu;
let client;

before(async () => {
  ({ default: OSS, crc64, Crc64 } = await loadEsm());
  emu = await startEmulator();
  client = new OSS(emu.clientOptions());
});
after(async () => { await emu?.stop(); });

/** Detaches `buffer` as a transfer does (ArrayBuffer.prototype.transfer where the runtime has it). */
function detach(buffer) {
  if (typeof buffer.transfer === 'function') buffer.transfer();
  else structuredClone(buffer, { transfer: [buffer] });
  assert.equal(buffer.byteLength, 0, 'detached');
}

/** Byte inputs over detached buffers, one of each kind. */
function detachedInputs() {
  const cases = [];
  let b = new ArrayBuffer(8);
  detach(b);
  cases.push(['ArrayBuffer', b]);
  b = new ArrayBuffer(8);
  cases.push(['DataView', new DataView(b, 2, 4)]);
  detach(b);
  b = new ArrayBuffer(8);
  cases.push(['Uint8Array', new Uint8Array(b)]);
  detach(b);
  b = new ArrayBuffer(16);
  cases.push(['Float64Array', new Float64Array(b, 8, 1)]);
  detach(b);
  return cases;
}

/** Resolves how many requests the emulator logged for `key`. */
async function sent(key) {
  return (await emu.requestsFor(key)).length;
}

/** Runs `script` (an ES module) with the installed package in a child Node; resolves { code, stdout, stderr }. */
function runChild(script, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: CONSUMER, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child timed out: ${stdout} ${stderr}`)); }, 30_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('streams that fail', () => {
  test('an input stream that errors rejects the append and Node keeps running', T, async () => {
    const script = `
      import fs from 'node:fs';
      import OSS from 'oss-append';
      const client = new OSS(JSON.parse(process.env.OPTIONS));
      const inputs = {
        'missing file': () => fs.createReadStream('/nonexistent/oss-append-input'),
        'web stream failing at once': () => new ReadableStream({ pull(c) { c.error(new Error('disk gone')); } }),
        'web stream failing after a chunk': () => {
          let n = 0;
          return new ReadableStream({ pull(c) { if (n++ === 0) c.enqueue(new Uint8Array(10)); else c.error(new Error('cut')); } });
        },
      };
      for (const [label, make] of Object.entries(inputs)) {
        const outcome = await client.append(process.env.KEY + label.replaceAll(' ', '-'), make())
          .then(() => 'resolved', (e) => 'rejected ' + e.code);
        console.log(label + ': ' + outcome);
      }
      await new Promise((r) => setTimeout(r, 300));
      console.log('alive');
    `;
    const r = await runChild(script, { OPTIONS: JSON.stringify(emu.clientOptions()), KEY: uniqueKey('failing-stream', '') });
    assert.equal(r.code, 0, `the process survived: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /missing file: rejected RequestError/);
    assert.match(r.stdout, /web stream failing at once: rejected RequestError/);
    assert.match(r.stdout, /web stream failing after a chunk: rejected RequestError/);
    assert.match(r.stdout, /alive/);
  });
});

describe('detached and resizable buffers', () => {
  test('as an append input: a TypeError naming the detached buffer, nothing sent, no empty object', T, async () => {
    for (const [label, value] of detachedInputs()) {
      const key = uniqueKey(`detached-${label}`);
      const err = await rejects(client.append(key, value), { code: 'InvalidArgument', message: /detached ArrayBuffer/ });
      assert.ok(err instanceof TypeError, `${label}: a TypeError`);
      assert.match(err.message, new RegExp(label === 'ArrayBuffer' ? 'ArrayBuffer' : label));
      assert.equal(await sent(key), 0, `${label}: nothing sent`);
      assert.equal(await emu.object(key), null, `${label}: no object`);
    }
  });

  test('as a stream chunk and an appender write; the CRC helpers refuse them too', T, async () => {
    for (const [label, value] of detachedInputs()) {
      const key = uniqueKey(`detached-chunk-${label}`);
      const stream = new ReadableStream({ start(c) { c.enqueue(value); c.close(); } });
      await rejects(client.append(key, stream), { code: 'InvalidArgument', message: /detached ArrayBuffer/ });
      assert.equal(await sent(key), 0, `${label} chunk: nothing sent`);

      const w = await client.openAppender(key);
      await rejects(w.write(value), { code: 'InvalidArgument', message: /detached ArrayBuffer/ });
      await w.write(new Uint8Array([1, 2, 3]));
      assert.equal((await w.close()).nextAppendPosition, '3', `${label}: the appender carries on`);
      await assertStored(emu, key, Buffer.from([1, 2, 3]));

      assert.throws(() => crc64(value), (e) => e instanceof TypeError && e.code === 'InvalidArgument' && /detached/.test(e.message));
      assert.throws(() => new Crc64().update(value), /detached/);
    }
  });

  test('10,000 detached inputs leave the module healthy; a normal append follows', T, async () => {
    const cases = detachedInputs();
    const key = uniqueKey('detached-many');
    const w = await client.openAppender(key, { flushInterval: 0 });
    for (let i = 0; i < 10_000; i++) {
      const [, value] = cases[i % cases.length];
      const calls = [client.append(key, value), w.write(value)];
      const outcomes = await Promise.allSettled(calls);
      for (const o of outcomes) assert.equal(o.status === 'rejected' && o.reason.code, 'InvalidArgument');
      assert.throws(() => crc64(value), /detached/);
    }
    await w.write(Buffer.from('after'));
    await w.close();
    const more = payload(100_000, 'after-detached');
    const r = await client.append(key, more, { position: 5 });
    assert.equal(r.nextAppendPosition, String(5 + more.length));
    await assertStored(emu, key, Buffer.concat([Buffer.from('after'), more]));
  });

  test('resizable buffers: their bytes at call time; a view left outside its shrunk buffer is refused', T, async () => {
    const rab = new ArrayBuffer(16, { maxByteLength: 64 });
    const tracking = new Uint8Array(rab);
    tracking.set(payload(16, 'rab'));
    let key = uniqueKey('resizable');
    await client.append(key, tracking);
    await assertStored(emu, key, payload(16, 'rab'));

    const fixed = new Uint8Array(rab, 8, 8);
    rab.resize(4);
    key = uniqueKey('resizable-oob');
    await rejects(client.append(key, fixed), { code: 'InvalidArgument', message: /outside its resizable ArrayBuffer/ });
    assert.equal(await sent(key), 0);

    key = uniqueKey('resizable-write');
    const w = await client.openAppender(key);
    const done = w.write(tracking);
    rab.resize(64);
    tracking.fill(7);
    await done;
    await w.close();
    await assertStored(emu, key, payload(4, 'rab'));
  });
});

describe('bytes are taken when they are handed over', () => {
  test('a stream that refills one buffer for every chunk', T, async () => {
    const buffer = new Uint8Array(1000);
    let n = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (n === 5) { c.close(); return; }
        buffer.fill(n++);
        c.enqueue(buffer);
      },
    }, { highWaterMark: 0 });
    const key = uniqueKey('reused-chunks');
    const r = await client.append(key, stream);
    assert.equal(r.nextAppendPosition, '5000');
    await assertStored(emu, key, Buffer.concat([0, 1, 2, 3, 4].map((i) => Buffer.alloc(1000, i))));
  });

  test('an appender write, even of a Node Buffer whose slice() does not copy', T, async () => {
    const key = uniqueKey('reused-write');
    const w = await client.openAppender(key, { flushInterval: 50 });
    const buffer = Buffer.alloc(100, 1);
    const first = w.write(buffer);
    buffer.fill(2);
    const second = w.write(buffer);
    buffer.fill(3);
    await Promise.all([first, second]);
    await w.close();
    await assertStored(emu, key, Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(100, 2)]));
  });
});

describe('response bodies the client only parses are capped', () => {
  test('an endless error body ends the call at once instead of filling memory', T, async () => {
    let served = 0;
    const sockets = new Set();
    const server = createServer((req, res) => {
      req.resume();
      // A HEAD (the client checking whether the append landed) gets no body: say the object is not there.
      if (req.method === 'HEAD') { res.writeHead(404).end(); return; }
      res.writeHead(500, { 'content-type': 'application/xml', 'x-oss-request-id': 'endless' });
      res.write('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        let more = true;
        while (!res.destroyed && more) {
          more = res.write(chunk);
          served += chunk.length;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new OSS({ ...emu.clientOptions(), endpoint: `http://127.0.0.1:${server.address().port}`, retryMax: 0, timeout: 20_000 });
      const started = Date.now();
      const err = await rejects(c.append(uniqueKey('endless'), Buffer.from('x')), { status: 500 });
      assert.notEqual(err.code, 'ConnectionTimeoutError', 'the body was not read to the timeout');
      assert.ok(Date.now() - started < 5000, `settled in ${Date.now() - started} ms`);
      assert.ok(served < 64 * 1024 * 1024, `the client stopped reading early (${served} bytes served)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('part sizes stop at what one request body carries', () => {
  test('partSize 4 GiB - 1 is accepted; 4 GiB is refused before anything is sent', T, async () => {
    let key = uniqueKey('part-4g');
    await rejects(client.append(key, Buffer.from('abc'), { partSize: 2 ** 32 }),
      { code: 'InvalidArgument', message: /options\.partSize.*from 1 to 4294967295/ });
    await rejects(client.openAppender(key, { partSize: 5 * 2 ** 30 }), { code: 'InvalidArgument', message: /4294967295/ });
    assert.equal(await sent(key), 0);
    key = uniqueKey('part-4g-1');
    const r = await client.append(key, Buffer.from('abc'), { partSize: 2 ** 32 - 1 });
    assert.equal(r.nextAppendPosition, '3');
  });
});

describe('validation before anything is sent', () => {
  test('a name with a lone surrogate is refused; a surrogate pair is fine', T, async () => {
    for (const name of ['rec/\uD800.bin', 'rec/\uDC00', 'a\uD83D']) {
      await rejects(client.append(name, Buffer.from('x')), { code: 'InvalidArgument', message: /lone surrogate.*well-formed Unicode/ });
      await rejects(client.head(name), { code: 'InvalidArgument', message: /lone surrogate/ });
    }
    assert.equal((await emu.requestLog()).filter((e) => /\uFFFD/.test(e.key ?? '')).length, 0, 'no U+FFFD name reached OSS');
    const r = await client.append(uniqueKey('pair', '\uD83D\uDE00.bin'), Buffer.from('ok'));
    assert.equal(r.nextAppendPosition, '2', 'a surrogate pair is fine');
  });

  test('credentials outside printable ASCII, and a colon in the AccessKey ID, are refused', T, async () => {
    const base = emu.clientOptions();
    for (const [extra, what] of [
      [{ accessKeyId: 'id\u00e9' }, /accessKeyId.*non-ASCII/],
      [{ accessKeyId: 'LTAI:x' }, /accessKeyId.*':'/],
      [{ accessKeyId: 'LT AI' }, /accessKeyId.*space/],
      [{ accessKeySecret: 'sec\u2028ret' }, /accessKeySecret.*non-ASCII/],
      [{ stsToken: 'tok\u00a0en' }, /stsToken.*non-ASCII/],
    ]) {
      assert.throws(() => new OSS({ ...base, ...extra }), (e) => e.code === 'InvalidArgument' && what.test(e.message)
        && /printable ASCII/.test(e.message));
    }
    const refreshing = new OSS({
      ...base,
      refreshSTSTokenInterval: 1,
      refreshSTSToken: async () => ({ accessKeyId: 'STS:id', accessKeySecret: 's', stsToken: 't' }),
    });
    await new Promise((r) => setTimeout(r, 5));
    const key = uniqueKey('bad-refresh');
    await rejects(refreshing.append(key, Buffer.from('x')), { code: 'InvalidArgument', message: /refreshSTSToken\(\) result: accessKeyId.*':'/ });
    assert.equal(await sent(key), 0);
  });

  test('headers browsers refuse or that are hop-by-hop, oversized and too many headers', T, async () => {
    const key = uniqueKey('headers');
    for (const name of ['Expect', 'Keep-Alive', 'Upgrade', 'TE', 'Trailer', 'Transfer-Encoding', 'Host',
      'Content-Length', 'Connection', 'Cookie', 'Date', 'Origin', 'Referer', 'Via', 'Proxy-Authorization',
      'Sec-Fetch-Site', 'Accept-Encoding']) {
      await rejects(client.append(key, Buffer.from('x'), { headers: { [name]: '1' } }),
        { code: 'InvalidArgument', message: new RegExp(`'${name}' cannot be set`) });
    }
    await rejects(client.append(key, Buffer.from('x'), { headers: { 'Cache-Control': 'x'.repeat(8185) } }),
      { code: 'InvalidArgument', message: /takes 8198 bytes.*at most 8192 bytes/ });
    const huge = 'x'.repeat(50 * 1024 * 1024);
    await rejects(client.append(key, Buffer.from('x'), { headers: { 'Cache-Control': huge } }),
      { code: 'InvalidArgument', message: /at most 8192 characters/ });
    await rejects(client.append(key, Buffer.from('x'), { meta: { big: huge } }), { code: 'InvalidArgument' });
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-oss-meta-k${i}`, 'v']));
    await rejects(client.append(key, Buffer.from('x'), { headers: many }), { code: 'InvalidArgument', message: /at most 64/ });
    const split = { headers: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-oss-meta-h${i}`, 'v'])),
      meta: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`m${i}`, 'v'])) };
    await rejects(client.append(key, Buffer.from('x'), split), { code: 'InvalidArgument', message: /65 headers/ });
    await rejects(client.append(huge, Buffer.from('x')), { code: 'InvalidArgument', message: /characters long/ });
    assert.equal(await sent(key), 0);
  });

  test('a malformed Content-MD5 and an unknown storage class fail locally', T, async () => {
    const key = uniqueKey('md5-class');
    for (const md5 of ['abc', 'd41d8cd98f00b204e9800998ecf8427e', '1B2M2Y8AsgTpgAmY2PhCfg=']) {
      await rejects(client.append(key, Buffer.from(''), { headers: { 'Content-MD5': md5 } }),
        { code: 'InvalidArgument', message: /base64 of a 16-byte MD5/ });
    }
    await rejects(client.append(key, Buffer.from('x'), { headers: { 'x-oss-storage-class': 'Glacier' } }),
      { code: 'InvalidArgument', message: /Standard, IA, Archive, ColdArchive, DeepColdArchive/ });
    await rejects(client.put(key, Buffer.from('x'), { headers: { 'x-oss-storage-class': 'Glacier' } }),
      { code: 'InvalidArgument' });
    assert.equal(await sent(key), 0);
    const md5 = createHash('md5').update('x').digest('base64');
    const r = await client.append(key, Buffer.from('x'), { headers: { 'Content-MD5': md5, 'x-oss-storage-class': 'IA' } });
    assert.equal(r.nextAppendPosition, '1', 'well-formed values still go out');
  });
});

describe('aborts', () => {
  test('an abort during a retry wait settles within 100 ms', T, async () => {
    const key = uniqueKey('abort-wait');
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 50 });
    const random = Math.random;
    Math.random = () => 0.999; // the longest backoff: 200, 400, 800 ms, ...
    try {
      const c = new OSS(emu.clientOptions({ retryMax: 20 }));
      const abort = new AbortController();
      const call = c.append(key, Buffer.from('x'), { signal: abort.signal }).then(() => null, (e) => e);
      const deadline = Date.now() + 10_000;
      while ((await emu.requestsFor(key)).filter((q) => q.method === 'POST').length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 50)); // inside the ~800 ms wait before the third retry
      const aborted = performance.now();
      abort.abort();
      const err = await call;
      const waited = performance.now() - aborted;
      assert.equal(err?.code, 'Aborted', String(err));
      assert.ok(waited < 100, `settled ${waited.toFixed(0)} ms after the abort`);
    } finally {
      Math.random = random;
      await emu.clearFaults();
    }
  });
});
