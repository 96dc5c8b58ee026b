// The emulator's own ceiling: its native Rust client (emulator/examples/throughput.rs) appending 1 GiB in 8 MiB
// parts over one keep-alive loopback connection to the same emulator the JS clients use.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { log, median } from './stats.mjs';

export async function emulatorCeiling({ root, emu, passes }) {
  const bin = join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'release', 'examples', 'throughput');
  if (!existsSync(bin)) return { problem: `${bin} not built (cargo build --release -p oss-append-emulator --example throughput)` };
  log(`emulator ceiling: native client, 1 GiB in 8 MiB parts, ${passes} passes`);
  await emu.reset();
  const { stdout, error, stderr } = await new Promise((res) => execFile(bin,
    ['--url', emu.url, '--total', '1g', '--part', '8m', '--passes', String(passes)],
    { timeout: 300_000 }, (err, out, errOut) => res({ stdout: out, stderr: errOut, error: err })));
  await emu.reset();
  if (error) return { problem: `throughput example failed: ${(stderr || error.message).trim().split('\n').pop()}` };
  const samples = [...stdout.matchAll(/^pass \d+: .* ([\d.]+) MB\/s$/gm)].map((m) => Number(m[1]));
  if (!samples.length) return { problem: `no pass lines in: ${stdout.slice(0, 200)}` };
  return { mbps: median(samples), samples };
}
