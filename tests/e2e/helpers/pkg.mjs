// Loads the packed-and-installed `oss-append` (see install-pkg.mjs) the way a user's project does.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { CONSUMER, TMP } from './install-pkg.mjs';

export { CONSUMER };
/** The installed package directory (what the tarball unpacked to). */
export const INSTALLED = join(CONSUMER, 'node_modules', 'oss-append');

function ensureInstalled() {
  if (!existsSync(join(INSTALLED, 'package.json')) || !existsSync(join(CONSUMER, 'esm.mjs'))) {
    throw new Error('the packed oss-append is not installed in tests/e2e/.tmp/consumer: run tests/e2e/run.sh, ' +
      'or node tests/e2e/helpers/install-pkg.mjs after building pkg/');
  }
}

/** `import OSS, { OSS, crc64, Crc64, combineCrc64 } from 'oss-append'` as a user's ESM code sees it. */
export async function loadEsm() {
  ensureInstalled();
  return import(pathToFileURL(join(CONSUMER, 'esm.mjs')).href);
}

/** `require('oss-append')` as a user's CommonJS code sees it. */
export function loadCjs() {
  ensureInstalled();
  return createRequire(join(CONSUMER, 'cjs.cjs'))(join(CONSUMER, 'cjs.cjs'));
}

/** What `npm pack` reported: { filename, files: [{ path, size }], ... }. */
export function packInfo() {
  ensureInstalled();
  return JSON.parse(readFileSync(join(TMP, 'pack.json'), 'utf8'));
}

/** The installed package.json. */
export function installedManifest() {
  ensureInstalled();
  return JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8'));
}
