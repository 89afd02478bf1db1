/**
 * The Experiment panel in a real Chromium: the built bundle in the exact HTML
 * the host gives the webview (same CSP), fed with the view the host builds
 * (experimentView) of a REAL experiment folder — three tiny runs trained here
 * by the shared experiment runner, as `rnn-lab experiment` writes them. Checks
 * the table (columns, values, sorting), the charts against report.html's (the
 * same points), live runs, the actions posted for selected runs, bad
 * messages, and takes screenshots in the light and dark themes.
 *
 * Run: node --import tsx test/webview/experiment.webview.ts (after npm run build), or npm run test:webview.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { EngineTrainer } from '../../src/cli/experiment/engineTrainer';
import { planExperiment, runExperiment } from '../../src/cli/experiment/runner';
import { Output } from '../../src/cli/output';
import type { TrainReporter } from '../../src/cli/progress';
import { experimentView } from '../../src/extension/panels/experimentView';
import type { ExperimentView } from '../../src/shared/experimentPanelProtocol';
import { createRunner, ensureChromium, launch, OUT, productionBundleLoads, runMain, serve } from './harness';
import { DARK_MODERN, LIGHT_MODERN, type ThemeVars } from './themes';
import { makeText } from '../unit/helpers/text';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, requestAnimationFrame: any;

class Silent extends Output {
  constructor() {
    super(false);
  }
  override event(): void {}
  override info(): void {}
}
const quiet: TrainReporter = { start() {}, step() {}, val() {}, checkpoint() {}, finish() {}, done() {} };

/** Three tiny runs of a real experiment, into a temporary folder, through the runner the CLI and the editor share. */
async function realExperiment(): Promise<{ dir: string; out: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-exp-webview-'));
  fs.writeFileSync(path.join(dir, 'notes.txt'), makeText(6000));
  const file = path.join(dir, 'cells.rnnlab.json');
  fs.writeFileSync(file, JSON.stringify({
    name: 'cells on notes', text: 'notes.txt', valFraction: 0.1, budget: { steps: 40 }, valEvery: 10,
    base: { hidden: 16, layers: 1, seq: 16, batch: 4, lr: 0.01 }, grid: { cell: ['rnn', 'gru', 'lstm'] },
  }));
  const trainer = new EngineTrainer({ sliceMs: 0 });
  const plan = planExperiment(file, trainer, { yes: false, maxMemoryBytes: 2 ** 30 });
  const out = path.join(dir, 'cells.runs');
  await runExperiment(plan, { out, resume: false, saveEvery: 0, saveSeconds: Infinity, maxMemoryBytes: 2 ** 30, output: new Silent(), trainer, reporter: () => quiet, shouldStop: () => false });
  return { dir, out };
}

async function applyTheme(page: Page, theme: ThemeVars): Promise<void> {
  await page.evaluate((t: ThemeVars) => {
    const style = document.documentElement.style;
    for (const [k, v] of Object.entries(t.vars)) style.setProperty(k, v);
    document.body.className = t.bodyClass;
  }, theme);
  await settle(page);
}

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
  await page.evaluate(() => window.__rnnLab.drawNow());
}

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m: unknown) => window.postMessage(m, '*'), message);
  await settle(page);
}

const table = (page: Page) =>
  page.evaluate(() => ({
    head: [...document.querySelectorAll('.exp-runs thead th')].map((th: any) => th.textContent.replace(/[▲▼]/g, '').trim()),
    rows: [...document.querySelectorAll('.exp-runs tbody tr')].map((tr: any) => [...tr.querySelectorAll('td')].map((td: any) => td.textContent.trim())),
  }));

/** The polylines' points and the dots' centres of a chart, as drawn. */
const chart = (page: Page, sel: string) =>
  page.evaluate((s: string) => {
    const svg = document.querySelector(s + ' svg');
    return {
      title: svg?.querySelector('.title')?.textContent ?? '',
      lines: [...(svg?.querySelectorAll('polyline') ?? [])].map((p: any) => ({ points: p.getAttribute('points'), stroke: p.getAttribute('stroke'), label: p.textContent })),
      dots: [...(svg?.querySelectorAll('circle') ?? [])].map((c: any) => c.querySelector('title').textContent),
    };
  }, sel);

/** The same charts in report.html: its polylines by chart title. */
function reportLines(html: string, title: string): { points: string; stroke: string; label: string }[] {
  const start = html.indexOf(`aria-label="${title}"`);
  const svg = html.slice(start, html.indexOf('</svg>', start));
  return [...svg.matchAll(/<polyline fill="none" stroke="([^"]+)" stroke-width="1.5" points="([^"]+)"><title>([^<]*)<\/title>/g)].map((m) => ({ stroke: m[1]!, points: m[2]!, label: m[3]! }));
}

