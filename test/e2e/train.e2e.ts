// What a user does with RNN Lab, in a real VS Code (code-server) with the
// packaged .vsix installed: train a model from the Explorer's context menu,
// watch it train (status bar, progress notification, Models view), generate
// text, accept an inline completion, survive a window reload (the run pauses
// with a checkpoint), resume and stop it, and read the error an empty file gets. Screenshots go to test-results/; with
// UPDATE_SCREENSHOTS=1 the README's ones are also copied to media/screenshots/.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  visibleEditorLines,
  clearQuickPickFilter, log, openFile, openWorkbench, packageVsix, pollUntil, quickInput, quickPickItem, reloadWindow, revealQuickPickItem,
  REPO_ROOT, resizeSideBar, rightClickExplorerItem, rightClickTreeItem, runCommand, runE2E, screenshot, showViewContainer,
  startCodeServer, statusBarItem, textOf, treeItem, treeItemDescription, userSettingsFile, waitForNotification, writeUserSettingsJson,
  type Page, type Scenario, type Workbench,
} from './harness';

// --- the workspace ------------------------------------------------------------

/** An original poem (written for this test), repeated so a tiny model learns it in seconds. */
const POEM_STANZAS = `The lantern hums above the harbor wall,
and gulls fold paper wings against the rain.
A ferry counts its ropes and waits for dawn;
the tide rehearses every word it knows.

We walked the salt road when the kettles sang,
our coats too thin, our pockets full of stones,
and every window kept a patient lamp
for someone late, for someone coming home.

So hush, the nets are mended, the boats are in,
the moon has paid the fisherman in silver,
the long night loosens like a knot of twine,
and morning finds us sleeping by the sea.
`;
const POEM = `Harbor Song\n\n${Array.from({ length: 8 }, () => POEM_STANZAS).join('\n')}`;
const POEM_CHARS = new Set(POEM);

const files = {
  'poem.txt': POEM,
  'empty.txt': '',
};

/** Settings the Tiny preset ignores; the reload scenario switches "Use My Settings" to a run without a step limit. */
const settings = {
  'rnnLab.training.checkpointSeconds': 5,
  // Greedy completions: the same ghost text every run.
  'rnnLab.completions.temperature': 0,
  'editor.minimap.enabled': false,
};
const LONG_RUN_SETTINGS = {
  'rnnLab.model.cell': 'gru',
  'rnnLab.model.hidden': 48,
  'rnnLab.model.layers': 1,
  'rnnLab.training.seq': 32,
  'rnnLab.training.batch': 16,
  'rnnLab.training.maxSteps': 0,
};

const TINY = 'poem.txt · LSTM 64×1';
const LONG = 'poem.txt · GRU 48×1';
/** The Explorer's menu item; VS Code may or may not prefix the category. */
const TRAIN_MENU = /^\s*(RNN Lab: )?Train Model on This File\s*$/;
const PRESETS = ['Tiny', 'Small', 'Medium', 'Custom…', 'Use My Settings'];

// --- helpers ------------------------------------------------------------------

const PUBLISHED = new Set(['preset-quick-pick', 'models-view', 'generated-text', 'inline-completion', 'error-empty']);

/** test-results/<name>.png; the README's ones are copied to media/screenshots/ when UPDATE_SCREENSHOTS=1. */
async function shot(page: Page, name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void> {
  const file = await screenshot(page, name, clip);
  log(`screenshot: ${path.relative(REPO_ROOT, file)}`);
  if (process.env.UPDATE_SCREENSHOTS && PUBLISHED.has(name)) {
    const dir = path.join(REPO_ROOT, 'media/screenshots');
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, path.join(dir, `${name}.png`));
  }
}

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/** Escapes a string for a RegExp. */
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `<name>: step N · loss x · R chars/s` in the status bar, parsed; null while it shows something else. */
async function statusBarStep(page: Page, model: string): Promise<{ step: number; text: string } | null> {
  const text = await textOf(statusBarItem(page, new RegExp(`${re(model)}: `)));
  const m = new RegExp(`${re(model)}: step (\\d+) · loss \\d+\\.\\d{3} · [\\d.]+k? chars/s`).exec(text);
  return m ? { step: Number(m[1]), text } : null;
}

