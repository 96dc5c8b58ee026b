// The shipped index.d.ts and index.d.cts as a TypeScript user meets them: a consumer project that imports
// 'oss-append' through the package's exports map compiles under strict settings (Node ESM resolution, bundler
// resolution, and CommonJS require() under Node resolution), and wrong calls are type errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { CONSUMER, INSTALLED } from './helpers/pkg.mjs';

const require = createRequire(import.meta.url);
const TSC = require.resolve('typescript/bin/tsc');
const T = { timeout: 120_000 };

const CONSUMER_TS = `
import OSS, {
  OSS as Named, crc64, Crc64, combineCrc64,
  type AppendResult, type OSSError, type OSSOptions, type HeadResult,
} from 'oss-append';

const options: OSSOptions = {
  region: 'oss-cn-hangzhou', bucket: 'examplebucket', accessKeyId: 'id', accessKeySecret: 'secret',
  refreshSTSToken: async () => ({ accessKeyId: 'a', accessKeySecret: 'b', stsToken: 'c' }),
  authorizationV4: false, timeout: 10_000, retryMax: 2, pathStyle: true, endpoint: 'http://127.0.0.1:9000',
  querySign: 'auto',
};
new OSS({ ...options, querySign: false });
const client: Named = new OSS(options);

export async function use(file: Blob, bytes: Uint8Array, stream: ReadableStream<Uint8Array>): Promise<string> {
  const r: AppendResult = await client.append('rec/a.webm', file, { position: 0, mime: 'video/webm', meta: { take: 7 } });
  const r2 = await client.append('rec/a.webm', bytes, {
    position: r.nextAppendPosition,
    partSize: 8 << 20,
    signal: new AbortController().signal,
    progress: (p: number, info) => { void (p + info.loaded + (info.total ?? 0)); },
  });
  await client.append('rec/a.webm', stream, { position: 10n });
  await client.append('rec/a.webm', '/path/in/node.bin');
  const next: string = r2.nextAppendPosition;
  const crc: string = r2.crc64;
  const status: number = r2.res.status;
  const h: HeadResult = await client.head('rec/a.webm');
  const g = await client.get('rec/a.webm', { range: 'bytes=0-9' });
  const content: Uint8Array = g.content;
  await client.put('doc.txt', new ArrayBuffer(3));
  await client.delete('doc.txt');
  const frozen = await client.get('rec/a.webm', { versionId: 'null' });
  const hv: string | undefined = (await client.head('rec/a.webm', { versionId: 'null' })).versionId;
  const putId: string | undefined = (await client.put('doc.txt', bytes)).versionId;
  const removed = await client.delete('doc.txt', { versionId: putId });
  const marker: true | undefined = removed.deleteMarker;
  void [frozen.content, hv, marker, removed.versionId];
  const sealed: string | undefined = (await client.sealAppend('rec/a.webm', next, { timeout: 5000 })).sealedTime;
  const url: string = client.signatureUrl('rec/a.webm', { expires: 60, method: 'GET' });
  const urlLater: string = await client.asyncSignatureUrl('rec/a.webm', { trafficLimit: 819200 });
  const url4: string = await client.signatureUrlV4('POST', 60, { queries: { append: null, position: '0' } }, 'k');
  const url4h: string = await client.signatureUrlV4('PUT', 60, { headers: { 'x-oss-meta-a': '1' } }, 'k', ['host']);
  const bucket: string = client.bucket;
  void [sealed, urlLater, url4h, bucket];
  const w = await client.openAppender('rec/b.webm', { position: 'resume', minPartSize: 1 << 16 });
  await w.write(new Uint8Array(1));
  await new ReadableStream<Uint8Array>().pipeTo(w.writable);
  const done = await w.close();
  const doneCrc: string | null = done.crc64;
  void doneCrc;
  const spooled = await client.openAppender('rec/c.webm', { spool: 'rec-42', maxSpool: 1 << 30, spoolDir: '/var/spool' });
  const safe: number = spooled.spooled;
  const unfinished = await client.listUnfinished({ spoolDir: '/var/spool' });
  const first: string = unfinished[0].spool + unfinished[0].name + unfinished[0].position;
  const waiting: number = unfinished[0].pending + unfinished[0].updatedAt.getTime() + safe;
  await client.discardSpool('rec-42');
  try {
    await client.append('k', bytes, { position: 1 });
  } catch (e) {
    const err = e as OSSError;
    if (err.code === 'PositionNotEqualToLength') return err.nextAppendPosition ?? '';
  }
  const c = new Crc64();
  c.update(bytes);
  return [crc, status, h.objectType, content.length, url, url4, done.crc64, crc64('x'), c.digest(), first, waiting,
    combineCrc64('1', '2', 3)].join();
}

// @ts-expect-error a position is a number, a string or a bigint
client.append('k', new Blob([]), { position: {} });
// @ts-expect-error an object name is required
client.append(new Blob([]));
// @ts-expect-error querySign is 'auto', true or false
new OSS({ ...options, querySign: 'always' });
// @ts-expect-error the bucket is required
new OSS({ accessKeyId: 'a', accessKeySecret: 's' });
// @ts-expect-error a version id is a string
client.get('k', { versionId: 1 });
// @ts-expect-error a spool id is a string
client.openAppender('k', { spool: 42 });
// @ts-expect-error head, get and delete send no extra headers
client.head('k', { headers: { 'x-oss-meta-a': '1' } });
// @ts-expect-error a progress total is null for streams and live appenders
client.append('k', new Blob([]), { progress: (_p, info) => info.total.toFixed() });
// @ts-expect-error close() reports a null CRC-64 when none is known
client.openAppender('k').then(async (w) => (await w.close()).crc64.length);
// @ts-expect-error the client's bucket is read-only
client.bucket = 'other';
// @ts-expect-error a listed spool's position is a decimal string
const p: number = (await client.listUnfinished())[0].position;
void p;
// @ts-expect-error nextAppendPosition is a string, not a number
const n: number = (await client.append('k', new Blob([]))).nextAppendPosition;
void n;
`;

