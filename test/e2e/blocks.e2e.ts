// The block models as a user meets them, in a real VS Code (code-server) with
// the packaged .vsix installed: a tiny gpt and a tiny minGRU trained from the
// Explorer with "Use My Settings", an inline completion of each accepted with
// Tab, the Hidden States view of a selection (the gpt's attention: a click on a
// character moves the query), and the Gradient Flow panel on the residual
// stream, comparing the minGRU's decay with the gpt's. Small models (width
// 32, 2 blocks, 150 steps) so it stays quick on 2 cores.
import * as path from 'node:path';
import {
  visibleEditorLines,
  findWebviewFrame, log, openFile, openWorkbench, packageVsix, pollUntil, quickInput, quickPickItem, REPO_ROOT, revealQuickPickItem,
  resizeSideBar, rightClickExplorerItem, rightClickTreeItem, runCommand, runE2E, screenshot, showViewContainer, startCodeServer,
  textOf, treeItemDescription, userSettingsFile, waitForNotification, writeUserSettingsJson, type Frame, type Page, type Scenario, type Workbench,
} from './harness';
import { readFileSync } from 'node:fs';

const STANZA = `The lantern hums above the harbor wall,
and gulls fold paper wings against the rain.
A ferry counts its ropes and waits for dawn;
the tide rehearses every word it knows.
`;
const TEXT = Array.from({ length: 30 }, () => STANZA).join('\n');
const TEXT_CHARS = new Set(TEXT);
const files = { 'harbor.txt': TEXT };

const COMMON = {
  'rnnLab.model.hidden': 32,
  'rnnLab.model.layers': 2,
  'rnnLab.training.seq': 32,
  'rnnLab.training.batch': 8,
  'rnnLab.training.maxSteps': 150,
  'rnnLab.training.lr': 0.01,
  'rnnLab.training.warmupSteps': 0,
  'rnnLab.training.validateEvery': 50,
};
const settings = { ...COMMON, 'rnnLab.model.cell': 'gpt', 'rnnLab.model.heads': 2, 'rnnLab.completions.temperature': 0, 'editor.minimap.enabled': false };

const GPT = 'harbor.txt · GPT 32×2';
const MINGRU = 'harbor.txt · minGRU 32×2';
const TRAIN_MENU = /^\s*(RNN Lab: )?Train Model on This File\s*$/;

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function shot(page: Page, name: string): Promise<void> {
  log(`screenshot: ${path.relative(REPO_ROOT, await screenshot(page, name))}`);
}

/** Explorer → Train → "Use My Settings", once its row shows `family` (settings apply asynchronously). */
async function trainWithMySettings(page: Page, family: RegExp): Promise<void> {
  await pollUntil('"Use My Settings" to show the family of settings.json', async () => {
    await rightClickExplorerItem(page, 'harbor.txt', TRAIN_MENU);
    await revealQuickPickItem(page, 'Use My Settings');
    const row = await textOf(quickPickItem(page, 'Use My Settings'));
    if (!family.test(row)) {
      await page.keyboard.press('Escape');
      return row;
    }
    return 'ok';
  }, (r) => r === 'ok', 60_000, 500);
  await (await revealQuickPickItem(page, 'Use My Settings')).click();
  await quickInput(page).waitFor({ state: 'hidden', timeout: 10_000 });
}

async function waitDone(page: Page, name: string): Promise<void> {
  await waitForNotification(page, new RegExp(`"${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" done at step 150, validation \\d+\\.\\d{3} bits/char`), 180_000);
  await showViewContainer(page, 'RNN Lab');
  const row = await pollUntil(`${name} done in the Models view`, () => treeItemDescription(page, name).catch(() => ''), (d) => /^done · .* step 150/.test(d), 15_000);
  log(`Models view: ${name} — ${row}`);
}

/** "Ln 12, Col 5" from the status bar. */
async function cursorAt(page: Page): Promise<{ line: number; col: number }> {
  const m = /Ln (\d+), Col (\d+)/.exec(await textOf(page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first()));
  return m ? { line: Number(m[1]), col: Number(m[2]) } : { line: -1, col: -1 };
}

const cursorColumn = async (page: Page): Promise<number> => (await cursorAt(page)).col;

