// Public surface of the offline real-VS-Code tooling (see README.md).
export { CHROMIUM_PATH, REPO_ROOT, SHIM_PATH, codeServerInstall, installDir } from './install';
export { freePort, launchChromium, startCodeServer, type CodeServer, type CodeServerOptions } from './codeServer';
export { runExtensionTestsInBrowser, type BrowserTestRun } from './runInBrowser';
