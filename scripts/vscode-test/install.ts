// Where the pieces of the offline "real VS Code" live. setup.sh installs them
// and writes paths.json; everything else finds them through this file.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The fake "VS Code executable" handed to @vscode/test-electron's runTests. */
export const SHIM_PATH = path.join(__dirname, 'code-shim.js');
/** Debian's real binary: the /usr/bin/chromium wrapper script misbehaves under playwright. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/lib/chromium/chromium';

export interface CodeServerInstall {
  codeServerVersion: string;
  /** Node 24: runs code-server and, through it, the extension host. */
  node: string;
  /** code-server's out/node/entry.js */
  codeServerEntry: string;
}

/** Same rule as setup.sh: ${RNN_LAB_CACHE:-$HOME/.cache/rnn-lab}/code-server-<version>. */
export function installDir(): string {
  const versions = JSON.parse(readFileSync(path.join(__dirname, 'versions.json'), 'utf8')) as { codeServer: string };
  const root = process.env.RNN_LAB_CACHE || path.join(homedir(), '.cache', 'rnn-lab');
  return path.join(root, `code-server-${versions.codeServer}`);
}

export function codeServerInstall(): CodeServerInstall {
  const file = path.join(installDir(), 'paths.json');
  if (!existsSync(path.join(installDir(), '.complete')) || !existsSync(file)) {
    throw new Error(`code-server is not installed in ${installDir()}: run bash scripts/vscode-test/setup.sh`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CodeServerInstall;
}
