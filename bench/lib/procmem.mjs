// Resident memory from /proc: the peak (VmHWM) can be reset to the current RSS by writing 5 to clear_refs, so the
// peak growth of a step is VmHWM after it minus VmRSS at the reset, exactly, without sampling.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

export function status(pid = 'self') {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number((text.match(new RegExp(`^${name}:\\s*(\\d+) kB`, 'm')) ?? [])[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets the peak RSS of `pid` to its current RSS; returns that RSS (bytes). */
export function resetPeak(pid = 'self') {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return status(pid).rss;
}

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

function cmdline(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return []; }
}

/** `root` (a Chromium browser process) and its live descendants that are Chromium processes: [{ pid, type }]. */
export function chromiumProcesses(root) {
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(pids.map((p) => [p, parentOf(p)]));
  const descends = (p) => {
    for (let q = parent.get(p), hops = 0; q > 1 && hops < 64; q = parent.get(q) ?? -1, hops++) if (q === root) return true;
    return false;
  };
  // Chromium's child processes rewrite their command line as one space-separated string, so match on the text.
  return pids.filter((p) => p === root || descends(p)).map((pid) => ({ pid, text: cmdline(pid).join(' ') }))
    .filter(({ text }) => /chrom/i.test(text))
    .map(({ pid, text }) => {
      const type = (/--type=(\S+)/.exec(text) ?? [])[1] ?? 'browser';
      const sub = (/--utility-sub-type=(\S+)/.exec(text) ?? [])[1]?.replace(/\.mojom\./, ' ');
      return { pid, type: sub ? `${type} (${sub})` : type };
    });
}
