// The machine description for RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).trim();
  } catch {
    return 'unknown';
  }
}

export function loadavg() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).join(' ');
  } catch {
    return os.loadavg().map((x) => x.toFixed(2)).join(' ');
  }
}

export function describeMachine(chromium) {
  const cpuinfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
  const field = (name) => (cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm')) ?? [])[1]?.trim();
  const flags = field('flags') ?? '';
  const osRelease = (() => {
    try { return readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1]; } catch { return undefined; }
  })();
  return {
    cpu: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    pclmulqdq: /\bpclmulqdq\b/.test(flags),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${osRelease ?? os.type()} (kernel ${os.release()}, ${os.arch()})`,
    node: process.version,
    chromium: tryRun(chromium, ['--version']).replace(/\s+built on.*$/, ''),
    rustc: tryRun('rustc', ['--version']),
  };
}
