// Packs pkg/ with `npm pack` and installs the tarball into a throwaway consumer project (tests/e2e/.tmp/consumer), so
// that the suites load `oss-append` exactly as a user's project would: through the package's `exports` map, with only
// the files the tarball ships. Run: node helpers/install-pkg.mjs   (tests/e2e/run.sh does it)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const E2E = resolve(HERE, '..');
const REPO_ROOT = resolve(E2E, '..', '..');
export const PKG_DIR = process.env.OSS_APPEND_PKG || join(REPO_ROOT, 'pkg');
export const TMP = join(E2E, '.tmp');
export const CONSUMER = join(TMP, 'consumer');

const run = (cmd, args, cwd) => execFileSync(cmd, args, {
  cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
});

export function installPackedPackage() {
  if (!existsSync(join(PKG_DIR, 'package.json'))) {
    throw new Error(`${PKG_DIR}/package.json is missing: build the package first (scripts/build-pkg.sh or make pkg)`);
  }
  mkdirSync(TMP, { recursive: true });
  for (const f of readdirSync(TMP)) if (f.endsWith('.tgz')) rmSync(join(TMP, f));
  const packed = JSON.parse(run('npm', ['pack', PKG_DIR, '--json', '--pack-destination', TMP], E2E));
  const tarball = join(TMP, packed[0].filename);
  writeFileSync(join(TMP, 'pack.json'), JSON.stringify(packed[0], null, 2));

  rmSync(CONSUMER, { recursive: true, force: true });
  mkdirSync(CONSUMER, { recursive: true });
  writeFileSync(join(CONSUMER, 'package.json'), JSON.stringify({
    name: 'oss-append-consumer', version: '0.0.0', private: true, type: 'module',
  }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', tarball], CONSUMER);
  // How a user's code imports it: ESM (the `node` + `import` condition) and CommonJS (`node` + `require`).
  writeFileSync(join(CONSUMER, 'esm.mjs'),
    "export { default, OSS, crc64, Crc64, combineCrc64 } from 'oss-append';\n" +
    "export * as namespace from 'oss-append';\n");
  writeFileSync(join(CONSUMER, 'cjs.cjs'), "module.exports = require('oss-append');\n");
  const installed = JSON.parse(readFileSync(join(CONSUMER, 'node_modules', 'oss-append', 'package.json'), 'utf8'));
  return { tarball, version: installed.version, files: packed[0].files.map((f) => f.path) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = installPackedPackage();
  console.log(`installed oss-append@${r.version} from ${r.tarball} (${r.files.length} files)`);
}
