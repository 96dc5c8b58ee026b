// The shipped index.d.ts against what the package really does, so that the two cannot drift apart: the exports, the
// methods and getters of OSS, Crc64 and a live Appender, the option names every public call reads (seen through a
// Proxy that records each property read), and the keys and value types of every result, callback argument and error
// kind, observed in Node against the emulator. The declarations are read with the TypeScript compiler API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import ts from 'typescript';

import { startEmulator } from '../support/emulator.mjs';
import { INSTALLED, loadCjs, loadEsm } from './helpers/pkg.mjs';
import { uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

// ---- the declarations --------------------------------------------------------------------------------------------

/**
 * index.d.ts as the compiler sees it. `file` defaults to the installed package's; a test that shows the check failing
 * passes an edited copy.
 */
function declarations(file = join(INSTALLED, 'index.d.ts')) {
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, types: [], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, [], 'index.d.ts compiles on its own');
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source))
    .map((s) => [s.name, s]));
  const local = (symbol) => symbol?.declarations?.some((d) => d.getSourceFile() === source) ?? false;
  const typeOf = (symbol) => checker.getTypeOfSymbolAtLocation(symbol,
    symbol.valueDeclaration ?? symbol.declarations[0]);
  const named = (name) => {
    const symbol = exported.get(name);
    assert.ok(symbol, `index.d.ts declares ${name}`);
    return checker.getDeclaredTypeOfSymbol(
      symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  };
  const isOptional = (p) => (p.flags & ts.SymbolFlags.Optional) !== 0;
  const isReadonly = (p) => (p.declarations ?? [])
    .some((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly) !== 0);

  /** Names of the runtime values index.d.ts exports (classes, functions, the default). */
  const valueExports = () => [...exported.values()]
    .filter((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return (target.flags & ts.SymbolFlags.Value) !== 0;
    })
    .map((s) => s.name).sort();

  /** A class's or interface's members: { methods, getters } (getters: the properties, all readonly). */
  const members = (type) => {
    const methods = [];
    const getters = [];
    for (const p of checker.getPropertiesOfType(type)) {
      if (p.flags & ts.SymbolFlags.Method) methods.push(p.name);
      else getters.push(p.name);
    }
    return { methods: methods.sort(), getters: getters.sort(), type };
  };

  /** The declared type of parameter `index` of method `method` of `type` (undefined and null left out). */
  const parameter = (type, method, index) => {
    const m = checker.getPropertyOfType(type, method);
    assert.ok(m, `index.d.ts declares ${method}`);
    const params = typeOf(m).getCallSignatures()[0].parameters;
    assert.ok(index < params.length, `index.d.ts declares ${method}'s parameter ${index + 1}`);
    return checker.getNonNullableType(typeOf(params[index]));
  };
  const constructorParameter = (name, index) => {
    const params = typeOf(exported.get(name)).getConstructSignatures()[0].parameters;
    return checker.getNonNullableType(typeOf(params[index]));
  };

  /** An object type of index.d.ts that options or results are made of (not a function, not a lib class). */
  const isShape = (t) => (t.flags & ts.TypeFlags.Object) !== 0 && t.getCallSignatures().length === 0
    && (local(t.aliasSymbol) || local(t.symbol)) && checker.getPropertiesOfType(t).length > 0;
  const unionParts = (t) => (t.isUnion() ? t.types : [t]);

  /** The properties of `type`; of every member for a union (whose common ones alone the checker lists). */
  const propertiesOf = (type) => {
    const all = type.isUnion()
      ? type.types.flatMap((t) => checker.getPropertiesOfType(t))
      : checker.getPropertiesOfType(type);
    return [...new Map(all.map((p) => [p.name, p])).values()];
  };

  /** Every option name a call may read: `range`, and `range.start` for an options object inside an option. */
  const optionNames = (type, prefix = '') => {
    const out = [];
    for (const p of propertiesOf(type)) {
      out.push(prefix + p.name);
      for (const part of unionParts(checker.getNonNullableType(typeOf(p)))) {
        if (isShape(part)) out.push(...optionNames(part, `${prefix}${p.name}.`));
      }
    }
    return [...new Set(out)].sort();
  };

  /**
   * Whether `value` is of `type`; problems are pushed to `out` with `path`. Keys of shapes are recorded in `seen`
   * (type name → Set of keys) so that declared keys never produced show up.
   */
  const check = (value, type, path, out, seen) => {
    const attempts = [];
    for (const part of unionParts(type)) {
      const problems = [];
      // Keys count as produced only for the member of a union that the value is.
      const trial = new Map();
      checkOne(value, part, path, problems, trial);
      if (problems.length === 0) {
        for (const [name, keys] of trial) seen.set(name, new Set([...(seen.get(name) ?? []), ...keys]));
        return;
      }
      attempts.push(...problems);
    }
    out.push(attempts.length === 1 ? attempts[0]
      : `${path}: ${shown(value)} is none of ${checker.typeToString(type)}`);
  };
  const checkOne = (value, t, path, out, seen) => {
    const f = t.flags;
    const want = checker.typeToString(t);
    const fail = () => out.push(`${path}: ${shown(value)} is not ${want}`);
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (f & ts.TypeFlags.StringLiteral) { if (value !== t.value) fail(); return; }
    if (f & ts.TypeFlags.NumberLiteral) { if (value !== t.value) fail(); return; }
    if (f & ts.TypeFlags.BooleanLiteral) { if (value !== (want === 'true')) fail(); return; }
    if (f & ts.TypeFlags.String) { if (typeof value !== 'string') fail(); return; }
    if (f & ts.TypeFlags.Number) { if (typeof value !== 'number') fail(); return; }
    if (f & ts.TypeFlags.Boolean) { if (typeof value !== 'boolean') fail(); return; }
    if (f & ts.TypeFlags.BigInt) { if (typeof value !== 'bigint') fail(); return; }
    if (f & ts.TypeFlags.Null) { if (value !== null) fail(); return; }
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) { if (value !== undefined) fail(); return; }
    if (!(f & ts.TypeFlags.Object)) { out.push(`${path}: cannot check ${want}`); return; }
    if (t.getCallSignatures().length > 0) { if (typeof value !== 'function') fail(); return; }
    if (value === null || typeof value !== 'object') { fail(); return; }
    if (checker.isArrayType(t)) {
      if (!Array.isArray(value)) { fail(); return; }
      const element = checker.getTypeArguments(t)[0];
      value.forEach((v, i) => check(v, element, `${path}[${i}]`, out, seen));
      return;
    }
    const symbol = t.aliasSymbol ?? t.symbol;
    if (!local(symbol) && !local(t.symbol)) {
      // A platform class (Date, Blob, Uint8Array, Error, WritableStream) or Record<string, T>.
      const index = checker.getIndexTypeOfType(t, ts.IndexKind.String);
      if (index && checker.getPropertiesOfType(t).length === 0) {
        for (const [k, v] of Object.entries(value)) check(v, index, `${path}.${k}`, out, seen);
        return;
      }
      const ctor = globalThis[t.symbol?.name];
      if (typeof ctor === 'function' && !(value instanceof ctor)) fail();
      return;
    }
    const name = checker.typeToString(t);
    const keys = value instanceof Error
      ? Object.getOwnPropertyNames(value).filter((k) => k !== 'stack')
      : Object.keys(value);
    const declared = new Map(checker.getPropertiesOfType(t).map((p) => [p.name, p]));
    const index = checker.getIndexTypeOfType(t, ts.IndexKind.String);
    if (!seen.has(name)) seen.set(name, new Set());
    for (const k of keys) {
      seen.get(name).add(k);
      const p = declared.get(k);
      if (!p && !index) out.push(`${path}.${k}: the key is not declared in ${name}`);
      else check(value[k], p ? typeOf(p) : index, `${path}.${k}`, out, seen);
    }
    if (value instanceof Error) {
      for (const k of ['name', 'message']) check(value[k], typeOf(declared.get(k)), `${path}.${k}`, out, seen);
    }
    for (const [k, p] of declared) {
      if (!isOptional(p) && !(k in value)) out.push(`${path}.${k}: declared required in ${name}, absent`);
    }
  };

  /** The keys a shape declares itself (not those inherited from a lib type such as Error). */
  const ownKeys = (type) => checker.getPropertiesOfType(type)
    .filter((p) => local(p.declarations?.[0]?.parent?.symbol) || local(p))
    .map((p) => p.name).sort();

  /** What a declared function type (e.g. a callback option) resolves to: its return type, awaited. */
  const resolvedReturn = (fnType) => checker.getAwaitedType(checker.getNonNullableType(fnType).getCallSignatures()[0]
    .getReturnType());

  /** The declared type of member `name` of `type`. */
  const memberType = (type, name) => typeOf(checker.getPropertyOfType(type, name));

  return {
    checker, named, memberType, resolvedReturn, valueExports, members, parameter, constructorParameter, optionNames,
    check, ownKeys, isReadonly,
  };
}

