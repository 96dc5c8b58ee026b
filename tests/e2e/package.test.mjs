// The packed npm package as a user installs it: what the tarball holds, the exports map (ESM and CommonJS), no init
// step, and the CRC-64 helpers checked against an independent implementation.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';

import { REPO_ROOT } from './helpers/emulator.mjs';
import { INSTALLED, installedManifest, loadCjs, loadEsm, packInfo } from './helpers/pkg.mjs';
import { refCrc64 } from './helpers/util.mjs';

const T = { timeout: 20_000 };
const CHECK = '11051210869376104954'; // CRC-64/XZ of "123456789"

let esm;
let cjs;
before(async () => {
  esm = await loadEsm();
  cjs = loadCjs();
});

describe('the tarball', () => {
  test('ships exactly the entry points, one .wasm and the docs', T, () => {
    const files = packInfo().files.map((f) => f.path).sort();
    assert.deepEqual(files, [
      'README.md', 'cli.mjs', 'index.d.cts', 'index.d.ts', 'node.cjs', 'node.mjs', 'oss_append_bg.wasm', 'package.json',
      'spool-node.cjs', 'web.js',
    ]);
  });

  test('package.json: name, version from Cargo.toml, ESM, exports map with types first, engines', T, () => {
    const pkg = installedManifest();
    const cargo = readFileSync(join(REPO_ROOT, 'Cargo.toml'), 'utf8');
    const version = /\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargo)[1];
    assert.equal(pkg.name, 'oss-append');
    assert.equal(pkg.version, version);
    assert.equal(pkg.type, 'module');
    const root = pkg.exports['.'];
    assert.deepEqual(Object.keys(root), ['types', 'node', 'browser', 'worker', 'default']);
    assert.deepEqual(root.types, { require: './index.d.cts', default: './index.d.ts' }, 'require() gets CommonJS types');
    assert.deepEqual(root.node, { import: './node.mjs', require: './node.cjs' });
    assert.equal(root.browser, './web.js');
    assert.equal(root.worker, './web.js');
    assert.equal(root.default, './web.js');
    assert.equal(pkg.types, './index.d.ts');
    assert.equal(pkg.engines.node, '>=18');
    assert.ok(pkg.sideEffects !== undefined, 'sideEffects is declared');
  });

  test('the .wasm is a valid WebAssembly module exporting the client', T, async () => {
    const p = 'oss_append_bg.wasm';
    const bytes = readFileSync(join(INSTALLED, p));
    assert.ok(WebAssembly.validate(bytes), `${p} validates`);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    assert.ok(exports.includes('oss_new'), `${p} exports the OSS constructor`);
    assert.ok(exports.includes('crc64'), `${p} exports crc64`);
  });

  test('no file names a path of the machine that built it (panic locations are remapped)', T, () => {
    for (const p of ['oss_append_bg.wasm', 'web.js', 'node.cjs']) {
      const text = readFileSync(join(INSTALLED, p), 'latin1');
      for (const prefix of ['/root/', '/home/', '/work/']) {
        assert.ok(!text.includes(prefix), `${p} contains ${JSON.stringify(prefix)}`);
      }
    }
  });

  test('the browser package (web.js and the .wasm, each gzipped at level 9) stays within its size budget', T, () => {
    // What a page downloads. The budget is its size when the budget was last set, plus about 1 %: growth past it should be a
    // decision, with its figure in README's Size section, not something noticed a release later.
    const BUDGET = 158_000;
    const sizes = ['web.js', 'oss_append_bg.wasm'].map((p) => gzipSync(readFileSync(join(INSTALLED, p)), { level: 9 }).length);
    const total = sizes[0] + sizes[1];
    assert.ok(total <= BUDGET, `the browser package is ${total} B gzipped (web.js ${sizes[0]} B, .wasm ${sizes[1]} B), over its budget of ${BUDGET} B`);
  });
});