async function main(): Promise<number> {
  ensureChromium();
  fs.mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  const { dir, out } = await realExperiment();
  const view = experimentView(out, undefined);
  console.log(`[webview] trained a 3-run experiment in ${((performance.now() - t0) / 1000).toFixed(1)}s: ${view.rows.map((r) => `${r.id} ${r.valBpc?.toFixed(3)} bpc`).join(', ')}`);

  const { server, origin } = await serve({
    title: 'Experiment',
    panel: 'experiment',
    styles: ['panel.css'],
    body: `  <main id="app" class="panel experiment" aria-busy="true">\n    <p class="placeholder">Loading the experiment…</p>\n  </main>`,
  });
  const { browser, page, pageErrors } = await launch({ width: 1200, height: 900 });
  const runner = createRunner();
  const test = runner.test;
  try {
    console.log('experiment panel');
    await test('the shipped bundle (webview/experiment/main.ts) loads under the CSP, says panel/ready and has no test hook', () => productionBundleLoads(browser, origin));

    await test('loads under the CSP without errors and asks for its data', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, LIGHT_MODERN);
      assert.deepEqual((await page.evaluate(() => window.__posted)).map((m: any) => m.kind), ['panel/ready']);
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(pageErrors, []);
    });

    await test('the runs table: the varied setting as a column, every run best first with its results', async () => {
      await post(page, { kind: 'experiment/data', view });
      const t = await table(page);
      assert.deepEqual(t.head, ['', 'run', 'cell', 'state', 'val bpc', 'params', 'steps', 'chars/s', 'time (s)', 'rung']);
      const best = [...view.rows].sort((a, b) => a.valLoss! - b.valLoss!);
      assert.deepEqual(t.rows.map((r) => r[1]), best.map((r) => r.id));
      for (const [i, r] of best.entries()) {
        const cells = t.rows[i]!;
        assert.equal(cells[2], r.settings.cell);
        assert.equal(cells[3], 'done');
        assert.equal(cells[4], r.valBpc!.toFixed(4));
        assert.equal(cells[5], r.params.toLocaleString('en-US'));
        assert.equal(cells[6], '40');
      }
      // A real comparison: three families, three sizes.
      assert.equal(new Set(view.rows.map((r) => r.params)).size, 3);
      assert.deepEqual(pageErrors, []);
    });

    await test('sorting: a header click sorts by it, a second click reverses it (aria-sort says which)', async () => {
      await page.click('th[data-sort="params"]');
      await settle(page);
      let t = await table(page);
      const byParams = [...view.rows].sort((a, b) => a.params - b.params).map((r) => r.id);
      assert.deepEqual(t.rows.map((r) => r[1]), byParams);
      assert.equal(await page.getAttribute('th[data-sort="params"]', 'aria-sort'), 'ascending');
      await page.click('th[data-sort="params"]');
      await settle(page);
      t = await table(page);
      assert.deepEqual(t.rows.map((r) => r[1]), [...byParams].reverse());
      assert.equal(await page.getAttribute('th[data-sort="params"]', 'aria-sort'), 'descending');
      await page.click('th[data-sort="valBpc"]');
      await settle(page);
    });

    await test('the loss curves and scatter plots are report.html\'s: the same series, colours and points', async () => {
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      for (const [axis, title] of [['step', 'Training loss by step'], ['chars', 'Training loss by characters'], ['seconds', 'Training loss by time']] as const) {
        await page.selectOption('.exp-axis', axis);
        await settle(page);
        const drawn = await chart(page, '.exp-curves');
        assert.equal(drawn.title, title);
        assert.equal(drawn.lines.length, 3);
        assert.deepEqual(drawn.lines, reportLines(html, title), `${axis}: the panel and report.html draw different curves`);
      }
      const params = await chart(page, '.exp-dots-params');
      assert.equal(params.title, 'Validation loss by parameters');
      assert.equal(params.dots.length, 3);
      for (const r of view.rows) assert.ok(params.dots.some((d: string) => d.startsWith(`${r.id}: `) && d.endsWith(r.valLoss!.toFixed(4))), `dot of ${r.id}`);
      assert.equal((await chart(page, '.exp-dots-seconds')).dots.length, 3);
      await page.selectOption('.exp-axis', 'step');
      await settle(page);
    });

    await test('select runs: the model actions post their ids; CSV without a selection posts every run in table order', async () => {
      await page.evaluate(() => (window.__posted.length = 0));
      assert.equal(await page.isDisabled('button[data-action="loss"]'), true, 'no selection, no loss charts');
      const t = await table(page);
      const second = t.rows[1]![1]!;
      await page.click(`input[data-run="${second}"]`);
      await settle(page);
      assert.equal(await page.isDisabled('button[data-action="loss"]'), false);
      await page.click('button[data-action="loss"]');
      await page.click('button[data-action="completions"]');
      await page.click(`input[data-run="${second}"]`);
      await settle(page);
      await page.click('button[data-action="csv"]');
      const msgs = (await page.evaluate(() => window.__posted)).filter((m: any) => m.kind === 'experiment/action');
      assert.deepEqual(msgs, [
        { kind: 'experiment/action', action: 'loss', runIds: [second] },
        { kind: 'experiment/action', action: 'completions', runIds: [second] },
        { kind: 'experiment/action', action: 'csv', runIds: t.rows.map((r) => r[1]) },
      ]);
    });

    await test('screenshot: light theme, finished experiment', async () => {
      const file = path.join(OUT, 'experiment-light.png');
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 20_000);
    });

    await test('live: a running run shows its step and curve, planned runs wait, Stop is offered', async () => {
      const best = [...view.rows].sort((a, b) => a.valLoss! - b.valLoss!);
      const [done, running, waiting] = [best[0]!, best[1]!, best[2]!];
      const curve = view.curves[running.id]!.slice(0, 20);
      const last = curve.at(-1)!;
      const live: ExperimentView = {
        ...view,
        state: 'running',
        rows: [done],
        running: running.id,
        live: { runId: running.id, step: last.step, loss: last.loss, charsPerSec: 1234, seconds: last.seconds },
        curves: { [done.id]: view.curves[done.id]!, [running.id]: curve },
        planned: view.planned,
      };
      await post(page, { kind: 'experiment/data', view: live });
      const t = await table(page);
      const row = (id: string) => t.rows.find((r) => r[1] === id)!;
      assert.equal(row(done.id)[3], 'done');
      assert.equal(row(running.id)[3], 'training');
      assert.equal(row(running.id)[6], String(last.step));
      assert.equal(row(running.id)[7], '1,234');
      assert.equal(row(waiting.id)[3], 'planned');
      assert.equal(row(waiting.id)[4], '–');
      assert.equal((await chart(page, '.exp-curves')).lines.length, 2);
      assert.equal(await page.isVisible('button[data-action="stop"]'), true);
      assert.equal(await page.isVisible('button[data-action="run"]'), false);
      assert.match((await page.textContent('.exp-status')) ?? '', new RegExp(`running · 1 of 3 runs finished · ${running.id} at step ${last.step}`));
      await applyTheme(page, DARK_MODERN);
      const file = path.join(OUT, 'experiment-dark-live.png');
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 20_000);
      await page.click('button[data-action="stop"]');
      const last2 = (await page.evaluate(() => window.__posted)).at(-1);
      assert.deepEqual(last2, { kind: 'experiment/action', action: 'stop', runIds: [] });
    });

    await test('a malformed host message is ignored and reported; the page keeps what it showed', async () => {
      const before = await table(page);
      await post(page, { kind: 'experiment/data', view: { name: 1 } });
      await post(page, { kind: 'experiment/nonsense' });
      assert.deepEqual(await table(page), before);
      const errors = await page.evaluate(() => window.__rnnLab.errors);
      assert.equal(errors.length, 2);
      assert.match(errors[0], /bad view/);
      const reported = (await page.evaluate(() => window.__posted)).filter((m: any) => m.kind === 'panel/error');
      assert.equal(reported.length, 2);
    });

    await test('a reload restores the sort and the curve axis (vscode.setState)', async () => {
      await page.click('th[data-sort="params"]');
      await page.selectOption('.exp-axis', 'seconds');
      await page.reload();
      await page.waitForFunction(() => window.__posted?.some((m: any) => m.kind === 'panel/ready'));
      await post(page, { kind: 'experiment/data', view });
      const m = await page.evaluate(() => ({ key: window.__rnnLab.model.sortKey, axis: window.__rnnLab.model.axis, out: window.__rnnLab.model.persisted().out }));
      assert.deepEqual(m, { key: 'params', axis: 'seconds', out });
    });

    // RNN_LAB_EXPERIMENT_DIR=<an output folder>: also a screenshot of that folder in the panel (for the docs).
    const extra = process.env.RNN_LAB_EXPERIMENT_DIR;
    if (extra) {
      await page.reload();
      await page.waitForFunction(() => window.__posted?.some((m: any) => m.kind === 'panel/ready'));
      await applyTheme(page, LIGHT_MODERN);
      await post(page, { kind: 'experiment/data', view: experimentView(path.resolve(extra), undefined) });
      const file = path.join(OUT, 'experiment-folder.png');
      await page.screenshot({ path: file, fullPage: true });
      console.log(`[webview] ${extra} in the panel: ${file}`);
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`experiment webview: ${runner.passed} passed, ${runner.failed} failed`);
  return runner.failed;
}

runMain('experiment webview', main);