const execFileP = promisify(execFile);

// CommonJS: `require('oss-append')` (here `import ... = require`) in a .cts file resolves to index.d.cts through
// the exports map's "types" -> "require" condition; index.d.ts would be an ES module there (TS1471 under node16).
const CONSUMER_CTS = `
import oss = require('oss-append');
import type { AppendResult, OSSError, OSSOptions } from 'oss-append';

const options: OSSOptions = {
  region: 'oss-cn-hangzhou', bucket: 'examplebucket', accessKeyId: 'id', accessKeySecret: 'secret', spoolDir: '/var/spool',
};
const client: oss.OSS = new oss.OSS(options);
const same: oss.OSS = new oss.default(options);
const { crc64, Crc64, combineCrc64 } = oss;

export async function use(bytes: Uint8Array): Promise<string> {
  const r: AppendResult = await client.append('rec/a.webm', bytes, { position: 0 });
  const h = await same.head('rec/a.webm', { versionId: 'null', timeout: 1000 });
  const c = new Crc64(r.crc64);
  c.update(bytes);
  try {
    await client.append('k', bytes, { position: r.nextAppendPosition });
  } catch (e) {
    const err = e as OSSError;
    return err.code + (err.status ?? 0);
  }
  return [h.objectType, crc64(bytes), c.digest(), combineCrc64('1', '2', 3), client.bucket].join();
}

export async function wrong(): Promise<void> {
  // @ts-expect-error nextAppendPosition is a string
  const n: number = (await client.append('k', new Uint8Array(1))).nextAppendPosition;
  void n;
}
// @ts-expect-error the bucket is required
new oss.OSS({ accessKeyId: 'a', accessKeySecret: 's' });
`;

async function tsc(dir, compilerOptions, file = 'consumer.mts') {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], skipLibCheck: false,
      ...compilerOptions,
    },
    files: [file],
  }));
  try {
    await execFileP(process.execPath, [TSC, '-p', dir], { timeout: 100_000 });
    return '';
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
}

for (const [label, compilerOptions] of [
  ['Node ESM resolution (module nodenext)', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['bundler resolution (module esnext)', { module: 'esnext', moduleResolution: 'bundler' }],
]) {
  test(`index.d.ts: a strict consumer compiles, wrong calls are errors — ${label}`, T, async () => {
    const dir = join(CONSUMER, `ts-${compilerOptions.moduleResolution}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'consumer.mts'), CONSUMER_TS);
    const out = await tsc(dir, compilerOptions);
    assert.equal(out, '', `tsc reported:\n${out}`);
  });
}

// node16 is where an ES module's types cannot be required at all (TS1471); nodenext (TypeScript 5.8+) would allow it.
for (const mode of ['node16', 'nodenext']) {
  test(`index.d.cts: a strict CommonJS consumer compiles — require() under module ${mode}`, T, async () => {
    const dir = join(CONSUMER, `ts-cjs-${mode}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'consumer.cts'), CONSUMER_CTS);
    const out = await tsc(dir, { module: mode, moduleResolution: mode }, 'consumer.cts');
    assert.equal(out, '', `tsc reported:\n${out}`);
  });
}

test('index.d.cts is index.d.ts with its own first line, so the two cannot disagree', T, () => {
  const esm = readFileSync(join(INSTALLED, 'index.d.ts'), 'utf8').split('\n');
  const cjs = readFileSync(join(INSTALLED, 'index.d.cts'), 'utf8').split('\n');
  assert.match(cjs[0], /^\/\/ Type definitions for oss-append as require\('oss-append'\) sees them/);
  assert.deepEqual(cjs.slice(1), esm.slice(1));
});
