// Bundles the integration tests for the extension host:
//   test/integration/index.ts          -> dist/test/integration/index.js
//   test/integration/suite/*.test.ts   -> dist/test/integration/suite/*.test.js
// One bundle per suite so mocha can add them as files. `vscode` is provided by
// the extension host; mocha is required from node_modules (it loads reporters by name).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const suites = readdirSync('test/integration/suite').filter((f) => f.endsWith('.test.ts'));
const entryPoints = { index: 'test/integration/index.ts' };
for (const f of suites) entryPoints[`suite/${f.replace(/\.ts$/, '')}`] = `test/integration/suite/${f}`;

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
console.log(`[build-tests] bundled ${suites.length} suite(s) into dist/test/integration`);
