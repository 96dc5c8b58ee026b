// The shipped index.d.ts against what the package really does, so that the two cannot drift apart: the exports, the
// methods and getters of OSS, Crc64 and a live Appender, the option names every public call reads (seen through a
// Proxy that records each property read), and the keys and value types of every result, callback argument and error
// kind, observed in Node against the emulator. The declarations are read with the TypeScript compiler API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import ts from 'typescript';

import { startEmulator } from './helpers/emulator.mjs';
import { INSTALLED, loadCjs, loadEsm } from './helpers/pkg.mjs';
import { uniqueKey } from './helpers/util.mjs';

const T = { timeout: 60_000 };

// ---- the declarations --------------------------------------------------------------------------------------------

/**
 * index.d.ts as the compiler sees it. `file` defaults to the installed package's; a test that shows the check failing
 * passes an edited copy.
 */
export function declarations(file = join(INSTALLED, 'index.d.ts')) {
  const program = ts.createProgram([file], {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, types: [], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, [], 'index.d.ts compiles on its own');
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)).map((s) => [s.name, s]));
  const local = (symbol) => symbol?.declarations?.some((d) => d.getSourceFile() === source) ?? false;
  const typeOf = (symbol) => checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration ?? symbol.declarations[0]);
  const named = (name) => {
    const symbol = exported.get(name);
    assert.ok(symbol, `index.d.ts declares ${name}`);
    return checker.getDeclaredTypeOfSymbol(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  };
  const isOptional = (p) => (p.flags & ts.SymbolFlags.Optional) !== 0;
  const isReadonly = (p) => (p.declarations ?? []).some((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly) !== 0);

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

  /** Every option name a call may read: `range`, and `range.start` for an options object inside an option. */
  const optionNames = (type, prefix = '') => {
    const out = [];
    for (const p of checker.getPropertiesOfType(type)) {
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
      checkOne(value, part, path, problems, seen);
      if (problems.length === 0) return;
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

  /** The keys a shape declares itself (not inherited from a lib type such as Error), optional ones marked. */
  const ownKeys = (type) => checker.getPropertiesOfType(type)
    .filter((p) => local(p.declarations?.[0]?.parent?.symbol) || local(p))
    .map((p) => p.name).sort();

  /** The declared type of member `name` of `type`. */
  const memberType = (type, name) => typeOf(checker.getPropertyOfType(type, name));

  return {
    checker, named, memberType, valueExports, members, parameter, constructorParameter, optionNames, check, ownKeys, isReadonly,
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
export function runtimeMembers(proto) {
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

/** An options object that records every property read (and `in` test) as `prefix + name` into `reads`. */
export function recording(values, reads, prefix = '') {
  const note = (k) => { if (typeof k === 'string') reads.add(prefix + k); };
  return new Proxy(values, {
    get(target, k, receiver) { note(k); return Reflect.get(target, k, receiver); },
    has(target, k) { note(k); return Reflect.has(target, k); },
  });
}

/**
 * Reads of one call: with an empty options object (every optional read is made), then with every declared option set
 * (the reads that depend on others, e.g. maxSpool only with spool). The call may fail; reading is what counts.
 */
export async function readsOf(call, full) {
  const reads = new Set();
  for (const options of [recording({}, reads), recording(full((name, v) => recording(v, reads, `${name}.`)), reads)]) {
    try {
      await call(options);
    } catch { /* a refusal still shows what was read */ }
  }
  return [...reads].sort();
}

// ---- the comparison, against the emulator ------------------------------------------------------------------------

let d;
let esm;
let cjs;
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
  emu = await startEmulator({ versioning: 'enabled' });
  client = new esm.OSS(emu.clientOptions());
  spoolDir = mkdtempSync(join(tmpdir(), 'oss-types-spool-'));
});
after(async () => {
  await emu?.stop();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

describe('exports and classes', () => {
  test('ESM and CommonJS export exactly the values index.d.ts declares', T, () => {
    const declared = d.valueExports();
    assert.deepEqual(Object.keys(esm.namespace).sort(), declared, 'import * from oss-append');
    assert.deepEqual(Object.keys(cjs).sort(), declared, "require('oss-append')");
  });

  test('OSS: the methods and getters of the Node class and of the browser build are the declared ones', T, async () => {
    const declared = d.members(d.named('OSS'));
    assert.deepEqual(runtimeMembers(esm.OSS.prototype), { methods: declared.methods, getters: declared.getters });
    // The browser build's class (web/oss_append.js, which web.js re-exports) has no Node layer over it.
    const web = await import(pathToFileURL(join(INSTALLED, 'web', 'oss_append.js')).href);
    web.initSync({ module: readFileSync(join(INSTALLED, 'web', 'oss_append_bg.wasm')) });
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
        ...emu.clientOptions(), stsToken: undefined, refreshSTSToken: async () => ({}), refreshSTSTokenInterval: 300_000,
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
      ['signatureUrlV4', d.parameter(oss, 'signatureUrlV4', 2), (o) => client.signatureUrlV4('GET', 60, o, key), () => ({
        headers: { 'x-oss-meta-a': '1' }, queries: { acl: null },
      })],
      ['openAppender', d.parameter(oss, 'openAppender', 1), async (o) => {
        const w = await client.openAppender(`${key}.live`, o);
        await w.abort();
      }, () => ({
        position: 'resume', partSize: 1 << 20, minPartSize: 1, flushInterval: 10, headers: {}, meta: {}, mime: 'video/webm',
        progress: noop, signal: signal(), initCrc64: '0', timeout: 5000, maxBuffered: 1 << 20, maxRetryDelay: 100,
        giveUpAfter: 10_000, onStateChange: noop, onRetry: noop, spool: 'surface-reads', maxSpool: 1 << 20, spoolDir,
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
    const cut = text.replace(/(export interface RequestOptions \{\n  signal\?: AbortSignal;\n)[^]*?\n(  timeout\?: number;\n)/,
      '$1');
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
