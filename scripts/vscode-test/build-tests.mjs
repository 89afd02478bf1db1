// Bundles the integration tests for the extension host:
//   test/integration/index.ts              -> dist/test/integration/index.js
//   test/integration/suite/*.test.ts       -> dist/test/integration/suite/*.test.js
//   test/integration/untrusted/*.test.ts   -> dist/test/integration/untrusted/*.test.js (run in Restricted Mode)
// One bundle per suite so mocha can add them as files. `vscode` is provided by
// the extension host; mocha is required from node_modules (it loads reporters by name).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const entryPoints = { index: 'test/integration/index.ts' };
let suites = 0;
for (const dir of ['suite', 'untrusted']) {
  for (const f of readdirSync(`test/integration/${dir}`).filter((f) => f.endsWith('.test.ts'))) {
    entryPoints[`${dir}/${f.replace(/\.ts$/, '')}`] = `test/integration/${dir}/${f}`;
    suites++;
  }
}

// Start clean so a deleted suite does not linger as a stale bundle.
rmSync('dist/test/integration', { recursive: true, force: true });

await esbuild.build({
  entryPoints,
  outdir: 'dist/test/integration',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'mocha'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log(`[build-tests] bundled ${suites} suite(s) into dist/test/integration`);
