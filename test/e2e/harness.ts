// UI harness: drive the packaged extension the way a user does, in a real
// VS Code (code-server) shown by headless Chromium (playwright-core).
//
//   const vsix = packageVsix();
//   const server = await startCodeServer({ workspace, installVsix: [vsix] });
//   const wb = await openWorkbench(server);
//   await runCommand(wb.page, 'RNN Lab: Train on This File');
//   const frame = await findWebviewFrame(wb.page, '#loss-chart');
//   await screenshot(wb.page, 'training');
//   await wb.close();                       // browser + server
//
// runE2E() wraps that lifecycle, counts scenarios, screenshots failures and
// prints the closing "e2e: N passed, M failed" line. Selectors target
// VS Code 1.139's DOM (code-server 4.139.1); see README.md for the fragile ones.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Locator, Page } from 'playwright-core';
import { launchChromium, REPO_ROOT, startCodeServer, type CodeServer, type CodeServerOptions } from '../../scripts/vscode-test';

export { REPO_ROOT, startCodeServer, type CodeServer, type CodeServerOptions };
export type { Frame, Locator, Page };

export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

const t0 = Date.now();
/** Timestamped progress line. */
export function log(message: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`);
}

/** Packs the extension like `npm run package` (run `npm run build` first: it ships dist/). */
export function packageVsix(outFile = path.join(RESULTS_DIR, 'rnn-lab.vsix')): string {
  // run.ts packages once for all the files it runs.
  const given = process.env.RNN_LAB_E2E_VSIX;
  if (given && existsSync(given)) return given;
  mkdirSync(path.dirname(outFile), { recursive: true });
  // --no-dependencies: everything is bundled into dist/. Works offline.
  // --no-rewrite-relative-links: the README's relative image links (media/screenshots/)
  // would otherwise need a repository URL to rewrite, and the tests don't read the README.
  execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', outFile],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return outFile;
}

/** The extension's manifest, e.g. to find a command's palette label. */
export function manifest(): { displayName: string; contributes?: { commands?: { command: string; title: string; category?: string }[] } } {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
}

/** "Category: Title" as the Command Palette shows it, from package.json. */
export function commandLabel(commandId: string): string {
  const c = manifest().contributes?.commands?.find((x) => x.command === commandId);
  if (!c) throw new Error(`${commandId} is not contributed in package.json`);
  return c.category ? `${c.category}: ${c.title}` : c.title;
}

export interface Workbench {
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** Closes the browser, then stops the server. */
  close(): Promise<void>;
}

/**
 * Opens the server's workspace in headless Chromium and waits for the workbench to
 * render. A `payload` (e.g. extensionDevelopmentPath) is read only when the server
 * was started with `smokeTestDriver: true`, which also hides notification toasts.
 */
export async function openWorkbench(
  server: CodeServer,
  opts: { payload?: [string, string][]; timeoutMs?: number; viewport?: { width: number; height: number } } = {},
): Promise<Workbench> {
  const browser = await launchChromium(server.isolatedEnv);
  const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1400, height: 900 } });
  await page.goto(server.workbenchUrl(opts.payload));
  await waitForWorkbench(page, opts.timeoutMs);
  return {
    server, browser, page,
    close: async () => {
      await browser.close().catch(() => undefined);
      server.stop();
    },
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Matches an element whose whole text is `label` (fuzzy-match highlighting splits it into spans). */
const exactly = (label: string) => new RegExp(`^\\s*${escapeRe(label)}\\s*$`);

/** Waits until the workbench has rendered its editor area and status bar. */
export async function waitForWorkbench(page: Page, timeout = 60_000): Promise<void> {
  await page.locator('.monaco-workbench .part.editor').waitFor({ timeout });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout });
}

/**
 * "Developer: Reload Window" from the Command Palette, then waits for the new
 * workbench (a marker set on the old page must be gone, so the old DOM cannot
 * satisfy the wait).
 */
export async function reloadWindow(page: Page, timeout = 60_000): Promise<void> {
  await page.evaluate('window.__e2eBeforeReload = true');
  await runCommand(page, 'Developer: Reload Window');
  await page.waitForFunction('!window.__e2eBeforeReload', undefined, { timeout, polling: 200 });
  await waitForWorkbench(page, timeout);
}

/** Drags the sash at the right of the side bar so the side bar is `width` pixels wide. */
export async function resizeSideBar(page: Page, width: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) throw new Error('the side bar is not showing');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
}

/** The user settings.json of a server started by startCodeServer. */
export function userSettingsFile(server: CodeServer): string {
  return path.join(server.tmp, 'user-data/User/settings.json');
}

/**
 * Edits the user settings the way a user does: "Preferences: Open User Settings (JSON)"
 * (VS Code 1.139 opens it in a modal editor), replace the text, save, close.
 * `settings` is the whole new content; returns once it is on disk.
 */
export async function writeUserSettingsJson(wb: Workbench, settings: Record<string, unknown>): Promise<void> {
  const { page } = wb;
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const editor = page.locator('.monaco-editor[data-uri$="/User/settings.json"]').first();
  await editor.waitFor({ timeout: 15_000 });
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  // One line, so no auto-indent; the brackets and quotes the editor auto-closes
  // end up after the cursor and are deleted.
  const text = JSON.stringify(settings);
  await page.keyboard.insertText(text);
  await page.keyboard.press('Control+Shift+End');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Control+S');
  const file = userSettingsFile(wb.server);
  const deadline = Date.now() + 10_000;
  while (readFileSync(file, 'utf8').trim() !== text) {
    if (Date.now() > deadline) throw new Error(`settings.json was not saved: ${readFileSync(file, 'utf8')}`);
    await page.waitForTimeout(100);
  }
  // The modal editor closes on Escape; an editor in a tab through the palette.
  await page.keyboard.press('Escape');
  const closed = await editor.waitFor({ state: 'detached', timeout: 2_000 }).then(() => true, () => false);
  if (!closed) {
    await runCommand(page, 'View: Close Editor');
    await editor.waitFor({ state: 'detached', timeout: 10_000 });
  }
}

/** The status bar entry whose text matches `text`. */
export function statusBarItem(page: Page, text: string | RegExp): Locator {
  return page.locator('.part.statusbar .statusbar-item', { hasText: text }).first();
}

/**
 * Shows a view container by clicking its Activity Bar icon (e.g. 'RNN Lab', 'Explorer'),
 * unless its views are already showing in the side bar.
 */
export async function showViewContainer(page: Page, title: string): Promise<void> {
  // The title reads "RNN LAB" or, for a container with a single view, "RNN LAB: MODELS".
  const header = page.locator('.part.sidebar .composite.title .title-label', { hasText: new RegExp(`^\\s*${escapeRe(title)}\\b`, 'i') });
  const item = page.locator('.part.activitybar .action-item', { has: page.locator(`a.action-label[aria-label^="${title.replace(/["\\]/g, '\\$&')}"]`) }).first();
  await item.waitFor({ timeout: 20_000 });
  for (let i = 1; ; i++) {
    if (await header.isVisible()) return;
    // Clicking the icon of the container already showing closes the side bar: only click when it is not.
    const showing = /\bchecked\b/.test((await item.getAttribute('class')) ?? '') && (await page.locator('.part.sidebar').isVisible());
    if (!showing) await item.locator('a.action-label').click();
    try {
      await header.waitFor({ timeout: 3_000 });
      return;
    } catch (e) {
      if (i >= 5) throw new Error(`the side bar does not show ${title}`, { cause: e });
    }
  }
}

