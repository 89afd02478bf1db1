// One build for every bundle. Node bundles (CLI, benchmark; later the
// extension host and its workers) and browser bundles (webviews) are listed
// separately so each gets the right platform.
import * as esbuild from 'esbuild';
import { chmodSync } from 'node:fs';
import { buildNative } from './src/engine/native/build.mjs';
import { buildWasm } from './src/engine/wasm/build.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions[]} */
const nodeBundles = [
  { entryPoints: { cli: 'src/cli/main.ts' }, banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: { bench: 'bench/bench.ts' } },
  { entryPoints: { 'bench-quality': 'bench/quality.ts' } },
  // The extension host provides `vscode`; never bundle it.
  { entryPoints: { extension: 'src/extension/extension.ts' }, external: ['vscode'] },
  // Worker threads of the extension host: training, and inference for completions.
  { entryPoints: { 'trainer-worker': 'src/worker/trainerMain.ts', 'inference-worker': 'src/worker/inferenceMain.ts' } },
  // The experiment thread: a trainer that runs a whole *.rnnlab.json through the shared experiment runner.
  { entryPoints: { 'experiment-worker': 'src/worker/experimentMain.ts' } },
];

/** @type {import('esbuild').BuildOptions[]} */
const browserBundles = [
  // One bundle per webview panel (chart.js and @vscode-elements are bundled in; the page loads nothing else).
  { entryPoints: { 'webview/loss': 'webview/loss/main.ts' } },
  { entryPoints: { 'webview/hidden': 'webview/hidden/main.ts' } },
  { entryPoints: { 'webview/gradflow': 'webview/gradflow/main.ts' } },
  { entryPoints: { 'webview/experiment': 'webview/experiment/main.ts' } },
  // KaTeX's style sheet and fonts for the gradient-flow panel's equations (the page links it; woff2 is what a webview loads).
  { entryPoints: { 'webview/katex': 'node_modules/katex/dist/katex.min.css' }, loader: { '.woff2': 'file', '.woff': 'empty', '.ttf': 'empty' }, assetNames: 'webview/fonts/[name]' },
];

const common = {
  bundle: true,
  outdir: 'dist',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // The exported PyTorch project's sources (pytorch/*.py) are bundled as text.
  loader: { '.py': 'text' },
};

const builds = [
  ...nodeBundles.map((b) => ({ ...common, platform: 'node', target: 'node20', format: 'cjs', ...b })),
  ...browserBundles.map((b) => ({ ...common, platform: 'browser', target: 'es2022', format: 'iife', ...b })),
];

// The WebAssembly kernels (AssemblyScript → .wasm, embedded as base64) come first: the engine imports them.
await buildWasm();
// The native products (dist/native/products.node) where a C compiler and Node's headers are there; optional.
buildNative();

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync('dist/cli.js', 0o755);
}
