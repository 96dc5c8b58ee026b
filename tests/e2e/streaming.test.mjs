// Streaming and fault tolerance in Node, on the packed package: openAppender (coalescing, part sizes, flushInterval,
// creation attributes, backpressure of .writable, close and abort), 'resume', another writer, progress across
// retries, bad input, and recovery from every emulator fault in the middle of a stream. The same cases run in
// headless Chromium (browser-streaming.test.mjs); they are listed in helpers/streaming-cases.mjs.
import { after, before, describe, test } from 'node:test';

import { startEmulator } from '../support/emulator.mjs';
import { loadEsm } from './helpers/pkg.mjs';
import { CASES } from './helpers/streaming-cases.mjs';
import { assertDigest, controller } from './helpers/streaming.mjs';
import { uniqueKey } from './helpers/util.mjs';
import * as scenarios from './pages/scenarios.js';
import { runUpload } from './pages/streams.js';

const T = { timeout: 60_000 };
const RUN = { ...scenarios, runUpload };

let OSS;
let emu;
before(async () => {
  ({ default: OSS } = await loadEsm());
  emu = await startEmulator({ stsToken: 'sts-token-streaming' });
});
after(async () => { await emu?.stop(); });

const groups = [...new Set(CASES.map((c) => c.group))];
for (const group of groups) {
  describe(group, () => {
    for (const [i, c] of CASES.entries()) {
      if (c.group !== group || c.node === false) continue;
      test(c.name, T, async () => {
        const key = uniqueKey(`streaming-${c.scenario}`);
        const { control, stats } = controller(emu, OSS);
        // credentials of its own: the STS expiry cases expire every token issued so far
        const options = emu.clientOptions(await emu.issueCredentials());
        const ctx = {
          emu, key, seed: 1000 + i, stats, options,
          log: () => control('requests', { key }),
          assertDigest: (want, message) => assertDigest(emu, key, want, message),
        };
        const cfg = c.cfg ? c.cfg(ctx) : { options, key, seed: ctx.seed };
        try {
          const out = await RUN[c.scenario](OSS, cfg, control);
          await c.check(out, ctx);
        } finally {
          await emu.setClockOffset(0);
        }
      });
    }
  });
}
