// Experiments as a user meets them, in a real VS Code (code-server) with the
// packaged .vsix installed: New Experiment… from the Explorer's context menu,
// the CodeLens ▶ Run Experiment on a small experiment (three tiny runs) with
// the Experiment panel filling in live and the Models view grouping its runs,
// and a window reload in the middle of an experiment: it resumes on its own,
// keeps the finished run and continues the interrupted one from its checkpoint.
// Screenshots go to test-results/.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  editorTab, findWebviewFrame, log, openFile, openWorkbench, packageVsix, pollUntil, reloadWindow, resizeSideBar,
  rightClickExplorerItem, runE2E, screenshot, showViewContainer, startCodeServer, treeItem, treeItemDescription,
  type Frame, type Page, type Scenario, type Workbench,
} from './harness';

const NOTES = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(80);

const files = {
  'notes.txt': NOTES,
  'tiny.rnnlab.json': JSON.stringify({
    name: 'tiny cells',
    text: 'notes.txt',
    budget: { steps: 60 },
    valEvery: 20,
    base: { hidden: 12, layers: 1, seq: 16, batch: 4, lr: 0.01 },
    grid: { cell: ['rnn', 'gru', 'lstm'] },
  }, null, 2),
  // Two runs of about 25 s of training each: long enough to reload the window during the first.
  'slow.rnnlab.json': JSON.stringify({
    name: 'slow pair',
    text: 'notes.txt',
    budget: { minutes: 0.4 },
    base: { hidden: 24, layers: 1, seq: 32, batch: 8, lr: 0.005 },
    grid: { cell: ['gru', 'rnn'] },
  }, null, 2),
};

const settings = {
  // A running run is checkpointed at least this often: a reload loses at most these seconds.
  'rnnLab.training.checkpointSeconds': 5,
  'editor.minimap.enabled': false,
};

const NEW_MENU = /^\s*(RNN Lab: )?New Experiment…\s*$/;

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function shot(page: Page, name: string): Promise<void> {
  log(`screenshot: ${path.relative(process.cwd(), await screenshot(page, name))}`);
}

