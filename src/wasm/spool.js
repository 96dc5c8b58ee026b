// Where a browser keeps recording spools: the Origin Private File System, or IndexedDB where OPFS (or its
// createWritable) is missing. Every entry is written whole before its promise resolves: OPFS's createWritable
// writes a swap file and swaps it in on close(), an IndexedDB put commits with its transaction. A store is
// { ids, entries, readText, write, read, remove, discard } (write takes a string, bytes, a Blob, or an array of
// byte arrays and Blobs stored one after the other); Node's entry registers its own (files under spoolDir)
// as globalThis[Symbol.for('oss-append.spoolStore')], so that no Node code enters a browser bundle.

/** A function that does nothing. */
export function noop() {}

/** The store for `dir` (undefined: the default): Node's when its entry registered one, else the browser's. */
export function spoolStore(dir) {
  const custom = globalThis[Symbol.for('oss-append.spoolStore')];
  if (typeof custom === 'function') return custom(dir);
  const hasOpfs = typeof globalThis.navigator?.storage?.getDirectory === 'function'
    && typeof globalThis.FileSystemFileHandle?.prototype?.createWritable === 'function';
  if (hasOpfs) return opfsStore(dir ?? 'oss-append-spool');
  if (typeof globalThis.indexedDB === 'object' && globalThis.indexedDB) return idbStore(dir ?? 'oss-append-spool');
  throw Object.assign(new Error('this runtime has no local storage for a spool (neither OPFS nor IndexedDB)'), {
    name: 'InvalidArgumentError', code: 'InvalidArgument',
  });
}

function notFound(e) {
  return e?.name === 'NotFoundError';
}

function opfsStore(dir) {
  const root = async (create) => {
    let d = await navigator.storage.getDirectory();
    for (const part of dir.split('/').filter(Boolean)) d = await d.getDirectoryHandle(part, { create });
    return d;
  };
  const spool = async (id, create) => {
    try {
      return await (await root(create)).getDirectoryHandle(id, { create });
    } catch (e) {
      if (!create && (notFound(e) || e?.name === 'TypeError')) return null;
      throw e;
    }
  };
  return {
    dir: `opfs:${dir}`,
    async ids() {
      let d;
      try { d = await root(false); } catch (e) { if (notFound(e)) return []; throw e; }
      const out = [];
      for await (const [name, handle] of d.entries()) if (handle.kind === 'directory') out.push(name);
      return out;
    },
    async entries(id) {
      const d = await spool(id, false);
      if (!d) return [];
      const out = [];
      for await (const [name, handle] of d.entries()) {
        if (handle.kind !== 'file') continue;
        const file = await handle.getFile();
        out.push([name, file.size, file.lastModified]);
      }
      return out;
    },
    async readText(id, name) {
      const d = await spool(id, false);
      if (!d) return null;
      try { return await (await (await d.getFileHandle(name)).getFile()).text(); } catch (e) {
        if (notFound(e)) return null;
        throw e;
      }
    },
    async write(id, name, data) {
      const handle = await (await spool(id, true)).getFileHandle(name, { create: true });
      const w = await handle.createWritable();
      try {
        for (const piece of Array.isArray(data) ? data : [data]) await w.write(piece);
        await w.close();
      } catch (e) {
        await w.abort().catch(() => {});
        throw e;
      }
    },
    async read(id, name, start, end) {
      const d = await spool(id, false);
      const file = await (await d.getFileHandle(name)).getFile();
      return new Uint8Array(await file.slice(start, end).arrayBuffer());
    },
    async remove(id, name) {
      const d = await spool(id, false);
      if (d) await d.removeEntry(name).catch((e) => { if (!notFound(e)) throw e; });
    },
    async discard(id) {
      const d = await root(true);
      await d.removeEntry(id, { recursive: true }).catch((e) => { if (!notFound(e)) throw e; });
    },
  };
}

