// Runs an extension's test suite in code-server + headless Chromium, the way
// desktop VS Code runs it for @vscode/test-electron: the workbench loads the
// extension under development and the tests in the (server-side, Node) extension
// host, then reports the result through the smoke-test driver hooks
// codeAutomationLog / codeAutomationExit, which we expose on the page.
import { appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { launchChromium, startCodeServer } from './codeServer';

export interface BrowserTestRun {
  extensionDevelopmentPath: string;
  /** Module exporting run(): Promise<void> (the mocha bootstrap). */
  extensionTestsPath: string;
  workspace?: string;
  disableExtensions?: boolean;
  /** Environment for the extension host. */
  extensionTestsEnv?: Record<string, string>;
  timeoutMs?: number;
  /** Save a PNG of the workbench when the run ends. */
  screenshot?: string;
}

// Workbench chatter that says nothing about the tests (shown with VERBOSE=1).
const NOISE = /^(Creating a socket|Resolv|\[AgentHost|\[AccountPolicyGate|\[Service Worker|Creation of workbench|Started|Completed initializing|\[reconnection|Timed out waiting for authentication|Ignoring fetching|Updating additional|No search provider|\[Extension Host\] (Extension Host|Debugger|Loading|ExtensionService))/;

/** Returns the exit code the test runner reported (0 = all passed), or 1 on timeout. */
export async function runExtensionTestsInBrowser(run: BrowserTestRun): Promise<number> {
  const t0 = Date.now();
  // smokeTestDriver: without it the workbench ignores ?payload=.
  // RNN_LAB_TEST_WORKSPACE_TRUST=1 (from runTests' extensionTestsEnv): the workspace opens untrusted.
  const workspaceTrust = process.env.RNN_LAB_TEST_WORKSPACE_TRUST === '1';
  const server = await startCodeServer({ workspace: run.workspace, env: run.extensionTestsEnv, smokeTestDriver: true, workspaceTrust });
  const workbenchLog = path.join(server.tmp, 'workbench.log');
  console.log(`[vscode-test] code-server up in ${Date.now() - t0} ms (logs: ${server.tmp})`);
  const browser = await launchChromium(server.isolatedEnv);
  let code: number | 'timeout' = 'timeout';
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let exited!: (code: number) => void;
    const exit = new Promise<number>((r) => (exited = r));
    // The workbench calls these (smoke-test driver) with every console line of the
    // renderer and extension host, and with the test runner's exit code.
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      appendFileSync(workbenchLog, `[${type}] ${line}\n`);
      if (process.env.VERBOSE || !NOISE.test(line)) console.log(line);
    });
    await page.exposeFunction('codeAutomationExit', (c: number) => exited(c));

    const payload: [string, string][] = [
      ['extensionDevelopmentPath', server.remoteUri(run.extensionDevelopmentPath)],
      ['extensionTestsPath', server.remoteUri(run.extensionTestsPath)],
    ];
    if (run.disableExtensions) payload.push(['disableExtensions', 'true']);
    if (run.extensionTestsEnv) payload.push(['extensionEnvironment', JSON.stringify(run.extensionTestsEnv)]);
    await page.goto(server.workbenchUrl(payload));

    const timeoutMs = run.timeoutMs ?? Number(process.env.RNN_LAB_TEST_TIMEOUT_MS || 600_000);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    code = await Promise.race([exit, timedOut]);
    clearTimeout(timer);
    if (code === 'timeout') console.error(`[vscode-test] no result after ${timeoutMs} ms; workbench log: ${workbenchLog}`);
    if (run.screenshot) await page.screenshot({ path: run.screenshot }).catch(() => undefined);
  } finally {
    await browser.close().catch(() => undefined);
    server.stop({ keepTmp: code !== 0 || !!process.env.KEEP_TMP }); // keep logs of a failed run
  }
  console.log(`[vscode-test] exit ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return code === 0 ? 0 : 1;
}
