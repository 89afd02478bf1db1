import * as path from 'node:path';

import * as esbuild from 'esbuild';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/**
 * Builds only the CLI bundle, with the options of esbuild.mjs (other bundles
 * are not ours to rebuild), to dist/cli.js or to `outfile` — a test that
 * must never race another over dist/cli.js builds its own.
 */
export async function buildCli(outfile = CLI): Promise<string> {
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
    bundle: true,
    outfile,
    sourcemap: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    banner: { js: '#!/usr/bin/env node' },
    loader: { '.py': 'text' },
  });
  return outfile;
}