/** Waits for the status bar to show `model` training and its step to advance; returns the steps seen. */
async function watchSteps(page: Page, model: string, updates: number, timeout = 60_000): Promise<number[]> {
  const seen: number[] = [];
  await pollUntil(`${updates} progress updates of ${model} in the status bar`, async () => {
    const s = await statusBarStep(page, model);
    if (s && (seen.length === 0 || s.step > seen[seen.length - 1]!)) seen.push(s.step);
    return seen.length;
  }, (n) => n >= updates, timeout, 100);
  return seen;
}

/** The description of a model's row in the Models view ("training · 18.2k params · step 40 · loss 2.345"; the shape is in the name). */
function modelRow(page: Page, name: string): Promise<string> {
  return treeItemDescription(page, name).catch(() => '');
}

/** Opens the Explorer context menu of `file` and chooses RNN Lab's train item. */
async function trainFromExplorer(page: Page, file: string): Promise<void> {
  await rightClickExplorerItem(page, file, TRAIN_MENU);
}

/** Index entry of a model in the extension's global storage (what survives a reload). */
function storedModel(wb: Workbench, name: string): { steps: number; hasCheckpoint: boolean; state: string } | undefined {
  const index = path.join(wb.server.tmp, 'user-data/User/globalStorage/rnn-lab.rnn-lab/index.json');
  if (!existsSync(index)) return undefined;
  try {
    const models = (JSON.parse(readFileSync(index, 'utf8')) as { models: { name: string; steps: number; hasCheckpoint: boolean; state: string }[] }).models;
    return models.find((m) => m.name === name);
  } catch {
    return undefined; // mid-write (the extension renames a temp file, but be safe)
  }
}

/** Adds `patch` to the user's settings.json through the settings editor. */
async function editUserSettings(wb: Workbench, patch: Record<string, unknown>): Promise<void> {
  const current = JSON.parse(readFileSync(userSettingsFile(wb.server), 'utf8')) as Record<string, unknown>;
  await writeUserSettingsJson(wb, { ...current, ...patch });
}

/** "Ln 12, Col 5" from the status bar. */
async function cursorPosition(page: Page): Promise<{ line: number; col: number } | null> {
  const m = /Ln (\d+), Col (\d+)/.exec(await textOf(statusBarItem(page, /Ln \d+, Col \d+/)));
  return m ? { line: Number(m[1]), col: Number(m[2]) } : null;
}

// --- scenarios ----------------------------------------------------------------

let tinyDoneToastClicked = false;