/** A row of a tree view in the side bar whose label is exactly `label`. */
export function treeItem(page: Page, label: string): Locator {
  return page.locator('.part.sidebar .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(label) }) }).first();
}

/** The description (grey text after the label) of a side bar tree row. */
export async function treeItemDescription(page: Page, label: string): Promise<string> {
  return (await treeItem(page, label).locator('.label-description').first().textContent({ timeout: 5_000 }))?.trim() ?? '';
}

/** Right-clicks a side bar tree row and, when `menuLabel` is given, chooses that context-menu item. */
export async function rightClickTreeItem(page: Page, label: string, menuLabel?: string | RegExp): Promise<void> {
  const row = treeItem(page, label);
  await row.waitFor({ timeout: 15_000 });
  await openContextMenuWith(page, row, menuLabel);
}

/**
 * Right-clicks `target` and, when `menuLabel` is given, chooses that item. An
 * extension's menu items arrive a little after the workbench shows (like its
 * commands in the palette), so a menu without the item is closed and reopened.
 */
async function openContextMenuWith(page: Page, target: Locator, menuLabel: string | RegExp | undefined, attempts = 20): Promise<void> {
  for (let i = 1; ; i++) {
    await target.click({ button: 'right' });
    if (!menuLabel) return;
    const text = typeof menuLabel === 'string' ? exactly(menuLabel) : menuLabel;
    const item = page.locator('.context-view .monaco-menu .action-item:not(.disabled) .action-label', { hasText: text }).first();
    try {
      await item.waitFor({ timeout: 2_000 });
      await clickContextMenuItem(page, menuLabel);
      return;
    } catch (e) {
      if (i >= attempts) throw new Error(`no context-menu item ${menuLabel} after ${attempts} tries`, { cause: e });
      log(`context menu without ${menuLabel} (try ${i}): ${(e as Error).message.split('\n')[0]}`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

/**
 * Polls `read` until `accept` returns true for its value; returns that value.
 * On timeout the error names what was awaited and the last value seen.
 */
export async function pollUntil<T>(what: string, read: () => Promise<T>, accept: (value: T) => boolean, timeout = 30_000, interval = 200): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Text of a locator, or '' when it is not there (for pollUntil). */
export async function textOf(locator: Locator): Promise<string> {
  if ((await locator.count()) === 0) return '';
  return ((await locator.first().innerText({ timeout: 2_000 }).catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
}


/** The quick input box (Command Palette, Quick Open, quick picks). */
export function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget input.input');
}

/** The row of an open quick pick whose label is exactly `label`. */
export function quickPickItem(page: Page, label: string): Locator {
  return page.locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(label) }) }).first();
}

/**
 * quickPickItem, brought into view: VS Code renders only the rows that fit,
 * so a row below the fold is reached as a user would, by typing its label
 * into the filter (clearQuickPickFilter shows the whole list again).
 */
export async function revealQuickPickItem(page: Page, label: string): Promise<Locator> {
  const row = quickPickItem(page, label);
  // A quick pick that is still opening has no rows yet, and filling the hidden input of a closed one would wait in vain.
  await quickInput(page).waitFor({ state: 'visible', timeout: 15_000 });
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 5_000 }).catch(() => undefined);
  if ((await row.count()) > 0) return row;
  await quickInput(page).fill(label, { timeout: 5_000 });
  await row.waitFor({ timeout: 10_000 });
  return row;
}

