// `npm run test:integration` entry: runs the mocha suites in a real VS Code
// through @vscode/test-electron's runTests().
//
// Offline (the default here): runTests gets scripts/vscode-test/code-shim.js as
// its "VS Code executable"; the shim runs the same extension + tests in
// code-server (the VS Code server and web workbench) shown by headless
// Chromium. With RNN_LAB_VSCODE=download, runTests downloads desktop VS Code
// as usual (needs internet, and a display or xvfb-run on Linux).
//
// Two sessions: the suites of suite/ in a trusted workspace, then those of
// untrusted/ in a workspace opened in Restricted Mode.
//
// Prints the mocha output, then a closing "integration: N passed, M failed" line.
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, SHIM_PATH } from '../../scripts/vscode-test/install';
import type { IntegrationResults } from './index';
import { workspaceSettingsJson } from './untrusted/settings';

interface RunResult extends IntegrationResults {
  ok: boolean;
}

/** One VS Code session: a fresh workspace with `files`, the suites of `suites`, results read back. */
async function runSuites(suites: 'suite' | 'untrusted', files: Record<string, string>, env: Record<string, string> = {}): Promise<RunResult> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'rnn-lab-it-'));
  // A fresh workspace per run: the suites may write into it.
  const workspace = path.join(tmp, 'workspace');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    writeFileSync(path.join(workspace, rel), content);
  }
  const resultsFile = path.join(tmp, 'results.json');

  const download = process.env.RNN_LAB_VSCODE === 'download';
  let ok = true;
  try {
    await runTests({
      ...(download ? {} : { vscodeExecutablePath: SHIM_PATH }),
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: path.join(REPO_ROOT, 'dist/test/integration/index.js'),
      launchArgs: [workspace, '--disable-extensions'],
      extensionTestsEnv: {
        RNN_LAB_TEST_RESULTS: resultsFile,
        RNN_LAB_TEST_WORKSPACE: workspace,
        RNN_LAB_TEST_SUITES: suites,
        ...(process.env.RNN_LAB_TEST_GREP ? { RNN_LAB_TEST_GREP: process.env.RNN_LAB_TEST_GREP } : {}),
        ...(process.env.RNN_LAB_TEST_FILES ? { RNN_LAB_TEST_FILES: process.env.RNN_LAB_TEST_FILES } : {}),
        ...env,
      },
    });
  } catch (err) {
    ok = false;
    console.error(`integration (${suites}): ${(err as Error).message ?? err}`);
  }

  // No results file means the run died before mocha finished: count that as a failure.
  const r: IntegrationResults = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as IntegrationResults)
    : { passed: 0, failed: 1, pending: 0 };
  rmSync(tmp, { recursive: true, force: true });
  return { ...r, ok };
}

async function main(): Promise<number> {
  const trusted = await runSuites('suite', { 'sample.txt': 'the quick brown fox jumps over the lazy dog\n' });
  // RNN_LAB_TEST_TRUSTED_ONLY=1 skips the Restricted Mode session; with RNN_LAB_TEST_FILES, it runs only if one of its files is named.
  const only = process.env.RNN_LAB_TEST_FILES?.split(',').filter(Boolean);
  const skipUntrusted = process.env.RNN_LAB_TEST_TRUSTED_ONLY === '1'
    || (only !== undefined && !readdirSync(path.join(REPO_ROOT, 'test/integration/untrusted')).some((f) => only.some((w) => f.includes(w))));
  // Restricted Mode: a workspace that asks for what only the user may grant (see untrusted/).
  const untrusted = skipUntrusted ? { passed: 0, failed: 0, pending: 0, ok: true } : await runSuites(
    'untrusted',
    { '.vscode/settings.json': workspaceSettingsJson(), 'sample.txt': 'the quick brown fox\n' },
    // Desktop VS Code (RNN_LAB_VSCODE=download) takes trust from its own flags; the shim reads this.
    { RNN_LAB_TEST_WORKSPACE_TRUST: '1' },
  );
  const r = { passed: trusted.passed + untrusted.passed, failed: trusted.failed + untrusted.failed, pending: trusted.pending + untrusted.pending };
  console.log(`integration: ${r.passed} passed, ${r.failed} failed` + (r.pending ? `, ${r.pending} skipped` : ''));
  return trusted.ok && untrusted.ok && r.failed === 0 && r.passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log('integration: 0 passed, 1 failed');
    process.exit(1);
  },
);
