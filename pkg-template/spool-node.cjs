'use strict';
// Where Node keeps recording spools: one directory per spool under spoolDir, one file per entry. An entry is
// written to a temporary name, flushed to disk, renamed into place and its directory synced, so a crash (or a power
// cut) at any moment leaves it whole or absent (leftovers of an interrupted write end in .tmp, which the spool's
// survey deletes).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

/**
 * The default spoolDir: the user's state directory, which a process crash or a reboot leaves alone (the OS temp
 * directory may be cleaned at boot). Linux and others: $XDG_STATE_HOME/oss-append/spool (~/.local/state/...);
 * macOS: ~/Library/Application Support/oss-append/spool; Windows: %LOCALAPPDATA%\oss-append\spool.
 */
function defaultSpoolDir() {
  const home = os.homedir();
  if (process.platform === 'win32') {
    return path.join(process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'oss-append', 'spool');
  }
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'oss-append', 'spool');
  return path.join(process.env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'oss-append', 'spool');
}

/** Whether process `pid` runs (EPERM: it does, as another user). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const missing = (e) => e && (e.code === 'ENOENT' || e.code === 'ENOTDIR');

async function syncDir(dir) {
  let fd;
  try {
    fd = await fs.promises.open(dir, 'r');
    await fd.sync();
  } catch { /* some platforms cannot open a directory: the rename is as durable as they make it */ }
  finally { await fd?.close(); }
}

function nodeStore(dir) {
  const root = path.resolve(dir ?? defaultSpoolDir());
  const at = (id, name) => (name === undefined ? path.join(root, id) : path.join(root, id, name));
  return {
    dir: root,
    async ids() {
      try {
        return (await fs.promises.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
      } catch (e) {
        if (missing(e)) return [];
        throw e;
      }
    },
    async entries(id) {
      let names;
      try { names = await fs.promises.readdir(at(id)); } catch (e) { if (missing(e)) return []; throw e; }
      const out = [];
      for (const name of names) {
        try {
          const st = await fs.promises.stat(at(id, name));
          if (st.isFile()) out.push([name, st.size, st.mtimeMs]);
        } catch (e) { if (!missing(e)) throw e; }
      }
      return out;
    },
    async readText(id, name) {
      try { return await fs.promises.readFile(at(id, name), 'utf8'); } catch (e) { if (missing(e)) return null; throw e; }
    },
    /** Writes `data` (a string, bytes, a Blob, or an array of byte arrays and Blobs, one after the other) whole. */
    async write(id, name, data) {
      const pieces = [];
      for (const piece of Array.isArray(data) ? data : [data]) {
        pieces.push(typeof piece === 'string' ? Buffer.from(piece)
          : piece instanceof Uint8Array ? piece : new Uint8Array(await piece.arrayBuffer()));
      }
      const created = await fs.promises.mkdir(at(id), { recursive: true });
      const tmp = at(id, `${name}.${crypto.randomBytes(4).toString('hex')}.tmp`);
      const fd = await fs.promises.open(tmp, 'w', 0o600);
      try {
        let position = 0;
        for (const piece of pieces) {
          for (let done = 0; done < piece.byteLength;) {
            const { bytesWritten } = await fd.write(piece, done, piece.byteLength - done, position);
            done += bytesWritten;
            position += bytesWritten;
          }
        }
        await fd.datasync();
      } finally {
        await fd.close();
      }
      await fs.promises.rename(tmp, at(id, name));
      // The rename lives in the directory: until that is synced too, a power cut can undo it.
      await syncDir(at(id));
      if (created) await syncDir(root);
    },
    async read(id, name, start, end) {
      const fd = await fs.promises.open(at(id, name), 'r');
      try {
        const out = new Uint8Array(end - start);
        let filled = 0;
        while (filled < out.byteLength) {
          const { bytesRead } = await fd.read(out, filled, out.byteLength - filled, start + filled);
          if (bytesRead === 0) throw new Error(`spool entry ${name} is shorter than its name says`);
          filled += bytesRead;
        }
        return out;
      } finally {
        await fd.close();
      }
    },
    async remove(id, name) {
      await fs.promises.unlink(at(id, name)).catch((e) => { if (!missing(e)) throw e; });
    },
    /** Holds spool `id` for this process (a lock file with its pid; a dead process's lock is taken over). */
    async lock(id) {
      // A dot first: no spool id starts with one, so no spool's directory can have this name.
      const file = path.join(root, `.${id}.lock`);
      await fs.promises.mkdir(root, { recursive: true });
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await fs.promises.writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
          return () => { try { fs.unlinkSync(file); } catch { /* already gone */ } };
        } catch (e) {
          if (e.code !== 'EEXIST') throw e;
        }
        const pid = Number(await fs.promises.readFile(file, 'utf8').catch(() => ''));
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) return null;
        await fs.promises.unlink(file).catch(() => {});
      }
      return null;
    },
    async discard(id) {
      await fs.promises.rm(at(id), { recursive: true, force: true });
    },
  };
}

module.exports = { nodeStore, defaultSpoolDir };