export async function clearQuickPickFilter(page: Page): Promise<void> {
  await quickInput(page).fill('');
}

/**
 * Opens the Command Palette (F1) with `label` typed and waits until that command is
 * listed; the palette stays open. Retries, because the palette lists only commands
 * known when it opened and an extension's contributions arrive a little after the
 * workbench shows, and because a notification that appears meanwhile (a run's
 * progress) can close the palette before it is typed in, as it would for a user.
 */
export async function findInCommandPalette(page: Page, label: string, opts: { attempts?: number } = {}): Promise<Locator> {
  const input = quickInput(page);
  const item = quickPickItem(page, label);
  const attempts = opts.attempts ?? 30;
  for (let i = 1; ; i++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${label}`, { timeout: 5_000 });
      await item.waitFor({ timeout: 2_000 });
      return item;
    } catch (e) {
      if (i >= attempts) throw new Error(`"${label}" not in the Command Palette after ${attempts} tries`, { cause: e });
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }
}

/** Runs a command through the Command Palette by its label ("RNN Lab: Train ..."), see findInCommandPalette. */
export async function runCommand(page: Page, label: string, opts: { attempts?: number } = {}): Promise<void> {
  const item = await findInCommandPalette(page, label, opts);
  // Enter would run the focused row, which may be another match: click ours, or, when a
  // click cannot land (the list still moving), press Enter if the focused row is ours.
  await item.click({ timeout: 10_000 }).catch(async (e: unknown) => {
    const focused = page.locator('.quick-input-list .monaco-list-row.focused').first();
    if ((await focused.getAttribute('aria-label').catch(() => null)) !== label) throw e;
    await page.keyboard.press('Enter');
  });
  await quickInput(page).waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

/** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab. */
export async function openFile(page: Page, name: string): Promise<void> {
  // A loaded machine can lose the first try (Quick Open still indexing, a click landing while the
  // list moves): each try gets 15 s for the tab, then Escape and again, as a user would.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const input = quickInput(page);
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    // A click can land on a toolbar while the list still moves: then Enter opens the focused row.
    await quickPickItem(page, name).click({ timeout: 10_000 }).catch(() => page.keyboard.press('Enter'));
    try {
      await editorTab(page, name).waitFor({ timeout: attempt < 3 ? 15_000 : 30_000 });
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      log(`Quick Open did not open ${name} (try ${attempt}); again`);
      await page.keyboard.press('Escape');
    }
  }
}

/** The text of the active editor's lines, top to bottom, as rendered (only lines in view). */
export async function visibleEditorLines(page: Page): Promise<string[]> {
  const lines = await page.evaluate(`(() => {
    const editor = document.querySelector('.part.editor .editor-group-container.active .monaco-editor');
    if (!editor) return [];
    return [...editor.querySelectorAll('.view-lines .view-line')]
      .map((l) => ({ top: parseFloat(l.style.top) || 0, text: l.textContent }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text.replace(/\\u00a0/g, ' '));
  })()`);
  return lines as string[];
}

/** The editor tab of the file named `name` (its label splits name and extension). */
export function editorTab(page: Page, name: string): Locator {
  return page.locator(`.tabs-container .tab[data-resource-name="${name.replace(/["\\]/g, '\\$&')}"]`).first();
}

