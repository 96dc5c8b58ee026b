// A dedicated module Worker that records with a spool, for browser-spool.test.mjs: 'record' writes the first bytes
// and waits for them to land, 'more' writes the rest and waits until they are spooled, 'resume' lists the spools and
// reopens one. The bytes are Pattern(seed), as in the test.
import OSS from '/pkg/web.js';
import { Pattern } from '/streams.js';

let w;
self.onmessage = async ({ data: { cmd, options, key, first, offline, seed } }) => {
  try {
    const recording = new Pattern(seed);
    const pattern = (from, to) => recording.read(from, to - from);
    const client = new OSS(options);
    if (cmd === 'record') {
      w = await client.openAppender(key, { spool: 'rec-worker', minPartSize: 0, maxRetryDelay: 600_000 });
      await w.write(pattern(0, first));
      self.postMessage({ ok: true, position: w.position });
    } else if (cmd === 'more') {
      for (let at = first; at < first + offline; at += 256 * 1024) {
        w.write(pattern(at, Math.min(at + 256 * 1024, first + offline))).catch(() => {});
      }
      const t0 = Date.now();
      while (w.spooled < first + offline) {
        if (Date.now() - t0 > 20_000) throw new Error(`spooled ${w.spooled} of ${first + offline}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      self.postMessage({ ok: true, spooled: w.spooled, buffered: w.buffered, position: w.position });
    } else if (cmd === 'resume') {
      const listed = (await client.listUnfinished()).map((l) => ({ ...l, updatedAt: typeof l.updatedAt.getTime() }));
      const again = await client.openAppender(key, { spool: 'rec-worker' });
      const closed = await again.close();
      self.postMessage({ ok: true, listed, closed, after: await client.listUnfinished() });
    }
  } catch (err) {
    self.postMessage({ ok: false, error: `${err.name}: ${err.message}` });
  }
};
self.postMessage({ ready: true });
