// The package's one bundling step: esbuild joins each entry with wasm-bindgen's output (as it comes) and the crate's
// own JS into one minified file. Both entries load the same .wasm, the one file beside them.
// Usage: node scripts/bundle.mjs <esbuild package dir> <build dir> <out dir>
//   <build dir> holds pkg-template/'s web.js and node.cjs, and bindings/ (wasm-bindgen --target web, untouched).
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [esbuildDir, buildDir, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: node scripts/bundle.mjs <esbuild package dir> <build dir> <out dir>');
const esbuild = createRequire(join(esbuildDir, 'package.json'))('esbuild');

const common = {
  bundle: true,
  minify: true,
  // Class and function names stay as callers and stack traces see them.
  keepNames: true,
  target: 'es2020',
  logLevel: 'warning',
  legalComments: 'none',
  // wasm-bindgen's import object names a snippet once per import (the same module each time): harmless repeats.
  logOverride: { 'duplicate-object-key': 'silent' },
};

// Browsers, Web Workers and bundlers: ESM; the entry awaits the .wasm's fetch (top-level await, which every
// runtime that has WebAssembly with reference types has too).
await esbuild.build({
  ...common,
  entryPoints: [join(buildDir, 'web.js')],
  outfile: join(outDir, 'web.js'),
  format: 'esm',
  platform: 'browser',
  supported: { 'top-level-await': true },
});

// Node: CommonJS, so `require` works on every Node the package admits; the .wasm is read synchronously.
await esbuild.build({
  ...common,
  entryPoints: [join(buildDir, 'node.cjs')],
  outfile: join(outDir, 'node.cjs'),
  format: 'cjs',
  platform: 'node',
  // Shipped as its own file (cli.mjs and node.cjs share it).
  external: ['./spool-node.cjs'],
  // The bindings' default .wasm location uses import.meta.url, which CommonJS lacks; node.cjs always passes the
  // module itself, so that default is never reached.
  logOverride: { ...common.logOverride, 'empty-import-meta': 'silent' },
});
