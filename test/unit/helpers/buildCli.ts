import * as path from 'node:path';

import * as esbuild from 'esbuild';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/** Builds only the CLI bundle, with the options of esbuild.mjs (other bundles are not ours to rebuild). */
export async function buildCli(): Promise<void> {
  await esbuild.build({
    entryPoints: { cli: path.join(ROOT, 'src/cli/main.ts') },
    bundle: true,
    outdir: path.join(ROOT, 'dist'),
    sourcemap: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    banner: { js: '#!/usr/bin/env node' },
    loader: { '.py': 'text' },
  });
}