function shown(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `${typeof value} ${JSON.stringify(String(value)).slice(0, 40)}`;
}

// ---- the runtime -------------------------------------------------------------------------------------------------

/** The string-named methods and getters along a prototype chain (wasm-bindgen's internal `__` names left out). */
function runtimeMembers(proto) {
  const methods = new Set();
  const getters = new Set();
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (k === 'constructor' || k.startsWith('__')) continue;
      if (d.get) getters.add(k);
      else if (typeof d.value === 'function') methods.add(k);
    }
  }
  return { methods: [...methods].sort(), getters: [...getters].sort() };
}

/**
 * An options object that records every property read (and `in` test) as `prefix + name` into `reads`; `then` is left
 * out, which any promise resolved with the object reads (refreshSTSToken's result).
 */
function recording(values, reads, prefix = '') {
  const note = (k) => { if (typeof k === 'string' && k !== 'then') reads.add(prefix + k); };
  return new Proxy(values, {
    get(target, k, receiver) { note(k); return Reflect.get(target, k, receiver); },
    has(target, k) { note(k); return Reflect.has(target, k); },
  });
}

/**
 * Reads of one call: with an empty options object (every optional read is made), then with every declared option set
 * (the reads that depend on others, e.g. maxSpool only with spool). The call may fail; reading is what counts.
 */