const scenarios: Scenario[] = [
  {
    name: 'Explorer → Train Model on This File offers the presets with estimates',
    run: async ({ page }) => {
      await trainFromExplorer(page, 'poem.txt');
      await quickInput(page).waitFor({ state: 'visible', timeout: 15_000 });
      check((await quickInput(page).getAttribute('placeholder')) === 'How large a model?', 'the preset quick pick has no "How large a model?" prompt');
      for (const label of ['Tiny', 'Small', 'Medium']) await quickPickItem(page, label).waitFor({ timeout: 10_000 });
      // Each size preset shows its description and a size estimate for this file at once, and the
      // time estimates once the worker has measured the machine.
      const tiny = await textOf(quickPickItem(page, 'Tiny'));
      check(/LSTM 64×1, a quick look in seconds/.test(tiny) && /[\d.]+k? params · [\d.]+ [KMG]i?B/.test(tiny), `Tiny row: ${tiny}`);
      await pollUntil('the time estimates in the Tiny row', () => textOf(quickPickItem(page, 'Tiny')),
        (t) => /[\d.]+k? params · [\d.]+ [KMG]i?B · ~[\d.]+ (s|min|h)\/epoch · 300 steps ≈ [\d.]+ (s|min|h)/.test(t), 25_000);
      for (const label of ['Small', 'Medium']) {
        const row = await textOf(quickPickItem(page, label));
        check(/params · .* steps ≈/.test(row), `${label} row has no estimate: ${row}`);
      }
      // The rows below the fold, reached by typing as a user would.
      for (const label of PRESETS) await revealQuickPickItem(page, label);
      const mine = await textOf(await revealQuickPickItem(page, 'Use My Settings'));
      check(/LSTM 128×2 from rnnLab\.\* settings/.test(mine), `Use My Settings row: ${mine}`);
      await clearQuickPickFilter(page);
      await quickPickItem(page, 'Tiny').waitFor({ timeout: 10_000 });
      await page.mouse.move(1100, 500); // no hover highlight on a row
      await shot(page, 'preset-quick-pick');
      await quickPickItem(page, 'Tiny').click();
      await quickInput(page).waitFor({ state: 'hidden', timeout: 10_000 });
    },
  },
  {
    name: 'Tiny trains: status bar, cancellable progress notification, Models view, done notification',
    run: async ({ page }) => {
      // Tiny takes a few seconds: open the Models view at once, then check everything while it trains.
      await showViewContainer(page, 'RNN Lab');
      const progress = page.locator('.notifications-toasts .notification-toast', { hasText: `RNN Lab: training ${TINY}` }).first();
      // All three at once: on a fast machine the run is over in about two seconds.
      const [steps, progressText, row] = await Promise.all([
        // One update is all a 300-step run on the native kernels may show (the status bar redraws at most 5 times a second).
        watchSteps(page, TINY, 1),
        pollUntil('a step in the progress notification', () => textOf(progress), (t) => /step \d+\/300 · loss \d+\.\d{3} · [\d.]+k? chars\/s/.test(t), 30_000, 100),
        // Stops when the run is over, so a run that failed or ended too soon is reported at once.
        pollUntil('the Tiny model training in the Models view', () => modelRow(page, TINY),
          (d) => /^training · [\d.]+k? params · step \d+ · loss \d+\.\d{3}/.test(d) || /^(done|failed|stopped) · /.test(d), 30_000, 100)
          .then((d) => {
            check(d.startsWith('training · ') || d.startsWith('done · '), `the Models view never showed the Tiny run training or done; it shows: ${d}`);
            return d;
          }),
      ]);
      // On the native kernels Tiny's 300 steps can be over before the view refreshes once: then the
      // status bar and the notification, which showed its steps, are what saw it live.
      const seenTraining = row.startsWith('training · ');
      if (!seenTraining) log(`the run ended before the Models view refreshed (status bar saw steps ${steps.join(', ')})`);
      const cancellable = await progress.locator('.monaco-button', { hasText: 'Cancel' }).isVisible().catch(() => false);
      const bar = await statusBarStep(page, TINY);
      await shot(page, 'models-view');
      await shot(page, 'training-status-bar', { x: 0, y: 600, width: 1280, height: 200 });
      log(`status bar steps seen: ${steps.join(', ')}; now: ${bar?.text}`);
      log(`progress notification: ${progressText}`);
      log(`Models view: ${TINY} — ${row}`);
      check(steps[0]! < 300, `the run was already over when first seen (step ${steps[0]})`);
      if (seenTraining) {
        // A run of a few hundred milliseconds can end between the two reads: then the status bar rightly went away.
        const endedSoon = bar === null && await pollUntil('the Tiny run to end', () => modelRow(page, TINY), (d) => /^done · /.test(d), 5_000).then(() => true, () => false);
        check(bar !== null || endedSoon, 'the status bar stopped showing the run while the Models view showed it training');
        check(cancellable || endedSoon, 'the progress notification has no Cancel button');
      }

      const done = await waitForNotification(page, new RegExp(`"${re(TINY)}" done at step 300, validation \\d+\\.\\d{3} bits/char`), 120_000);
      check(await done.locator('.monaco-button', { hasText: 'Generate Text' }).isVisible(), 'the done notification has no Generate Text button');
      const finalRow = await pollUntil('the Tiny model done in the Models view', () => modelRow(page, TINY), (d) => /^done · .* step 300 · loss .* val \d+\.\d{3} bpc/.test(d), 10_000);
      log(`Models view: ${TINY} — ${finalRow}`);
      await pollUntil('the status bar item to go away', async () => statusBarStep(page, TINY), (s) => s === null, 10_000);
      // Choose the notification's action right away (info toasts hide after a while).
      await done.locator('.monaco-button', { hasText: 'Generate Text' }).click();
      tinyDoneToastClicked = true;
    },
  },
  {
    name: 'Generate Text opens an untitled editor filled with generated text',
    run: async ({ page }) => {
      if (!tinyDoneToastClicked) {
        log('the done notification was not clicked: using the model\'s context menu instead');
        await showViewContainer(page, 'RNN Lab');
        await rightClickTreeItem(page, TINY, 'Generate Text');
      }
      await page.locator('.tabs-container .tab.active', { hasText: /Untitled-\d+/ }).waitFor({ timeout: 20_000 });
      // The text streams in; generate.length is 500 characters.
      const lines = await pollUntil('about 500 generated characters in the editor', () => visibleEditorLines(page),
        (ls) => ls.join('\n').length >= 480, 30_000);
      const text = lines.join('\n');
      log(`generated ${text.length} chars: ${JSON.stringify(text.slice(0, 120))}…`);
      const foreign = [...new Set(text)].filter((c) => c !== '\n' && !POEM_CHARS.has(c));
      check(foreign.length === 0, `generated characters that are not in poem.txt: ${JSON.stringify(foreign)}`);
      check((text.match(/[a-z]{3,}/g) ?? []).length >= 20, `generated text has few words: ${text}`);
      await pollUntil('the "generating" notification to close', () => textOf(page.locator('.notifications-toasts .notification-toast', { hasText: 'RNN Lab: generating with' })), (t) => t === '', 30_000);
      await shot(page, 'generated-text');
      await runCommand(page, 'View: Revert and Close Editor');
      await page.locator('.tabs-container .tab', { hasText: /Untitled-\d+/ }).waitFor({ state: 'detached', timeout: 10_000 });
    },
  },
  {
    name: 'inline completion: ghost text from the model, Tab accepts it',
    run: async ({ page }) => {
      await openFile(page, 'poem.txt');
      await page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').click();
      await page.keyboard.press('Control+End');
      const typed = 'The lantern ';
      await page.keyboard.type(typed, { delay: 20 });
      const before = await pollUntil('the cursor after the typed words', () => cursorPosition(page), (p) => p?.col === typed.length + 1, 5_000);
      await page.keyboard.press('Alt+Backslash'); // Trigger Inline Suggestion
      const ghost = page.locator('.part.editor .editor-group-container.active .monaco-editor .ghost-text-decoration');
      const suggestion = await pollUntil('ghost text', () => textOf(ghost), (t) => t.length >= 3, 20_000);
      log(`ghost text after ${JSON.stringify(typed)}: ${JSON.stringify(suggestion)}`);
      check([...suggestion].every((c) => POEM_CHARS.has(c) || c === '\u00a0'), `ghost text with characters not in poem.txt: ${suggestion}`);
      await shot(page, 'inline-completion');
      await page.keyboard.press('Tab');
      // Accepted when the cursor moves past it (the next ghost text may show at once, so its count says nothing).
      const after = await pollUntil('the cursor after the accepted text', () => cursorPosition(page), (p) => !!p && p.col > before!.col, 5_000);
      const lines = await visibleEditorLines(page);
      const last = lines[lines.length - 1] ?? '';
      log(`line ${after!.line} is now ${JSON.stringify(last)}`);
      check(after!.line === before!.line, `the cursor moved from line ${before!.line} to ${after!.line}`);
      check(last.startsWith(typed) && last.length > typed.length && last.slice(typed.length).trim() === suggestion.replace(/\u00a0/g, ' ').trim(),
        `the line is ${JSON.stringify(last)}, expected ${JSON.stringify(typed)} + the ghost text ${JSON.stringify(suggestion)}`);
      check(after!.col === last.length + 1, `cursor at column ${after!.col}, the line has ${last.length} characters`);
      // Leave poem.txt as it is on disk for the next run.
      await runCommand(page, 'File: Revert File');
      await pollUntil('poem.txt reverted', () => cursorPosition(page), (p) => !!p && p.col === 1, 5_000).catch(() => undefined);
    },
  },
  {
    name: 'a run without a step limit survives a window reload and resumes from its checkpoint',
    run: async (wb) => {
      const { page } = wb;
      await editUserSettings(wb, LONG_RUN_SETTINGS);
      // Settings apply asynchronously; retry until the quick pick shows the new values.
      await pollUntil('"Use My Settings" to reflect the edited settings.json', async () => {
        await trainFromExplorer(page, 'poem.txt');
        await revealQuickPickItem(page, 'Use My Settings');
        const row = await textOf(quickPickItem(page, 'Use My Settings'));
        if (!/GRU 48×1 from rnnLab\.\* settings/.test(row) || / steps ≈/.test(row)) {
          await page.keyboard.press('Escape');
          return row;
        }
        return 'ok';
      }, (r) => r === 'ok', 20_000, 500);
      await (await revealQuickPickItem(page, 'Use My Settings')).click();

      const steps = await watchSteps(page, LONG, 3);
      log(`status bar steps seen: ${steps.join(', ')}`);
      const progress = await waitForNotification(page, `RNN Lab: training ${LONG}`);
      const progressText = await pollUntil('an unbounded step count in the progress notification', () => textOf(progress), (t) => /step \d+ · loss/.test(t), 10_000);
      check(!/step \d+\//.test(progressText), `a run without a step limit shows a maximum: ${progressText}`);
      await showViewContainer(page, 'RNN Lab');
      await pollUntil('the long run training in the Models view', () => modelRow(page, LONG), (d) => /^training · [\d.]+k? params/.test(d), 10_000);

      // checkpointSeconds = 5: the first checkpoint lands in the library within seconds.
      const saved = await pollUntil('a checkpoint of the long run', async () => storedModel(wb, LONG), (m) => !!m?.hasCheckpoint && m.steps > 0, 30_000, 250);
      log(`checkpoint saved at step ${saved!.steps}`);
      // Reload once the run has gone past that checkpoint: closing the window should save another.
      const beforeReload = (await pollUntil('the status bar past the checkpoint', () => statusBarStep(page, LONG), (s) => !!s && s.step > saved!.steps, 15_000, 100))!.step;

      await reloadWindow(page);
      log(`window reloaded (status bar was at step ${beforeReload})`);
      await showViewContainer(page, 'RNN Lab');
      const pausedRow = await pollUntil('the long run paused after the reload', () => modelRow(page, LONG), (d) => /^paused · .* step \d+/.test(d), 30_000);
      const pausedStep = Number(/step (\d+)/.exec(pausedRow)![1]);
      log(`after reload: ${LONG} — ${pausedRow}`);
      check(pausedStep >= beforeReload,
        `after the reload the model is at step ${pausedStep} (its last periodic checkpoint was step ${saved!.steps}), before step ${beforeReload} ` +
        'that the status bar showed: no checkpoint was saved when the window closed');
      check((await statusBarStep(page, LONG)) === null, 'after the reload the status bar still shows the run training');
      // The tooltip says why it is paused.
      await treeItem(page, LONG).hover();
      const tooltip = await pollUntil('the model tooltip', () => textOf(page.locator('.monaco-hover:visible, .workbench-hover-container:visible').first()), (t) => t.includes(LONG), 10_000);
      log(`tooltip: ${tooltip}`);
      check(new RegExp(`— paused: paused at step ${pausedStep} when the window closed or reloaded`).test(tooltip), `the tooltip does not say why the run is paused: ${tooltip}`);
      await shot(page, 'after-reload');
      await page.mouse.move(700, 10);

      await rightClickTreeItem(page, LONG, 'Resume Training');
      const resumed = await watchSteps(page, LONG, 3);
      log(`resumed; status bar steps seen: ${resumed.join(', ')}`);
      check(resumed[0]! >= pausedStep, `resumed at step ${resumed[0]}, before the checkpoint's step ${pausedStep}`);
      await pollUntil('the long run training again in the Models view', () => modelRow(page, LONG), (d) => /^training · [\d.]+k? params/.test(d), 10_000);
      await shot(page, 'resumed');

      await rightClickTreeItem(page, LONG, 'Stop Training');
      const stoppedRow = await pollUntil('the long run stopped in the Models view', () => modelRow(page, LONG), (d) => /^stopped · .* step \d+/.test(d), 20_000);
      const stoppedStep = Number(/step (\d+)/.exec(stoppedRow)![1]);
      log(`stopped: ${stoppedRow}`);
      check(stoppedStep >= resumed[resumed.length - 1]!, `stopped at step ${stoppedStep}, before the last step shown (${resumed[resumed.length - 1]})`);
      await waitForNotification(page, new RegExp(`"${re(LONG)}" stopped at step ${stoppedStep}`), 15_000);
      await pollUntil('the status bar item to go away', () => statusBarStep(page, LONG), (s) => s === null, 10_000);
    },
  },
  {
    name: 'Stop on a run that a reload interrupted marks it stopped',
    run: async ({ page }) => {
      await showViewContainer(page, 'RNN Lab');
      await rightClickTreeItem(page, LONG, 'Resume Training');
      await watchSteps(page, LONG, 2);
      await reloadWindow(page);
      await showViewContainer(page, 'RNN Lab');
      const paused = await pollUntil('the run paused after the reload', () => modelRow(page, LONG), (d) => d.startsWith('paused · '), 30_000);
      log(`after reload: ${paused}`);
      await rightClickTreeItem(page, LONG, 'Stop Training');
      const stopped = await pollUntil('the run stopped', () => modelRow(page, LONG), (d) => d.startsWith('stopped · '), 10_000);
      log(`after Stop Training: ${stopped}`);
      check(/step (\d+)/.exec(stopped)![1] === /step (\d+)/.exec(paused)![1], `stopping changed the step: ${paused} → ${stopped}`);
    },
  },
  {
    name: 'an empty file gets a clear error notification',
    run: async ({ page }) => {
      await showViewContainer(page, 'Explorer');
      await trainFromExplorer(page, 'empty.txt');
      const toast = await waitForNotification(page, 'RNN Lab: "empty.txt" is empty: train on a file that contains text');
      check(await toast.locator('.codicon-error').count() > 0, 'the empty-file notification is not an error');
      check(!(await quickInput(page).isVisible()), 'a quick pick opened for an empty file');
      await shot(page, 'error-empty');
    },
  },
];


void runE2E('train', async () => {
  const vsix = packageVsix();
  log(`packaged ${path.relative(process.cwd(), vsix)}`);
  const server = await startCodeServer({ files, installVsix: [vsix], settings });
  log(`code-server on ${server.url}, .vsix installed`);
  const wb = await openWorkbench(server, { viewport: { width: 1280, height: 800 } });
  // Wide enough for a model's name, state, step and loss in the Models view.
  await resizeSideBar(wb.page, 600);
  // The user has the poem open (its language, plain text, also activates the extension).
  await openFile(wb.page, 'poem.txt');
  return wb;
}, scenarios);
