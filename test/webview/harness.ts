/**
 * What every webview test (loss, hidden, gradflow) needs around its own checks:
 * a static server that gives the page the exact HTML the host gives the
 * webview (same CSP and nonce) and serves dist/webview and media like
 * localResourceRoots; the stub `acquireVsCodeApi` (with a CSP violation log);
 * Chromium launched with page errors collected; and the little test runner
 * that counts passes and failures.
 *
 * The tests load the panel through its test entry (test/webview/pages/<panel>.ts,
 * bundled here into dist/test/webview/): the production page plus
 * `window.__rnnLab`, which the production bundle does not have.
 * productionBundleLoads() checks the shipped bundle on its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, renderPanelHtml } from '../../src/extension/panels/html';

export const ROOT = path.resolve(__dirname, '../..');
export const OUT = path.join(ROOT, 'test-results');
export const CHROMIUM = process.env.RNN_LAB_CHROMIUM ?? '/usr/lib/chromium/chromium';

/** The page a webview test loads at `/`: what the host puts in the panel's HTML. */
export interface PanelPage {
  title: string;
  /** The panel, e.g. `loss`: its test entry test/webview/pages/loss.ts (and production bundle dist/webview/loss.js). */
  panel: string;
  /** Style sheets under media, e.g. `panel.css`. */
  styles: string[];
  body: string;
}

/** Bundles the panel's test entry into dist/test/webview/<panel>.js, as esbuild.mjs bundles the shipped page. */
export async function buildTestPage(panel: string): Promise<void> {
  await esbuild.build({
    entryPoints: { [panel]: path.join(ROOT, 'test/webview/pages', `${panel}.ts`) },
    outdir: path.join(ROOT, 'dist/test/webview'),
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: true,
    logLevel: 'warning',
  });
}

/**
 * Serves the panel page at `/` with its test bundle, at `/?production` with the
 * shipped bundle, and (like localResourceRoots) only dist/webview, dist/test/webview and media.
 */
export async function serve(panel: PanelPage): Promise<{ server: Server; origin: string }> {
  if (!existsSync(path.join(ROOT, 'dist/webview', `${panel.panel}.js`))) throw new Error(`dist/webview/${panel.panel}.js is missing: run npm run build first`);
  await buildTestPage(panel.panel);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A webview never asks for a favicon; the test page's browser does.
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderPanelHtml({
        cspSource: origin,
        nonce: makeNonce(),
        title: panel.title,
        scriptUri: `${origin}/dist/${url.searchParams.has('production') ? 'webview' : 'test/webview'}/${panel.panel}.js`,
        styleUris: panel.styles.map((s) => `${origin}/media/${s}`),
        body: panel.body,
      }));
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    const file = path.join(ROOT, rel);
    if (!/^(dist\/webview|dist\/test\/webview|media)\//.test(rel) || rel.includes('..') || !existsSync(file)) return void res.writeHead(404).end();
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.map') ? 'application/json' : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** Runs in the page before its scripts: the webview API stub, and a CSP violation log. */
export const STUB = `
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = (() => {
    let acquired = false;
    return () => {
      if (acquired) throw new Error('acquireVsCodeApi called twice');
      acquired = true;
      return {
        postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => { const s = sessionStorage.getItem('vscodeState'); return s ? JSON.parse(s) : undefined; },
        setState: (s) => sessionStorage.setItem('vscodeState', JSON.stringify(s)),
      };
    };
  })();
`;

/** Installs Chromium (scripts/vscode-test/setup.sh) if it is missing. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  console.log(`[webview] ${CHROMIUM} missing: installing Chromium (scripts/vscode-test/setup.sh)`);
  execFileSync('bash', [path.join(ROOT, 'scripts/vscode-test/setup.sh')], { stdio: 'inherit' });
}

/**
 * Launches Chromium with one page that has the STUB installed. `pageErrors`
 * collects uncaught errors, console errors and HTTP responses ≥ 400 (404s are
 * reported with their URL, so the console's "Failed to load resource" is skipped).
 */
export async function launch(viewport: { width: number; height: number }): Promise<{ browser: Browser; page: Page; pageErrors: string[] }> {
  ensureChromium();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.addInitScript(STUB);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`);
  });
  return { browser, page, pageErrors };
}

/**
 * The shipped bundle (dist/webview/<panel>.js, from webview/<panel>/main.ts) in
 * a fresh page: it loads under the CSP without errors, says panel/ready, and
 * exposes no test hook.
 */
export async function productionBundleLoads(browser: Browser, origin: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
  try {
    await context.addInitScript(STUB);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${origin}/?production`);
    await page.waitForFunction(() => (globalThis as unknown as { __posted: { kind: string }[] }).__posted.some((m) => m.kind === 'panel/ready'));
    const seen = await page.evaluate(() => {
      const w = globalThis as unknown as { __csp: string[]; __rnnLab?: unknown };
      return { csp: w.__csp, hook: '__rnnLab' in w };
    });
    if (errors.length || seen.csp.length) throw new Error(`the shipped bundle failed: ${[...errors, ...seen.csp].join('; ')}`);
    if (seen.hook) throw new Error('the shipped bundle exposes window.__rnnLab');
  } finally {
    await context.close();
  }
}

export interface Runner {
  /** Runs one named check, printing ✓ or ✗ (with the stack) and its time. */
  test(name: string, fn: () => Promise<void>): Promise<void>;
  readonly passed: number;
  readonly failed: number;
}

export function createRunner(): Runner {
  let passed = 0;
  let failed = 0;
  return {
    async test(name, fn) {
      const t = performance.now();
      try {
        await fn();
        passed++;
        console.log(`  ✓ ${name} (${Math.round(performance.now() - t)} ms)`);
      } catch (e) {
        failed++;
        console.log(`  ✗ ${name} (${Math.round(performance.now() - t)} ms)\n    ${(e as Error).stack?.split('\n').slice(0, 12).join('\n    ')}`);
      }
    },
    get passed() {
      return passed;
    },
    get failed() {
      return failed;
    },
  };
}

/** Runs a standalone webview test file's main (which returns its failure count) and exits; `label` names its closing line. */
export function runMain(label: string, main: () => Promise<number>): void {
  main().then(
    (failed) => process.exit(failed > 0 ? 1 : 0),
    (e) => {
      console.error(e);
      console.log(`${label}: 0 passed, 1 failed`);
      process.exit(1);
    },
  );
}