/** A notification toast containing `text`. */
export async function waitForNotification(page: Page, text: string | RegExp, timeout = 15_000): Promise<Locator> {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  await toast.waitFor({ timeout });
  // Toasts slide in for 0.3 s: wait for the end so a screenshot shows them whole (best effort).
  await page.locator('.notifications-toasts .notification-toast.notification-fade-in-done', { hasText: text }).first()
    .waitFor({ timeout: 2_000 }).catch(() => undefined);
  return toast;
}

/**
 * Right-clicks `name` in the Explorer and, when `menuLabel` is given, clicks that
 * context-menu item (e.g. 'Open to the Side', or one of our contributed menu items).
 */
export async function rightClickExplorerItem(page: Page, name: string, menuLabel?: string | RegExp): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(name) }) }).first();
  if (!(await row.isVisible())) await page.keyboard.press('Control+Shift+E'); // show the Explorer
  await row.waitFor({ timeout: 15_000 });
  await openContextMenuWith(page, row, menuLabel);
}

/**
 * Chooses an item of the open context menu by its label. The menu lives in a shadow
 * root (locators pierce it). A click right after the menu opens is sometimes ignored,
 * so the item is hovered (which focuses it) and chosen with Enter.
 */
export async function clickContextMenuItem(page: Page, label: string | RegExp): Promise<void> {
  const menu = page.locator('.context-view .monaco-menu').first();
  const text = typeof label === 'string' ? exactly(label) : label;
  const item = menu.locator('.action-item:not(.disabled) .action-label', { hasText: text }).first();
  await item.waitFor({ timeout: 10_000 });
  await item.hover();
  await menu.locator('.action-item.focused .action-label', { hasText: text }).waitFor({ timeout: 5_000 });
  await page.keyboard.press('Enter');
  await menu.waitFor({ state: 'hidden', timeout: 5_000 });
}

/**
 * The frame holding a webview's own HTML: VS Code nests it as
 * iframe.webview > iframe#active-frame. Finds the first frame where `selector` matches.
 */
export async function findWebviewFrame(page: Page, selector: string, timeout = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame with ${selector} after ${timeout} ms`);
    await page.waitForTimeout(200);
  }
}

/** Saves test-results/<name>.png (the viewport, or the `clip` rectangle of it) and returns its path. */
export async function screenshot(page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, ...(clip ? { clip } : {}) });
  return file;
}

export interface Scenario {
  name: string;
  run(wb: Workbench): Promise<void>;
}

/**
 * Runs scenarios in order in one workbench (starting a server costs seconds, a
 * workbench ~10 s), screenshots each failure as test-results/<file>-failed-<n>.png,
 * prints "e2e: N passed, M failed" (under run.ts: "e2e <title>: ..." and the counts
 * in $RNN_LAB_E2E_SUMMARY) and exits 0 only when all passed.
 */
export async function runE2E(title: string, setup: () => Promise<Workbench>, scenarios: Scenario[]): Promise<never> {
  let passed = 0, failed = 0;
  let wb: Workbench | undefined;
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (const f of readdirSync(RESULTS_DIR)) if (f.startsWith(`${title}-failed-`)) rmSync(path.join(RESULTS_DIR, f));
  try {
    wb = await setup();
    log(`workbench ready (${title})`);
    for (const [i, s] of scenarios.entries()) {
      try {
        await s.run(wb);
        passed++;
        log(`✔ ${s.name}`);
      } catch (e) {
        failed++;
        log(`✘ ${s.name}\n${(e as Error).stack ?? e}`);
        const shot = await screenshot(wb.page, `${title}-failed-${i + 1}`).catch(() => undefined);
        if (shot) log(`  screenshot: ${shot}; server log: ${wb.server.logFile}`);
        await wb.page.keyboard.press('Escape').catch(() => undefined);
      }
    }
  } catch (e) {
    failed += scenarios.length - passed - failed || 1;
    log(`setup failed: ${(e as Error).stack ?? e}`);
  } finally {
    if (wb) {
      const keep = failed > 0 || !!process.env.KEEP_TMP;
      await wb.browser.close().catch(() => undefined);
      wb.server.stop({ keepTmp: keep });
      if (keep) log(`kept ${wb.server.tmp}`);
    }
  }
  // Under run.ts the counts go to a file and run.ts prints the one closing line.
  const summary = process.env.RNN_LAB_E2E_SUMMARY;
  if (summary) {
    writeFileSync(summary, JSON.stringify({ title, passed, failed }));
    console.log(`e2e ${title}: ${passed} passed, ${failed} failed`);
  } else {
    console.log(`e2e: ${passed} passed, ${failed} failed`);
  }
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