function idbStore(dir) {
  let opened;
  const db = () => opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open('oss-append-spool', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('entries');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const key = (id, name) => `${dir}\n${id}\n${name}`;
  const range = (prefix) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);
  const run = async (mode, fn) => {
    const tx = (await db()).transaction('entries', mode);
    const store = tx.objectStore('entries');
    const result = fn(store);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return result.result ?? result.value;
  };
  const request = (req) => {
    const out = {};
    req.onsuccess = () => { out.result = req.result; };
    return out;
  };
  const listed = async (prefix) => {
    const records = await run('readonly', (s) => request(s.getAll(range(prefix))));
    const keys = await run('readonly', (s) => request(s.getAllKeys(range(prefix))));
    return keys.map((k, i) => [k.slice(prefix.length), records[i]]);
  };
  return {
    dir: `idb:${dir}`,
    async ids() {
      const keys = await run('readonly', (s) => request(s.getAllKeys(range(`${dir}\n`))));
      return [...new Set(keys.map((k) => k.split('\n')[1]))];
    },
    async entries(id) {
      return (await listed(`${dir}\n${id}\n`)).map(([name, v]) => [name, v.size, v.modified]);
    },
    async readText(id, name) {
      const v = await run('readonly', (s) => request(s.get(key(id, name))));
      return v ? new TextDecoder().decode(v.data instanceof Blob ? new Uint8Array(await v.data.arrayBuffer()) : v.data)
        : null;
    },
    async write(id, name, data) {
      // A view is stored as its own bytes: structured cloning copies a view's whole buffer.
      let value = typeof data === 'string' ? new TextEncoder().encode(data)
        : Array.isArray(data) ? (data.length === 1 ? data[0] : new Blob(data)) : data;
      if (value instanceof Uint8Array && value.byteLength !== value.buffer.byteLength) value = value.slice();
      const size = value instanceof Blob ? value.size : value.byteLength;
      await run('readwrite', (s) => request(s.put({ data: value, size, modified: Date.now() }, key(id, name))));
    },
    async read(id, name, start, end) {
      const v = await run('readonly', (s) => request(s.get(key(id, name))));
      if (v.data instanceof Blob) return new Uint8Array(await v.data.slice(start, end).arrayBuffer());
      return v.data.subarray(start, end);
    },
    async remove(id, name) {
      await run('readwrite', (s) => request(s.delete(key(id, name))));
    },
    async discard(id) {
      await run('readwrite', (s) => request(s.delete(range(`${dir}\n${id}\n`))));
    },
  };
}

/** `noop` as a value (the settler of bytes a reopened spool queues again). */
export function noopFunction() {
  return noop;
}

/** What `listUnfinished()` resolves for one spool. */
export function unfinished(spool, name, position, pending, updatedAt) {
  return { spool, name, position, pending, updatedAt: new Date(updatedAt) };
}

const held = new Set();

/**
 * Holds spool `id` of `store` for one appender: resolves a function that lets it go, or null when another appender
 * holds it (here, in another tab through the Web Locks API, or in another process through the store's own lock).
 * A crashed tab or process lets go of its locks.
 */
export async function lockSpool(store, id) {
  const name = `oss-append-spool\n${store.dir ?? ''}\n${id}`;
  if (held.has(name)) return null;
  held.add(name);
  const releases = [() => held.delete(name)];
  const release = () => { for (const r of releases.splice(0)) r(); };
  try {
    if (typeof store.lock === 'function') {
      const unlock = await store.lock(id);
      if (!unlock) { release(); return null; }
      releases.push(unlock);
    } else if (typeof globalThis.navigator?.locks?.request === 'function') {
      const unlock = await new Promise((resolve, reject) => {
        navigator.locks.request(name, { ifAvailable: true }, (lock) => {
          if (!lock) { resolve(null); return undefined; }
          return new Promise((done) => resolve(done));
        }).catch(reject);
      });
      if (!unlock) { release(); return null; }
      releases.push(unlock);
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}