/** Types at the end of harbor.txt, triggers the inline suggestion, accepts it with Tab, checks the line, reverts. */
async function completeInline(page: Page): Promise<string> {
  await openFile(page, 'harbor.txt');
  // The end of the file (an empty last line); a notification may take the first key press.
  const lastLine = TEXT.split('\n').length;
  await pollUntil('the cursor at the end of harbor.txt', async () => {
    await page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+End');
    return cursorAt(page);
  }, (p) => p.line === lastLine && p.col === 1, 10_000, 300);
  const typed = 'The lantern ';
  await page.keyboard.type(typed, { delay: 20 });
  await pollUntil('the cursor after the typed words', () => cursorColumn(page), (c) => c === typed.length + 1, 5_000);
  await page.keyboard.press('Alt+Backslash');
  const ghost = page.locator('.part.editor .editor-group-container.active .monaco-editor .ghost-text-decoration');
  const suggestion = await pollUntil('ghost text', () => textOf(ghost), (t) => t.length >= 3, 20_000);
  check([...suggestion].every((c) => TEXT_CHARS.has(c) || c === '\u00a0'), `ghost text with characters not in harbor.txt: ${suggestion}`);
  await page.keyboard.press('Tab');
  // Accepted when the cursor moves past it (a fast model may show the next ghost text at once, so its count says nothing).
  const col = await pollUntil('the cursor after the accepted text', () => cursorColumn(page), (c) => c > typed.length + 1, 5_000);
  // The ghost text's DOM text folds runs of spaces, so compare the line as rendered, spaces folded the same way.
  const lines = await visibleEditorLines(page);
  const line = lines[lines.length - 1] ?? ''; // the file's last line, where it typed
  const fold = (t: string): string => t.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();
  // The rendered line may already hold the next ghost text after the accepted one.
  check(fold(line).startsWith(fold(typed + suggestion)), `the line is ${JSON.stringify(line)} after accepting ${JSON.stringify(suggestion)}`);
  check(col >= typed.length + 1 + fold(suggestion).length, `cursor at column ${col} after accepting ${JSON.stringify(suggestion)}`);
  await runCommand(page, 'File: Revert File');
  return suggestion;
}

/** Selects line 2 of harbor.txt ("and gulls fold paper wings against the rain.") and opens the Hidden States view. */
async function hiddenStatesOfLine2(page: Page): Promise<Frame> {
  await openFile(page, 'harbor.txt');
  await page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, 'RNN Lab: Show Hidden States');
  return findWebviewFrame(page, '#heatmap', 30_000);
}