describe('entry points', () => {
  test('ESM: default export is the OSS class; named OSS, crc64, Crc64, combineCrc64', T, () => {
    assert.equal(typeof esm.default, 'function');
    assert.equal(esm.OSS, esm.default);
    for (const k of ['crc64', 'Crc64', 'combineCrc64']) assert.equal(typeof esm[k], 'function', k);
  });

  test('CommonJS: require() is the OSS class, with the helpers as properties and destructurable', T, () => {
    assert.equal(typeof cjs, 'function');
    assert.equal(cjs.OSS, cjs);
    const { OSS, crc64, Crc64, combineCrc64 } = cjs;
    assert.equal(OSS, cjs);
    assert.equal(typeof crc64, 'function');
    assert.equal(typeof Crc64, 'function');
    assert.equal(typeof combineCrc64, 'function');
    assert.equal(esm.default, cjs, 'ESM and CommonJS hand out the same class');
  });

  test('new OSS(...) works right after the import (no init step) and does not touch the options', T, () => {
    const options = Object.freeze({
      region: 'oss-cn-hangzhou', bucket: 'examplebucket', accessKeyId: 'id', accessKeySecret: 'secret',
    });
    const client = new esm.default(options);
    assert.ok(client instanceof esm.OSS);
    for (const m of ['append', 'put', 'head', 'get', 'delete', 'sealAppend', 'signatureUrl', 'signatureUrlV4']) {
      assert.equal(typeof client[m], 'function', m);
    }
  });

  test('the client has no enumerable field that holds the secret', T, () => {
    const secret = `s3cr3t-${randomBytes(6).toString('hex')}`;
    const client = new esm.default({ region: 'oss-cn-hangzhou', bucket: 'b-1', accessKeyId: 'id', accessKeySecret: secret });
    assert.ok(!JSON.stringify(client).includes(secret));
    assert.ok(!String(client).includes(secret));
  });
});

describe('CRC-64 helpers', () => {
  test('crc64: the check value, strings as UTF-8, every byte-array form', T, () => {
    const { crc64 } = esm;
    const bytes = new TextEncoder().encode('123456789');
    assert.equal(crc64(bytes), CHECK);
    assert.equal(crc64(Buffer.from('123456789')), CHECK);
    assert.equal(crc64('123456789'), CHECK);
    assert.equal(crc64(bytes.buffer), CHECK);
    const padded = new Uint8Array(20);
    padded.set(bytes, 5);
    assert.equal(crc64(new DataView(padded.buffer, 5, 9)), CHECK, 'a view honours its offset and length');
    assert.equal(crc64(new Uint8Array(0)), '0');
    assert.equal(crc64('日志'), refCrc64(Buffer.from('日志', 'utf8')));
  });

  test('crc64 agrees with an independent implementation on 3 MiB of random bytes', T, () => {
    const data = randomBytes(3 << 20);
    assert.equal(esm.crc64(data), refCrc64(data));
  });

  test('Crc64 streams: any split gives the one-shot value; initCrc continues; length counts bytes', T, () => {
    const data = randomBytes(100_003);
    const whole = refCrc64(data);
    const c = new esm.Crc64();
    let at = 0;
    for (const n of [0, 1, 7, 4096, 65536, 30_000]) {
      c.update(data.subarray(at, at + n));
      at += n;
    }
    c.update(data.subarray(at));
    assert.equal(c.digest(), whole);
    assert.equal(Number(c.length), data.length);
    const head = refCrc64(data.subarray(0, 500));
    const cont = new esm.Crc64(head);
    cont.update(data.subarray(500));
    assert.equal(cont.digest(), whole);
  });

  test('combineCrc64(crcA, crcB, lenB) equals the CRC of the concatenation', T, () => {
    const a = randomBytes(12_345);
    const b = randomBytes(54_321);
    const both = Buffer.concat([a, b]);
    assert.equal(esm.combineCrc64(refCrc64(a), refCrc64(b), b.length), refCrc64(both));
    assert.equal(esm.combineCrc64(refCrc64(a), refCrc64(b), String(b.length)), refCrc64(both));
    assert.equal(esm.combineCrc64(refCrc64(a), '0', 0), refCrc64(a));
  });

  test('CRCs and lengths as bigints (CRCs exceed 2^53)', T, () => {
    const a = randomBytes(1000);
    const b = randomBytes(777);
    const both = refCrc64(Buffer.concat([a, b]));
    assert.equal(esm.combineCrc64(BigInt(refCrc64(a)), BigInt(refCrc64(b)), 777n), both);
    const c = new esm.Crc64(BigInt(refCrc64(a)));
    c.update(b);
    assert.equal(c.digest(), both);
  });

  test('bad CRC inputs are rejected with InvalidArgument', T, () => {
    assert.throws(() => esm.crc64({}), (e) => e.code === 'InvalidArgument');
    assert.throws(() => esm.combineCrc64('not a number', '1', 1), (e) => e.code === 'InvalidArgument');
    assert.throws(() => esm.combineCrc64('1', '18446744073709551616', 1), (e) => e.code === 'InvalidArgument');
  });
});
