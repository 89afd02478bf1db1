// Mocha bootstrap that VS Code loads as --extensionTestsPath: it runs inside
// the extension host, so the suites get the real `vscode` API. Bundled by
// scripts/vscode-test/build-tests.mjs to dist/test/integration/index.js, with
// every test/integration/suite/*.test.ts beside it in suite/. mocha itself is
// loaded from node_modules at run time (not bundled: it loads its reporters by name).
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

/** What runTest.ts reads back to print the closing "integration: N passed, M failed" line. */
export interface IntegrationResults {
  passed: number;
  failed: number;
  pending: number;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 30_000 });
  // RNN_LAB_TEST_GREP=pattern runs only the matching tests (while working on one).
  if (process.env.RNN_LAB_TEST_GREP) mocha.grep(process.env.RNN_LAB_TEST_GREP);
  // RNN_LAB_TEST_SUITES=untrusted: the suites runTest.ts runs in a workspace opened in Restricted Mode.
  const suiteDir = path.join(__dirname, process.env.RNN_LAB_TEST_SUITES === 'untrusted' ? 'untrusted' : 'suite');
  // RNN_LAB_TEST_FILES=experiment,panels runs only the suite files whose names contain one of the words.
  const only = process.env.RNN_LAB_TEST_FILES?.split(',').filter(Boolean);
  for (const f of readdirSync(suiteDir).sort()) {
    if (f.endsWith('.test.js') && (!only || only.some((w) => f.includes(w)))) mocha.addFile(path.join(suiteDir, f));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const stats = runner.stats ?? { passes: 0, failures, pending: 0 };
      const results: IntegrationResults = { passed: stats.passes, failed: stats.failures, pending: stats.pending };
      const out = process.env.RNN_LAB_TEST_RESULTS;
      if (out) writeFileSync(out, JSON.stringify(results));
      if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
      else resolve();
    });
  });
}
