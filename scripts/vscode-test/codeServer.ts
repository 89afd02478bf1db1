// Start a real VS Code (code-server: the VS Code server plus its web
// workbench) and a headless Chromium to show it. Both the integration runner
// (runInBrowser.ts) and the UI harness (test/e2e/harness.ts) build on this.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH, codeServerInstall } from './install';

export interface CodeServerOptions {
  /** Folder the workbench opens. Created if missing. Default: a folder inside `tmp`. */
  workspace?: string;
  /** Files to write into the workspace first: relative path -> content. */
  files?: Record<string, string>;
  /** .vsix files installed before start (a folder is not accepted by code-server). */
  installVsix?: string[];
  /** Extra user settings (merged over quiet defaults). */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and so for the extension host. */
  env?: Record<string, string>;
  /**
   * Start with --vscode-option enable-smoke-test-driver, which makes the workbench read
   * ?payload= (extensionDevelopmentPath, extensionTestsPath). It also suppresses
   * notification toasts, so leave it off (the default) for UI tests.
   */
  smokeTestDriver?: boolean;
  /** Keep the temp folder (logs, user data) after stop(). Default: env KEEP_TMP. */
  keepTmp?: boolean;
  /**
   * Workspace trust on, without the startup prompt: the folder opens in
   * Restricted Mode (never trusted before). Default: off, every folder trusted.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  workspace: string;
  /** Temp folder with code-server.log, the user data and extensions dirs. */
  tmp: string;
  logFile: string;
  /** Environment with HOME/XDG_* inside tmp: hand it to anything else you start. */
  isolatedEnv: Record<string, string>;
  /** vscode-remote:// URI of a server-side path: puts extensions/tests in the Node extension host. */
  remoteUri(absPath: string): string;
  /** Workbench URL opening `workspace`, with an optional smoke-test payload. */
  workbenchUrl(payload?: [string, string][]): string;
  stop(options?: { keepTmp?: boolean }): void;
}

const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  // RNN Lab opens its walkthrough on first install unless this is off; the walkthrough's e2e test turns it on.
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  const install = codeServerInstall();
  const tmp = mkdtempSync(path.join(tmpdir(), 'rnn-lab-vscode-'));
  const j = (p: string) => path.join(tmp, p);
  const workspace = path.resolve(opts.workspace ?? j('workspace'));
  // code-server writes config, logs and caches under HOME/XDG_*: keep them out of the real home.
  const isolatedEnv = { HOME: j('home'), XDG_CONFIG_HOME: j('xdg-config'), XDG_DATA_HOME: j('xdg-data'), XDG_CACHE_HOME: j('xdg-cache'), TMPDIR: j('t') };
  for (const d of [...Object.values(isolatedEnv), j('user-data/User'), j('extensions'), workspace]) mkdirSync(d, { recursive: true });
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    mkdirSync(path.dirname(path.join(workspace, rel)), { recursive: true });
    writeFileSync(path.join(workspace, rel), content);
  }
  const trust = opts.workspaceTrust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {};
  writeFileSync(j('user-data/User/settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...trust, ...opts.settings }, null, 2));

  const port = await freePort();
  // auth: none + loopback only: this is a throwaway server for one test run.
  writeFileSync(j('config.yaml'), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  // EXTENSIONS_GALLERY={} : no marketplace, so nothing tries the network.
  const env = { ...process.env, ...opts.env, ...isolatedEnv, EXTENSIONS_GALLERY: '{}' } as Record<string, string>;
  const common = [install.codeServerEntry, '--config', j('config.yaml'), '--user-data-dir', j('user-data'), '--extensions-dir', j('extensions')];

  for (const vsix of opts.installVsix ?? []) {
    execFileSync(install.node, [...common, '--install-extension', path.resolve(vsix)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  }

  const logFile = j('code-server.log');
  const log = openSync(logFile, 'w');
  const args = [...common, '--disable-telemetry', '--disable-update-check', '--ignore-last-opened'];
  if (!opts.workspaceTrust) args.push('--disable-workspace-trust');
  if (opts.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(workspace);
  // detached: its own process group, so stop() also ends the extension host and other children.
  const server: ChildProcess = spawn(install.node, args, { env, stdio: ['ignore', log, log], detached: true });
  let stopped = false;
  const kill = () => {
    if (stopped) return;
    stopped = true;
    try { process.kill(-server.pid!, 'SIGTERM'); } catch { /* already gone */ }
  };
  process.once('exit', kill);

  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${url}/healthz`)).ok) break; } catch { /* not listening yet */ }
    if (server.exitCode !== null || i > 600) { kill(); throw new Error(`code-server did not start, see ${logFile}`); }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url, port, workspace, tmp, logFile, isolatedEnv,
    remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`,
    workbenchUrl: (payload) =>
      `${url}/?folder=${encodeURIComponent(workspace)}` + (payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''),
    stop: ({ keepTmp } = {}) => {
      kill();
      process.removeListener('exit', kill);
      if (!(keepTmp ?? opts.keepTmp ?? !!process.env.KEEP_TMP)) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Headless Debian Chromium. The flags keep it off this machine's closed network. */
export function launchChromium(env: Record<string, string> = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    env: { ...process.env, ...env } as Record<string, string>,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