async function readsOf(call, full) {
  const reads = new Set();
  for (const options of [recording({}, reads), recording(full((name, v) => recording(v, reads, `${name}.`)), reads)]) {
    try {
      await call(options);
    } catch { /* a refusal still shows what was read */ }
  }
  return [...reads].sort();
}

/**
 * The browser entry (web.js) loaded in Node: its top-level `init` fetches the .wasm beside it by URL, which Node's
 * fetch cannot do for a file: URL, so fetch answers those from the file for the duration of the import.
 */
async function importWebEntry() {
  const platformFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => (String(url).startsWith('file:')
    ? new Response(readFileSync(fileURLToPath(String(url))), { headers: { 'content-type': 'application/wasm' } })
    : platformFetch(url, init));
  try {
    return await import(pathToFileURL(join(INSTALLED, 'web.js')).href);
  } finally {
    globalThis.fetch = platformFetch;
  }
}

// ---- the comparison, against the emulator ------------------------------------------------------------------------

let d;
let esm;
let cjs;
let web;
let emu;
let client;
let spoolDir;
const seen = new Map();

/** Asserts that `value` is of the declared type `type` (a name exported by index.d.ts, or a type object). */
function expectShape(value, type, where) {
  const found = [];
  d.check(value, typeof type === 'string' ? d.named(type) : type, where, found, seen);
  assert.deepEqual(found, [], `${where} differs from index.d.ts`);
}

