/**
 * No engine work on the extension host's thread: the extension bundle may
 * hold engine types, settings checks and the memory estimate, never the
 * kernels, the wasm binaries, the checkpoint decoder, the graph or sampling
 * (those run in the workers, asked through their channels).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { it } from 'node:test';
import { buildSync } from 'esbuild';

import { PURE_ENGINE } from '../../scripts/lint/boundaries.mjs';

const root = path.resolve(__dirname, '..', '..');

/** Engine modules the extension may bundle (the lint rule's list): pure helpers and what the model families are, no numeric work. */
const PURE = new RegExp(`^src/engine/(${PURE_ENGINE.map((m) => m.replace('*', '[a-z0-9]+')).join('|')})\\.ts$`);

it('the extension host bundle holds only pure engine helpers', () => {
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: ['src/extension/extension.ts'],
    bundle: true,
    platform: 'node',
    external: ['vscode'],
    write: false,
    metafile: true,
    outfile: 'extension.js',
    logLevel: 'error',
    loader: { '.py': 'text' },
  });
  const engine = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('src/engine/'));
  assert.ok(engine.includes('src/engine/config.ts'), 'the settings checks are bundled (the check sees the engine at all)');
  assert.deepEqual(engine.filter((f) => !PURE.test(f)), [], 'engine modules bundled into the extension host');
});