const scenarios: Scenario[] = [
  {
    name: 'a gpt trains from "Use My Settings"',
    run: async ({ page }) => {
      await trainWithMySettings(page, /GPT 32×2 from rnnLab\.\* settings/);
      await waitDone(page, GPT);
    },
  },
  {
    name: 'the gpt completes text inline; Tab accepts it',
    run: async ({ page }) => {
      log(`gpt ghost text: ${JSON.stringify(await completeInline(page))}`);
    },
  },
  {
    name: 'Hidden States of a selection with the gpt: the residual stream, and the attention of a clicked character per layer and head',
    run: async ({ page }) => {
      const frame = await hiddenStatesOfLine2(page);
      const line = STANZA.split('\n')[1]!;
      // The gpt sees one context (32 characters): the view traces the first 32 of the line and says so.
      const traced = Math.min(line.length, 32);
      const title = await pollUntil('the attention of the last traced character', () => frame.locator('#att-title').textContent().then((t) => t ?? ''),
        (t) => new RegExp(`at position ${traced - 1}: 2 layers × 2 heads$`).test(t), 30_000);
      log(`attention: ${title}`);
      const note = await frame.locator('#note').textContent() ?? '';
      check(note.includes(`Showing the first ${traced} of ${line.length} characters`), `the view says it traced one context: ${note}`);
      check((await frame.locator('#att-top tr').count()) === 4, 'a row of strongest positions per layer and head');
      check(/x \(residual stream after the block\)/.test(await frame.locator('#info').textContent() ?? ''), 'the residual stream is shown');
      // A click on "p" of "paper" (position 15) makes it the query.
      const q = line.indexOf('paper');
      const box = await frame.locator('#att-chars').boundingBox();
      check(box, 'the attention characters are drawn');
      // The columns are sized to the view's width: one per traced character across the track.
      const [x, cellW] = await frame.evaluate(`[document.getElementById('att-scroller').scrollLeft, document.getElementById('att-track').getBoundingClientRect().width / ${traced}]`) as [number, number];
      await page.mouse.click(box.x + q * cellW + cellW / 2 - x, box.y + 9);
      const moved = await pollUntil('the query to move to the clicked character', () => frame.locator('#att-title').textContent().then((t) => t ?? ''),
        (t) => t.startsWith(`Attention of “p” at position ${q}:`) && !t.includes('loading'), 10_000);
      log(`after the click: ${moved}`);
      const strongest = await frame.locator('#att-top tr td').evaluateAll((tds) => tds.map((td) => Number((td as unknown as { dataset: { s: string } }).dataset.s)));
      check(strongest.length === 12 && strongest.every((s) => s >= 0 && s <= q), `each head's strongest positions lie at or before the query: ${strongest}`);
      await shot(page, 'e2e-attention');
    },
  },
  {
    name: 'Gradient Flow of the gpt: the residual stream entering each block',
    run: async ({ page }) => {
      await showViewContainer(page, 'RNN Lab');
      await rightClickTreeItem(page, GPT, 'Show Gradient Flow');
      const frame = await findWebviewFrame(page, '#net circle.node-h', 30_000);
      const rows = await frame.locator('#net > text').allTextContents();
      check(rows.join(',') === 'tok,x1,x2,o', `rows of the unrolled network: ${rows}`);
      check(/residual stream entering each block/.test(await frame.locator('#net-title').textContent() ?? ''), 'the title names the residual stream');
      await shot(page, 'e2e-gradflow-gpt');
      await runCommand(page, 'View: Close Editor');
    },
  },
  {
    name: 'a minGRU trains from "Use My Settings" after the settings change',
    run: async (wb: Workbench) => {
      const { page } = wb;
      const current = JSON.parse(readFileSync(userSettingsFile(wb.server), 'utf8')) as Record<string, unknown>;
      delete current['rnnLab.model.heads'];
      await writeUserSettingsJson(wb, { ...current, 'rnnLab.model.cell': 'mingru' });
      await trainWithMySettings(page, /minGRU 32×2 from rnnLab\.\* settings/);
      await waitDone(page, MINGRU);
    },
  },
  {
    name: 'the minGRU completes text inline; its Hidden States offer the mixer state, the stream and the gates, no attention',
    run: async ({ page }) => {
      log(`minGRU ghost text: ${JSON.stringify(await completeInline(page))}`);
      const frame = await hiddenStatesOfLine2(page);
      await pollUntil('a minGRU trace', () => frame.locator('#info').textContent().then((t) => t ?? ''), (t) => t.startsWith(MINGRU), 30_000);
      const options = await frame.locator('#quantity vscode-option').allTextContents();
      check(options.join('|') === 'h (hidden state)|x (residual stream after the block)|z (update gate)|g (candidate)', `quantities: ${options}`);
      check(await frame.locator('#attention').isHidden(), 'no attention section for a minGRU');
      await shot(page, 'e2e-hidden-mingru');
    },
  },
  {
    name: 'Gradient Flow of the minGRU compared with the gpt: two decay curves',
    run: async ({ page }) => {
      await showViewContainer(page, 'RNN Lab');
      await rightClickTreeItem(page, MINGRU, 'Show Gradient Flow');
      const frame = await findWebviewFrame(page, '#net circle.node-h', 30_000);
      // The compare picker, by keyboard: open it, go down to the gpt, Enter.
      await frame.locator('#compare').focus();
      await page.keyboard.press('Space');
      const options = await frame.locator('#compare vscode-option').allTextContents();
      const index = options.findIndex((o) => o.startsWith(GPT));
      check(index > 0, `the gpt is offered for comparison: ${options}`);
      for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const labels = await pollUntil('two decay curves', () => frame.locator('#decay polyline.decay-line').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-label') ?? '')),
        (ls) => ls.length === 2, 15_000);
      log(`decay curves: ${labels.join(' | ')}`);
      check(labels[0]!.startsWith(`${MINGRU} (minGRU, block 2`) && labels[1]!.startsWith(`${GPT} (GPT, block 2`), `decay labels: ${labels}`);
      await shot(page, 'e2e-gradflow-compare');
    },
  },
];

void runE2E('blocks', async () => {
  const vsix = packageVsix();
  const server = await startCodeServer({ files, installVsix: [vsix], settings });
  log(`code-server on ${server.url}, .vsix installed`);
  const wb = await openWorkbench(server, { viewport: { width: 1280, height: 800 } });
  await resizeSideBar(wb.page, 600);
  await openFile(wb.page, 'harbor.txt');
  return wb;
}, scenarios);
