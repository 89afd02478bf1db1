// Builds the native product kernels (products.c) into dist/native/products.node
// with the machine's C compiler against Node's own headers (Node-API, so one
// build serves every Node and Electron of the platform). Optional by design:
// where there is no compiler or no headers the build says so in one line and
// the engine runs its WebAssembly kernels, so `npm ci && npm test` never
// depends on it. RNN_LAB_NATIVE_REQUIRED=1 makes a failed build an error (CI,
// where a compiler is known to be there).
//
// Incremental: does nothing when the output is newer than this script and the source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const source = path.join(here, 'products.c');
export const nativeOutput = path.join(root, 'dist', 'native', 'products.node');

/** Node's header folder: beside the running binary (distributions, nvm), or node-gyp's cache. */
function nodeHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const version = process.versions.node;
  const home = process.env.HOME ?? '';
  const candidates = [
    path.join(prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
    path.join(home, '.cache', 'node-gyp', version, 'include', 'node'),
  ];
  return candidates.find((d) => existsSync(path.join(d, 'node_api.h'))) ?? null;
}

export function buildNative({ force = false } = {}) {
  const newest = Math.max(statSync(source).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
  if (!force && existsSync(nativeOutput) && statSync(nativeOutput).mtimeMs >= newest) return { built: false, ok: true };
  const fail = (why) => {
    const message = `native kernels not built (${why}); the WebAssembly kernels will be used`;
    if (process.env.RNN_LAB_NATIVE_REQUIRED === '1') throw new Error(message);
    console.warn(message);
    return { built: false, ok: false, message };
  };
  if (process.platform === 'win32') return fail('no Windows build yet');
  const headers = nodeHeaders();
  if (!headers) return fail("Node's headers (node_api.h) not found");
  const cc = process.env.CC ?? 'cc';
  mkdirSync(path.dirname(nativeOutput), { recursive: true });
  const tmp = `${nativeOutput}.${process.pid}.tmp`;
  const args = [
    '-O3', '-std=gnu11', '-shared', '-fPIC', '-fvisibility=hidden', '-fno-math-errno',
    // No contraction into FMA: Adam must round exactly where the TypeScript optimizer does (the products call FMA explicitly).
    '-ffp-contract=off',
    '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', headers,
    ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []),
    '-o', tmp, source, '-lpthread', '-ldl',
  ];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error) return fail(`${cc}: ${r.error.message}`);
  if (r.status !== 0) return fail(`${cc} exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' | ')}`);
  renameSync(tmp, nativeOutput);
  return { built: true, ok: true };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = buildNative({ force: process.argv.includes('--force') });
    if (r.built) console.log('native kernels built');
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
