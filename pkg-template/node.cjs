'use strict';
// The Node entry (CommonJS). The WebAssembly module loads synchronously on require, so `new OSS(...)` works at once.
// On top of what the WASM client accepts (Blob/File, Uint8Array/Buffer, ArrayBuffer, typed-array views,
// ReadableStream<Uint8Array>), Node callers may pass a local file path or a Node `Readable` to `append` and `put`.
const fs = require('node:fs');
const path = require('node:path');
const { Readable } = require('node:stream');
const { nodeStore } = require('./spool-node.cjs');
// Spools live in files under spoolDir in Node (the browser build uses OPFS or IndexedDB instead).
globalThis[Symbol.for('oss-append.spoolStore')] = nodeStore;
// wasm-bindgen's output (--target web), which scripts/bundle.mjs joins into this file.
const wasm = require('./bindings/oss_append.js');

// The same .wasm as the browser entry's, read from beside this file.
wasm.initSync({ module: fs.readFileSync(path.join(__dirname, 'oss_append_bg.wasm')) });

function invalidFile(reason, cause) {
  const err = new Error(`invalid file: ${reason}`, cause ? { cause } : undefined);
  err.name = 'InvalidArgumentError';
  err.code = 'InvalidArgument';
  return err;
}

function isNodeReadable(value) {
  return value instanceof Readable
    || (value !== null && typeof value === 'object' && typeof value.pipe === 'function'
      && typeof value.on === 'function' && typeof value.read === 'function'
      && typeof value._read === 'function');
}

/** Opens a local file as a Blob backed by the file (nothing is read into memory up front). */
async function openFile(path) {
  let stat;
  try {
    stat = await fs.promises.stat(path);
  } catch (e) {
    throw invalidFile(`cannot open the file ${JSON.stringify(path)} (${e.code || e.message})`, e);
  }
  if (!stat.isFile()) throw invalidFile(`${JSON.stringify(path)} is not a regular file`);
  if (typeof fs.openAsBlob === 'function') return fs.openAsBlob(path);
  // Node < 19.8 has no fs.openAsBlob: stream the file instead.
  return Readable.toWeb(fs.createReadStream(path));
}

/** Turns the Node-only input forms into ones the WASM client reads; everything else passes through unchanged. */
async function toInput(file) {
  if (typeof file === 'string') return openFile(file);
  if (file instanceof String) return openFile(String(file));
  if (isNodeReadable(file)) {
    if (file.readableEncoding) {
      throw invalidFile(`the Readable decodes to ${file.readableEncoding} text; pass a byte stream (no setEncoding)`);
    }
    // Chunks must be Buffers/Uint8Arrays (Readable.from([buffer, ...]) is fine); the client rejects anything else.
    return Readable.toWeb(file);
  }
  return file;
}

const clientSpoolDir = new WeakMap();

/** `options` with the client's spoolDir when it names none (a copy: options are never modified). */
function withSpoolDir(client, options) {
  const dir = clientSpoolDir.get(client);
  if (dir === undefined || (options && typeof options === 'object' && options.spoolDir !== undefined)) return options;
  if (options !== undefined && options !== null && typeof options !== 'object') return options;
  return { ...options, spoolDir: dir };
}

class OSS extends wasm.OSS {
  constructor(options) {
    super(options);
    const dir = options?.spoolDir;
    if (dir !== undefined) {
      if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) {
        const err = new Error(`invalid spoolDir: ${JSON.stringify(dir)} is not a directory path; a non-empty path without NUL is accepted`);
        err.name = 'InvalidArgumentError';
        err.code = 'InvalidArgument';
        throw err;
      }
      clientSpoolDir.set(this, dir);
    }
  }

  /** Opens a live appender; see index.d.ts. A client's spoolDir applies when the options name none. */
  openAppender(name, options) {
    return super.openAppender(name, withSpoolDir(this, options));
  }

  /** The unfinished spools of this client's bucket. */
  listUnfinished(options) {
    return super.listUnfinished(withSpoolDir(this, options));
  }

  /** Deletes a spool. */
  discardSpool(id, options) {
    return super.discardSpool(id, withSpoolDir(this, options));
  }

  /** Appends `file` to the object `name`; see index.d.ts. `options` is never modified. */
  async append(name, file, options) {
    return super.append(name, await toInput(file), options);
  }

  /** Uploads `file` as a Normal object. `options` is never modified. */
  async put(name, file, options) {
    return super.put(name, await toInput(file), options);
  }
}

module.exports = OSS;
module.exports.OSS = OSS;
module.exports.default = OSS;
module.exports.crc64 = wasm.crc64;
module.exports.Crc64 = wasm.Crc64;
module.exports.combineCrc64 = wasm.combineCrc64;