/** Clicks the CodeLens whose text matches `label` in the active editor. */
async function clickLens(page: Page, label: RegExp): Promise<void> {
  const lens = page.locator('.part.editor .editor-group-container.active .codelens-decoration a', { hasText: label }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
}

/** The Experiment panel's frame (the webview whose page has the runs table). */
function panelFrame(page: Page): Promise<Frame> {
  return findWebviewFrame(page, '.exp-runs', 30_000);
}

/** The run and state columns of the panel's table. */
async function panelRows(frame: Frame): Promise<{ run: string; state: string }[]> {
  return frame.evaluate(`[...document.querySelectorAll('.exp-runs tbody tr')].map((tr) => {
    const td = tr.querySelectorAll('td');
    return { run: td[1].textContent.trim(), state: td[3].textContent.trim() };
  })`) as Promise<{ run: string; state: string }[]>;
}

function resultRows(wb: Workbench, folder: string): { id: string; steps: number; seconds: number }[] {
  const file = path.join(wb.server.workspace, folder, 'results.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; steps: number; seconds: number });
}

/** The session records of a run's history in an output folder: where each session started. */
function sessions(wb: Workbench, folder: string, runId: string): number[] {
  const file = path.join(wb.server.workspace, folder, `${runId}.history.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"kind":"session"')).map((l) => (JSON.parse(l) as { startStep: number }).startStep);
}

const scenarios: Scenario[] = [
  {
    name: 'Explorer → New Experiment… writes notes.rnnlab.json beside the text and opens it with ▶ Run Experiment',
    run: async ({ page, server }) => {
      await rightClickExplorerItem(page, 'notes.txt', NEW_MENU);
      await editorTab(page, 'notes.rnnlab.json').waitFor({ timeout: 15_000 });
      const written = JSON.parse(readFileSync(path.join(server.workspace, 'notes.rnnlab.json'), 'utf8')) as { text: string[]; grid: { cell: string[] } };
      check(written.text[0] === 'notes.txt' && written.grid.cell.join() === 'rnn,lstm,gru', `unexpected starter: ${JSON.stringify(written)}`);
      await page.locator('.part.editor .codelens-decoration a', { hasText: /Run Experiment/ }).first().waitFor({ timeout: 30_000 });
      await shot(page, 'experiment-new');
    },
  },
  {
    name: 'CodeLens ▶ Run Experiment: three runs train, the panel fills in, the Models view groups them',
    run: async (wb) => {
      const { page } = wb;
      await openFile(page, 'tiny.rnnlab.json');
      await clickLens(page, /Run Experiment/);
      const frame = await panelFrame(page);
      const rows = await pollUntil('three finished runs in the panel', () => panelRows(frame), (r) => r.length === 3 && r.every((x) => x.state === 'done'), 120_000, 300);
      check(rows.map((r) => r.run).sort().join() === 'gru-s42,lstm-s42,rnn-s42', `panel rows: ${JSON.stringify(rows)}`);
      const lines = await frame.locator('.exp-curves svg polyline').count();
      check(lines === 3, `${lines} loss curves in the panel`);
      check(resultRows(wb, 'tiny.runs').length === 3, 'results.jsonl should hold 3 rows');
      await shot(page, 'experiment-panel');
      await showViewContainer(page, 'RNN Lab');
      await treeItem(page, 'tiny cells').waitFor({ timeout: 15_000 });
      const desc = await treeItemDescription(page, 'tiny cells');
      check(/^experiment · 3 runs · best \d\.\d{3} bpc$/.test(desc), `group row: ${desc}`);
      for (const id of ['rnn-s42', 'gru-s42', 'lstm-s42']) await treeItem(page, id).waitFor({ timeout: 10_000 });
      await shot(page, 'experiment-models-view');
    },
  },
  {
    name: 'a window reload mid-experiment: it resumes by itself, keeps the finished run, continues the interrupted one from its checkpoint',
    run: async (wb) => {
      const { page } = wb;
      await openFile(page, 'slow.rnnlab.json');
      await clickLens(page, /Run Experiment/);
      // Into the first run far enough for a periodic checkpoint.
      const ckpt = path.join(wb.server.workspace, 'slow.runs', 'gru-s42.safetensors');
      await pollUntil('the first run\'s checkpoint', async () => existsSync(ckpt), (x) => x, 60_000, 250);
      await reloadWindow(page);
      log('reloaded the window during run gru-s42');
      await pollUntil('both runs finished after the reload', async () => resultRows(wb, 'slow.runs').length, (n) => n === 2, 180_000, 500);
      const rows = resultRows(wb, 'slow.runs');
      const starts = sessions(wb, 'slow.runs', 'gru-s42');
      check(starts.length >= 2 && starts[0] === 0 && starts[1]! > 0, `the interrupted run should continue from its checkpoint; its sessions start at ${starts.join(', ')}`);
      const secs = rows.find((r) => r.id === 'gru-s42')!.seconds;
      // The minutes budget counts training over both sessions: about 24 s in all, not 24 s after the reload.
      check(secs > 20 && secs < 32, `gru-s42 trained ${secs} s, expected about 24`);
      check(sessions(wb, 'slow.runs', 'rnn-s42').length === 1, 'the second run started after the reload, once');
      await openFile(page, 'slow.rnnlab.json');
      await clickLens(page, /Show Results/);
      const frame = await panelFrame(page);
      await pollUntil('the panel shows both runs done', () => panelRows(frame), (r) => r.length === 2 && r.every((x) => x.state === 'done'), 30_000, 300);
      await shot(page, 'experiment-after-reload');
    },
  },
];

void runE2E('experiment', async () => {
  const vsix = packageVsix();
  const server = await startCodeServer({ files, installVsix: [vsix], settings });
  log(`code-server on ${server.url}, .vsix installed`);
  const wb = await openWorkbench(server, { viewport: { width: 1400, height: 900 } });
  await resizeSideBar(wb.page, 420);
  await openFile(wb.page, 'notes.txt');
  return wb;
}, scenarios);
