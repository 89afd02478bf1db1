#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's
// runTests({ vscodeExecutablePath }): it reads the Electron command line that
// runTests builds (--extensionDevelopmentPath=, --extensionTestsPath=, a
// workspace folder, --disable-extensions, ...) and runs the same tests in
// code-server + headless Chromium instead (runInBrowser.ts), exiting with the
// test result. Plain JS so it can be spawned directly; it loads the TypeScript
// through tsx.
'use strict';
const path = require('node:path');

const VALUE_FLAGS = new Set(['extensionDevelopmentPath', 'extensionTestsPath', 'user-data-dir', 'extensions-dir', 'locale']);
const opts = { dev: [], positional: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([^=]+)(?:=(.*))?$/s.exec(argv[i]);
  if (!m) { opts.positional.push(argv[i]); continue; }
  const [, name, inline] = m;
  const value = inline ?? (VALUE_FLAGS.has(name) ? argv[++i] : undefined);
  if (name === 'extensionDevelopmentPath') opts.dev.push(value);
  else if (name === 'extensionTestsPath') opts.tests = value;
  else if (name === 'disable-extensions') opts.disableExtensions = true;
  // Everything else (--no-sandbox, --user-data-dir, --skip-welcome, ...) is
  // Electron/desktop-only; the browser run uses its own throwaway dirs.
}
if (!opts.dev.length || !opts.tests) {
  console.error('code-shim: expected --extensionDevelopmentPath= and --extensionTestsPath=');
  process.exit(2);
}
if (opts.dev.length > 1) console.warn('code-shim: only the first --extensionDevelopmentPath is loaded');

// runTests puts extensionTestsEnv into our environment; code-server inherits
// it and hands it on to the extension host, as desktop VS Code does.
const { runExtensionTestsInBrowser } = require('tsx/cjs/api').require('./runInBrowser.ts', __filename);
runExtensionTestsInBrowser({
  extensionDevelopmentPath: path.resolve(opts.dev[0]),
  extensionTestsPath: path.resolve(opts.tests),
  workspace: opts.positional[0] && path.resolve(opts.positional[0]),
  disableExtensions: opts.disableExtensions,
  screenshot: process.env.RNN_LAB_TEST_SCREENSHOT,
}).then(
  (code) => process.exit(code),
  (err) => { console.error('code-shim:', err); process.exit(1); },
);