before(async () => {
  d = declarations();
  esm = await loadEsm();
  cjs = loadCjs();
  web = await importWebEntry();
  emu = await startEmulator({ versioning: 'enabled' });
  client = new esm.OSS(emu.clientOptions());
  spoolDir = mkdtempSync(join(tmpdir(), 'oss-types-spool-'));
});
after(async () => {
  await emu?.stop();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

describe('exports and classes', () => {
  test('the Node ESM, CommonJS and browser entries export exactly the values index.d.ts declares', T, () => {
    const declared = d.valueExports();
    assert.deepEqual(Object.keys(esm.namespace).sort(), declared, 'import * from oss-append');
    assert.deepEqual(Object.keys(cjs).sort(), declared, "require('oss-append')");
    assert.deepEqual(Object.keys(web).sort(), declared, 'web.js (browsers, workers, bundlers)');
  });

  test('OSS: the methods and getters of the Node class and of the browser build are the declared ones', T, async () => {
    const declared = d.members(d.named('OSS'));
    assert.deepEqual(runtimeMembers(esm.OSS.prototype), { methods: declared.methods, getters: declared.getters });
    // The browser build's class has no Node layer over it.
    assert.deepEqual(runtimeMembers(web.OSS.prototype), { methods: declared.methods, getters: declared.getters });
    assert.deepEqual(runtimeMembers(web.Crc64.prototype), runtimeMembers(esm.Crc64.prototype));
    for (const g of declared.getters) {
      assert.ok(d.isReadonly(d.checker.getPropertyOfType(declared.type, g)), `OSS.${g} is a getter: readonly`);
    }
    expectShape(client.bucket, d.memberType(declared.type, 'bucket'), 'bucket');
  });

  test('Crc64 and Appender: the methods and getters are the declared ones, getters readonly', T, async () => {
    const crc = d.members(d.named('Crc64'));
    assert.deepEqual(runtimeMembers(esm.Crc64.prototype), { methods: crc.methods, getters: crc.getters });
    const c = new esm.Crc64();
    for (const g of crc.getters) {
      assert.ok(d.isReadonly(d.checker.getPropertyOfType(crc.type, g)), `Crc64.${g} is a getter: readonly`);
      expectShape(c[g], d.memberType(crc.type, g), `crc64.${g}`);
    }
    c.free();
    const appender = await client.openAppender(uniqueKey('surface'));
    try {
      const declared = d.members(d.named('Appender'));
      assert.deepEqual(runtimeMembers(Object.getPrototypeOf(appender)),
        { methods: declared.methods, getters: declared.getters });
      for (const g of declared.getters) {
        const p = d.checker.getPropertyOfType(declared.type, g);
        assert.ok(d.isReadonly(p), `Appender.${g} is a getter: readonly`);
        expectShape(appender[g], d.memberType(declared.type, g), `appender.${g}`);
      }
    } finally {
      await appender.abort();
    }
  });
});

describe('the options each call reads are the declared ones', () => {
  const bytes = () => new Uint8Array([1, 2, 3]);
  const signal = () => new AbortController().signal;
  const noop = () => {};
  /** Each public call: its declared options parameter, how to call it, and a value for every declared option. */
  const calls = () => {
    const oss = d.named('OSS');
    const key = uniqueKey('reads');
    return [
      ['new OSS', d.constructorParameter('OSS', 0), (o) => new esm.OSS(o), () => ({
        ...emu.clientOptions(), stsToken: undefined, refreshSTSToken: async () => ({}),
        refreshSTSTokenInterval: 300_000,
        cname: false, secure: false, internal: false, sldEnable: true, cloudBoxId: undefined, authorizationV4: true,
        retryMax: 1, querySign: false, spoolDir,
      })],
      ['append', d.parameter(oss, 'append', 2), (o) => client.append(key, bytes(), o), () => ({
        position: 0, headers: {}, meta: {}, mime: 'application/octet-stream', partSize: 1 << 20, progress: noop,
        signal: signal(), initCrc64: '0', timeout: 5000,
      })],
      ['put', d.parameter(oss, 'put', 2), (o) => client.put(`${key}.put`, bytes(), o), () => ({
        headers: {}, meta: {}, mime: 'text/plain', signal: signal(), timeout: 5000,
      })],
      ['head', d.parameter(oss, 'head', 1), (o) => client.head(key, o), () => ({
        versionId: 'null', signal: signal(), timeout: 5000,
      })],
      ['get', d.parameter(oss, 'get', 1), (o) => client.get(key, o), (nest) => ({
        range: nest('range', { start: 0, end: 1 }), versionId: 'null', signal: signal(), timeout: 5000,
      })],
      ['delete', d.parameter(oss, 'delete', 1), (o) => client.delete(`${key}.gone`, o), () => ({
        versionId: 'null', signal: signal(), timeout: 5000,
      })],
      ['sealAppend', d.parameter(oss, 'sealAppend', 2), (o) => client.sealAppend(`${key}.sealed`, 0, o), () => ({
        signal: signal(), timeout: 5000,
      })],
      ...['signatureUrl', 'asyncSignatureUrl'].map((m) => [m, d.parameter(oss, m, 1), (o) => client[m](key, o), () => ({
        method: 'GET', expires: 60, 'Content-Type': 'text/plain', 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==',
        subResource: { acl: '' }, response: { 'content-disposition': 'inline' }, process: 'image/resize,w_10',
        trafficLimit: 819200,
      })]),
      ['signatureUrlV4', d.parameter(oss, 'signatureUrlV4', 2), (o) => client.signatureUrlV4('GET', 60, o, key),
        () => ({ headers: { 'x-oss-meta-a': '1' }, queries: { acl: null } })],
      ['openAppender', d.parameter(oss, 'openAppender', 1), async (o) => {
        const w = await client.openAppender(`${key}.live`, o);
        await w.abort();
      }, () => ({
        position: 'resume', partSize: 1 << 20, minPartSize: 1, flushInterval: 10, headers: {}, meta: {},
        mime: 'video/webm',
        progress: noop, signal: signal(), initCrc64: '0', timeout: 5000, maxBuffered: 1 << 20, maxRetryDelay: 100,
        giveUpAfter: 10_000, onStateChange: noop, onRetry: noop, spool: 'surface-reads', maxSpool: 1 << 20, spoolDir,
      })],
      // What refreshSTSToken resolves to is read like options (a refresh is due at once with an interval of 0).
      ['refreshSTSToken()', d.resolvedReturn(d.memberType(d.constructorParameter('OSS', 0), 'refreshSTSToken')),
        (o) => new esm.OSS({ ...emu.clientOptions(), refreshSTSToken: () => o, refreshSTSTokenInterval: 0 }).head(key),
        () => ({
          accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, AccessKeyId: 'x', AccessKeySecret: 'y',
          stsToken: undefined, securityToken: undefined, SecurityToken: undefined, StsToken: undefined,
        })],
      ['listUnfinished', d.parameter(oss, 'listUnfinished', 0), (o) => client.listUnfinished(o), () => ({ spoolDir })],
      ['discardSpool', d.parameter(oss, 'discardSpool', 1), (o) => client.discardSpool('surface-reads', o),
        () => ({ spoolDir })],
    ];
  };

  /** `{ call: { undeclared, unread } }` for every call whose reads differ from `decl`'s declarations. */
  async function readDrift(decl, list) {
    const drift = {};
    for (const [name, type, call, full] of list) {
      const declared = decl.optionNames(type);
      const given = Object.keys(full(() => ({}))).sort();
      assert.deepEqual(given, declared.filter((n) => !n.includes('.')),
        `the test gives ${name} every declared option and no other`);
      const read = await readsOf(call, full);
      const undeclared = read.filter((n) => !declared.includes(n));
      const unread = declared.filter((n) => !read.includes(n));
      if (undeclared.length || unread.length) drift[name] = { undeclared, unread };
    }
    return drift;
  }

  test('every call reads exactly its declared options (an undeclared read or a declared option never read fails)',
    T, async () => {
      assert.deepEqual(await readDrift(d, calls()), {});
    });

  test('the comparison fails on a removed declaration and on an undeclared option', T, async () => {
    // index.d.ts without RequestOptions' `timeout` (which head, get, delete and sealAppend read).
    const text = readFileSync(join(INSTALLED, 'index.d.ts'), 'utf8');
    const cut = text.replace(
      /(export interface RequestOptions \{\n  signal\?: AbortSignal;\n)[^]*?\n(  timeout\?: number;\n)/, '$1');
    // ...and without Appender's retryNow().
    const cut2 = cut.replace(/\n  \/\*\* While retrying[^\n]*\n  retryNow\(\): boolean;/, '');
    assert.ok(cut !== text && cut2 !== cut, 'the edits apply');
    const dir = mkdtempSync(join(tmpdir(), 'oss-types-cut-'));
    try {
      writeFileSync(join(dir, 'index.d.ts'), cut2);
      const edited = declarations(join(dir, 'index.d.ts'));
      const appender = await client.openAppender(uniqueKey('cut'));
      const runtime = runtimeMembers(Object.getPrototypeOf(appender));
      await appender.abort();
      const { methods, getters } = edited.members(edited.named('Appender'));
      assert.deepEqual(runtime.methods.filter((m) => !methods.includes(m)), ['retryNow']);
      assert.deepEqual(runtime.getters, getters);
      const oss = edited.named('OSS');
      const timeoutOnly = () => ({ signal: new AbortController().signal });
      const drift = await readDrift(edited, [
        ['head', edited.parameter(oss, 'head', 1), (o) => client.head(uniqueKey('cut'), o),
          () => ({ versionId: 'null', signal: new AbortController().signal })],
        ['sealAppend', edited.parameter(oss, 'sealAppend', 2), (o) => client.sealAppend(uniqueKey('cut'), 0, o),
          timeoutOnly],
      ]);
      assert.deepEqual(drift, {
        head: { undeclared: ['timeout'], unread: [] }, sealAppend: { undeclared: ['timeout'], unread: [] },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A call that reads an option index.d.ts does not name (as a wrapper reading `retries` would).
    const oss = d.named('OSS');
    const drift = await readDrift(d, [['put', d.parameter(oss, 'put', 2), (o) => {
      void o.retries;
      return client.put(uniqueKey('extra'), new Uint8Array(1), o);
    }, () => ({ headers: {}, meta: {}, mime: 'text/plain', signal: new AbortController().signal, timeout: 5000 })]]);
    assert.deepEqual(drift, { put: { undeclared: ['retries'], unread: [] } });
  });
});

describe('results, callback arguments and errors have the declared keys and types', () => {
  /** Waits for `condition`, at most `ms`. */
  async function until(condition, ms, what) {
    const end = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** The error `promise` rejects with, checked against OSSError. */
  async function failure(promise, where) {
    const err = await promise.then(() => assert.fail(`${where} should fail`), (e) => e);
    expectShape(err, 'OSSError', where);
    return err;
  }
  const bytes = (n, fill = 7) => new Uint8Array(n).fill(fill);

  test('the client calls: append, put, head, get, delete, sealAppend, presigned URLs, progress', T, async () => {
    const key = uniqueKey('shapes');
    const progress = [];
    const onProgress = (p, info) => progress.push([p, info]);
    const first = await client.append(key, bytes(100), { progress: onProgress });
    expectShape(first, 'AppendResult', 'append()');
    const stream = new ReadableStream({ start(c) { c.enqueue(bytes(10)); c.close(); } });
    const second = await client.append(key, stream, { position: first.nextAppendPosition, progress: onProgress });
    expectShape(second, 'AppendResult', 'append(stream)');
    for (const [i, [p, info]] of progress.entries()) {
      expectShape(p, d.checker.getNumberType(), `progress #${i} p`);
      expectShape(info, 'ProgressInfo', `progress #${i} info`);
    }
    assert.ok(progress.some(([, info]) => info.total === null), 'a stream reports total null');
    expectShape(await client.head(key), 'HeadResult', 'head(appendable)');
    expectShape(await client.get(key, { range: { start: 0, end: 9 } }), 'GetResult', 'get()');
    const put = await client.put(`${key}.normal`, bytes(5));
    expectShape(put, 'PutResult', 'put()');
    expectShape(await client.head(`${key}.normal`), 'HeadResult', 'head(normal)');
    expectShape(await client.delete(`${key}.normal`, { versionId: put.versionId }), 'DeleteResult', 'delete(version)');
    expectShape(await client.delete(key), 'DeleteResult', 'delete() on a versioned bucket');
    const sealedKey = `${key}.sealed`;
    const s = await client.append(sealedKey, bytes(3));
    expectShape(await client.sealAppend(sealedKey, s.nextAppendPosition), 'SealAppendResult', 'sealAppend()');
    const string = d.checker.getStringType();
    expectShape(client.signatureUrl(key), string, 'signatureUrl()');
    expectShape(await client.asyncSignatureUrl(key), string, 'asyncSignatureUrl()');
    expectShape(await client.signatureUrlV4('GET', 60, {}, key), string, 'signatureUrlV4()');
  });

  test('a live appender: getters, progress, onStateChange, onRetry, close()', T, async () => {
    const key = uniqueKey('shapes-live');
    const states = [];
    const retries = [];
    const progress = [];
    const w = await client.openAppender(key, {
      minPartSize: 0, maxRetryDelay: 50, onStateChange: (s) => states.push(s), onRetry: (i) => retries.push(i),
      progress: (p, info) => progress.push(info),
    });
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key, count: 2 });
    await w.write(bytes(10));
    const closed = await w.close();
    expectShape(closed, 'AppenderState', 'close()');
    assert.ok(retries.length > 0 && states.includes('retrying'), 'the 503s were retried');
    retries.forEach((r, i) => expectShape(r, 'RetryInfo', `onRetry #${i}`));
    states.forEach((s, i) => expectShape(s, 'AppenderStateName', `onStateChange #${i}`));
    progress.forEach((p, i) => expectShape(p, 'ProgressInfo', `appender progress #${i}`));
  });

  test('errors of every kind a Node caller meets; every key OSSError declares is produced', T, async () => {
    const key = uniqueKey('shapes-errors');
    await failure(client.append(key, bytes(1), { position: -1 }), 'InvalidArgument');
    await failure(client.append(key, 42), 'a wrong input (TypeError)');
    await client.append(key, bytes(10));
    await failure(client.append(key, bytes(1), { position: 3 }), 'PositionNotEqualToLength');
    await failure(client.append(key, bytes(1), { position: 10, initCrc64: '1' }), 'CrcMismatch');
    await failure(client.get(`${key}.missing`), 'NoSuchKey');
    await failure(client.head(`${key}.missing`), 'a 404 HEAD');
    const aborted = new AbortController();
    aborted.abort();
    await failure(client.append(key, bytes(1), { position: 11, signal: aborted.signal }), 'Aborted');
    const offline = new esm.OSS({ ...emu.clientOptions(), endpoint: 'http://127.0.0.1:9', retryMax: 0 });
    await failure(offline.head(key), 'RequestError');
    await emu.armFault({ kind: 'delay', delay_ms: 3000, op: 'head', key, count: 1 });
    await failure(new esm.OSS({ ...emu.clientOptions(), retryMax: 0 }).head(key, { timeout: 200 }), 'a timeout');
    await emu.clearFaults();
    await emu.armFault({ kind: 'error_before_commit', status: 403, code: 'AccessDenied', op: 'append', key, count: 1 });
    await failure(client.append(key, bytes(10), { position: 10 }), 'AccessDenied');
    await emu.clearFaults();

    const small = await client.openAppender(`${key}.small`, { maxBuffered: 4 });
    await failure(small.write(bytes(5)), 'BufferFull');
    await small.abort();
    // A spooled appender that gives up: GaveUp with its cause, the spool and the unsent bytes.
    const live = `${key}.live`;
    await emu.armFault({ kind: 'error_before_commit', status: 503, op: 'append', key: live, count: 1000 });
    const spooled = await client.openAppender(live, {
      spool: 'shapes-gave-up', spoolDir, position: 0, minPartSize: 0, maxRetryDelay: 50, giveUpAfter: 300,
    });
    await failure(spooled.write(bytes(8)), 'GaveUp');
    await emu.clearFaults();
    const listed = await client.listUnfinished({ spoolDir });
    assert.ok(listed.length > 0, 'the spool keeps the unconfirmed bytes');
    expectShape(listed, d.checker.createArrayType(d.named('UnfinishedSpool')), 'listUnfinished()');
    // Another writer continues the object meanwhile: the reopened spool no longer fits it.
    await client.append(live, bytes(3, 9));
    await failure(client.openAppender(live, { spool: 'shapes-gave-up', spoolDir }), 'SpoolMismatch');
    await client.discardSpool('shapes-gave-up', { spoolDir });

    const declared = d.ownKeys(d.named('OSSError'));
    // Not met in Node against the emulator: missingHeaders needs a browser's CORS; serverTime comes with a
    // RequestTimeTooSkewed, which the client corrects and retries itself.
    const elsewhere = ['missingHeaders', 'serverTime'];
    const produced = [...(seen.get('OSSError') ?? [])];
    assert.deepEqual(declared.filter((k) => !produced.includes(k) && !elsewhere.includes(k)), [],
      'every key OSSError declares is produced by some error');
  });

  // After the tests above, whose observations it sums up.
  test('every key a result or callback argument declares is produced somewhere', T, () => {
    const missing = {};
    for (const name of ['AppendResult', 'PutResult', 'HeadResult', 'GetResult', 'DeleteResult', 'SealAppendResult',
      'ResponseInfo', 'ProgressInfo', 'RetryInfo', 'AppenderState', 'UnfinishedSpool']) {
      const keys = d.ownKeys(d.named(name)).filter((k) => !seen.get(name)?.has(k));
      if (keys.length) missing[name] = keys;
    }
    assert.deepEqual(missing, {}, 'declared keys no result ever had');
  });
});
