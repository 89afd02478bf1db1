/**
 * The loss panel in a real Chromium: the built bundle (dist/webview/loss.js)
 * in the exact HTML the host gives the webview (same CSP and nonce), with a
 * stub `acquireVsCodeApi` that records what the page posts, fed with REAL
 * engine output (two tiny models trained here for ~100 steps). Checks what is
 * drawn (chart.js datasets, scales, the runs table), the controls, the
 * exports, bad messages, and takes screenshots in VS Code's default light and
 * dark themes.
 *
 * Run: npm run test:webview (builds first). Prints `webview: N passed, M failed`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { evaluateStream, splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { progressChunk, validationChunk } from '../../src/shared/panels/lossData';
import { checkLossWebviewMessage, pngBytes } from '../../src/extension/panels/validate';
import type { TrainProgressEvent, TrainValidationEvent } from '../../src/shared/protocol';
import type { LossDataMessage, LossInitMessage, LossModelInfo } from '../../src/shared/webviewProtocol';
import { createRunner, productionBundleLoads, ensureChromium, launch, OUT, ROOT, runMain, serve } from './harness';
import { DARK_HC, DARK_MODERN, HC_ONLY, LIGHT_HC, LIGHT_MODERN, type ThemeVars } from './themes';

// The functions given to page.evaluate run in the page; the root tsconfig has no DOM
// library (host code must not see one), so the page globals are declared here, in this module only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, sessionStorage: any, customElements: any, requestAnimationFrame: any;
type HTMLElement = any;

const STEPS = 100;
const VAL_EVERY = 20;

// ------------------------------------------------------------------ real engine output

interface TrainedRun {
  info: LossModelInfo;
  progress: TrainProgressEvent[];
  validation: TrainValidationEvent[];
}

function trainTiny(id: string, cell: CellType, hidden: number, lr: number, text: string): TrainedRun {
  const vocab = Vocab.fromText(text);
  const tokens = vocab.encode(text).tokens;
  const { train, val } = splitTokens(tokens, 0.1);
  const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 8, seq: 32, optimizer: 'adam', lr, seed: 7 };
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers: 1 }, vocab, config.seed);
  const trainer = new Trainer(model, config, train, tsKernels, rng);
  const progress: TrainProgressEvent[] = [];
  const validation: TrainValidationEvent[] = [];
  const t0 = performance.now();
  for (let k = 0; k < STEPS; k++) {
    const r = trainer.step();
    const seconds = (performance.now() - t0) / 1000;
    progress.push({
      kind: 'train/progress', runId: id, step: r.step, epoch: r.epoch, epochProgress: r.epochProgress, loss: r.loss,
      gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, charsPerSec: trainer.state.charsSeen / Math.max(seconds, 1e-3), charsSeen: trainer.state.charsSeen,
    });
    if (r.step % VAL_EVERY === 0) {
      const e = evaluateStream(model, val, tsKernels);
      validation.push({ kind: 'train/validation', runId: id, step: r.step, loss: e.loss, bpc: e.bpc });
    }
  }
  const info: LossModelInfo = {
    id, name: `${cell.toUpperCase()} ${hidden}×1 on README`, cell, hidden, layers: 1, params: model.params.count, vocabSize: vocab.size,
    state: 'done', steps: STEPS, optimizer: config.optimizer, lr: config.lr, batch: config.batch, seq: config.seq,
    bestValLoss: Math.min(...validation.map((v) => v.loss)),
  };
  return { info, progress, validation };
}

function dataMessage(run: TrainedRun, reset: boolean, from = 0, to = run.progress.length, vFrom = 0, vTo = run.validation.length): LossDataMessage {
  return {
    kind: 'loss/data', modelId: run.info.id, reset,
    progress: progressChunk(run.progress.slice(0, to), from),
    validation: validationChunk(run.validation.slice(0, vTo), vFrom),
  };
}

/** TensorBoard's smoothing, written out independently of the webview's code. */
function tensorboardSmooth(values: number[], weight: number): number[] {
  let last = 0;
  return values.map((v, i) => {
    last = last * weight + (1 - weight) * v;
    return last / (1 - Math.pow(weight, i + 1));
  });
}

// ------------------------------------------------------------------ the page

/** What VS Code does on a theme switch: variables on <html style>, a class on <body>. */
async function applyTheme(page: Page, theme: ThemeVars): Promise<void> {
  await page.evaluate((t) => {
    const style = document.documentElement.style;
    for (const [k, v] of Object.entries(t.vars)) style.setProperty(k, v);
    document.body.className = t.bodyClass;
  }, theme);
  await settle(page);
}

/** Lets the page handle posted messages and draw. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
  await page.evaluate(() => (window as unknown as Hooks).__rnnLab.drawNow());
}

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await settle(page);
}

interface DatasetView {
  label: string;
  tag: { modelId: string; series: string };
  hidden: boolean;
  borderColor: string;
  x: number[];
  y: (number | null)[];
}

interface Hooks {
  __rnnLab: {
    lossChart: ChartLike;
    rateChart: ChartLike;
    view: Record<string, unknown>;
    errors: string[];
    csv(): string;
    drawNow(): void;
  };
  __posted: { kind: string; [k: string]: unknown }[];
  __csp: string[];
}
interface ChartLike {
  data: { datasets: { label: string; rnnLab: { modelId: string; series: string }; hidden?: boolean; borderColor: string; data: { x: number; y: number | null }[] }[] };
  options: { color: string; scales: Record<string, { title: { text: string } }> };
  scales: Record<string, { type: string; min: number; max: number }>;
}

async function datasets(page: Page, which: 'lossChart' | 'rateChart' = 'lossChart'): Promise<DatasetView[]> {
  return page.evaluate((w) => {
    const c = (window as unknown as Hooks).__rnnLab[w];
    return c.data.datasets.map((d) => ({
      label: d.label, tag: d.rnnLab, hidden: !!d.hidden, borderColor: d.borderColor,
      x: d.data.map((p) => p.x), y: d.data.map((p) => p.y),
    }));
  }, which);
}

const posted = (page: Page) => page.evaluate(() => (window as unknown as Hooks).__posted);

/** Sets a vscode-elements select (or the range input) the way its own UI does: value, then the event. */
async function setControl(page: Page, id: string, value: string | string[], event = 'change'): Promise<void> {
  await page.evaluate(
    ([i, v, e]) => {
      const el = document.getElementById(i as string) as { value: unknown; dispatchEvent(e: unknown): void };
      el.value = v;
      el.dispatchEvent(new Event(e as string, { bubbles: true }));
    },
    [id, value, event] as const,
  );
  await settle(page);
}

function close(a: number | null, b: number | null, tol = 1e-9): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

function assertSeries(actual: (number | null)[], expected: number[], what: string, tol = 1e-9): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} points drawn, expected ${expected.length}`);
  expected.forEach((e, i) => assert.ok(close(actual[i]!, e, tol), `${what}[${i}]: drawn ${actual[i]}, expected ${e}`));
}

// ------------------------------------------------------------------ the tests

async function main(): Promise<number> {
  const t0 = performance.now();
  ensureChromium();
  mkdirSync(OUT, { recursive: true });

  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const tTrain = performance.now();
  const lstm = trainTiny('model-lstm', 'lstm', 32, 0.01, text);
  const gru = trainTiny('model-gru', 'gru', 24, 0.005, text);
  console.log(`[webview] trained two tiny models for ${STEPS} steps each in ${((performance.now() - tTrain) / 1000).toFixed(1)}s ` +
    `(LSTM loss ${lstm.progress[0]!.loss.toFixed(3)} → ${lstm.progress.at(-1)!.loss.toFixed(3)} nats)`);
  const N = lstm.progress.length;
  const V = lstm.validation.length;
  const init: LossInitMessage = { kind: 'loss/init', models: [lstm.info, gru.info], primary: lstm.info.id, compare: [] };
  const nats = lstm.progress.map((p) => p.loss);

  const { server, origin } = await serve({
    title: 'Loss',
    panel: 'loss',
    styles: ['panel.css'],
    body: `  <main id="app" class="panel" aria-busy="true">\n    <p class="placeholder">Loading the loss chart…</p>\n  </main>`,
  });
  const { browser, page, pageErrors } = await launch({ width: 1100, height: 760 });
  const runner = createRunner();
  const test = runner.test;

  try {
    console.log('loss panel');
    await test('the shipped bundle (webview/loss/main.ts) loads under the CSP, says panel/ready and has no test hook', () => productionBundleLoads(browser, origin));
    await test('loads under the webview CSP (no violations, no errors) and asks the host for its data', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => (window as unknown as Hooks).__posted?.length > 0);
      await applyTheme(page, LIGHT_MODERN);
      const msgs = await posted(page);
      assert.deepEqual(msgs.map((m) => m.kind), ['panel/ready']);
      const csp = await page.evaluate(() => (window as unknown as Hooks).__csp);
      assert.deepEqual(csp, [], `CSP violations: ${csp.join('; ')}`);
      assert.deepEqual(pageErrors, []);
      // The components rendered (custom elements defined and upgraded).
      const defined = await page.evaluate(() => ['vscode-single-select', 'vscode-multi-select', 'vscode-button', 'vscode-tabs', 'vscode-checkbox'].filter((t) => !customElements.get(t)));
      assert.deepEqual(defined, [], 'undefined custom elements');
    });

    await test('the complete history at once: one point per progress event, exact values, validation points', async () => {
      await post(page, init);
      await post(page, dataMessage(lstm, true));
      const ds = await datasets(page);
      assert.deepEqual(ds.map((d) => d.tag.series), ['raw', 'smoothed', 'validation']);
      assertSeries(ds[0]!.y, nats, 'raw loss');
      assertSeries(ds[0]!.x, lstm.progress.map((p) => p.step), 'raw x (steps)');
      assertSeries(ds[2]!.y, lstm.validation.map((v) => v.loss), 'validation loss');
      assertSeries(ds[2]!.x, lstm.validation.map((v) => v.step), 'validation x');
      assert.equal(V, STEPS / VAL_EVERY);
      assert.ok(nats.at(-1)! < nats[0]! - 0.5, `the real run should learn (${nats[0]} → ${nats.at(-1)})`);
      const empty = await page.evaluate(() => document.getElementById('empty')!.hidden);
      assert.equal(empty, true, 'the "no data yet" note should be hidden');
    });

    await test('live: deltas append only the new points (after a reset with the first half)', async () => {
      const half = Math.floor(N / 2);
      const vHalf = Math.floor(V / 2);
      await post(page, dataMessage(lstm, true, 0, half, 0, vHalf));
      let ds = await datasets(page);
      assert.equal(ds[0]!.y.length, half);
      await post(page, dataMessage(lstm, false, half, N, vHalf, V));
      ds = await datasets(page);
      assertSeries(ds[0]!.y, nats, 'raw loss after the delta');
      assertSeries(ds[2]!.y, lstm.validation.map((v) => v.loss), 'validation after the delta');
    });

    await test('smoothing slider: EMA with bias correction like TensorBoard; 0 draws the raw curve', async () => {
      for (const w of [0.9, 0.3]) {
        await setControl(page, 'smoothing', String(w), 'input');
        const ds = await datasets(page);
        assertSeries(ds[1]!.y, tensorboardSmooth(nats, w), `smoothed (${w})`);
        assert.equal(await page.locator('#smoothing-value').textContent(), w.toFixed(2));
      }
      const before = (await datasets(page))[1]!.y;
      await setControl(page, 'smoothing', '0', 'input');
      const after = (await datasets(page))[1]!.y;
      assertSeries(after, nats, 'smoothing 0');
      assert.notDeepEqual(before, after);
      await setControl(page, 'smoothing', '0.6', 'input');
    });

    await test('units: bits per character are nats ÷ ln 2, axis title says so', async () => {
      await setControl(page, 'units', 'bits');
      const ds = await datasets(page);
      assertSeries(ds[0]!.y, nats.map((v) => v / Math.LN2), 'raw loss in bits');
      assertSeries(ds[2]!.y, lstm.validation.map((v) => v.bpc), 'validation in bits (the engine\'s bpc)', 1e-6);
      const title = await page.evaluate(() => (window as unknown as Hooks).__rnnLab.lossChart.options.scales.y!.title.text);
      assert.match(title, /bits per character/);
      await setControl(page, 'units', 'nats');
      assertSeries((await datasets(page))[0]!.y, nats, 'back in nats');
    });

    await test('y scale: log switches the drawn axis to logarithmic and back', async () => {
      const type = () => page.evaluate(() => (window as unknown as Hooks).__rnnLab.lossChart.scales.y!.type);
      assert.equal(await type(), 'linear');
      await setControl(page, 'yscale', 'logarithmic');
      assert.equal(await type(), 'logarithmic');
      await setControl(page, 'yscale', 'linear');
      assert.equal(await type(), 'linear');
    });

    await test('x axis: epochs and characters seen (validation placed by step on the same axis)', async () => {
      await setControl(page, 'x', 'epoch');
      let ds = await datasets(page);
      assertSeries(ds[0]!.x, lstm.progress.map((p) => p.epoch + p.epochProgress), 'x in epochs');
      const last = lstm.progress.at(-1)!;
      assert.ok(close(ds[2]!.x.at(-1)!, last.epoch + last.epochProgress), 'the last validation sits at the last step\'s epoch');
      await setControl(page, 'x', 'chars');
      ds = await datasets(page);
      assertSeries(ds[0]!.x, lstm.progress.map((p) => p.charsSeen), 'x in characters');
      const rate = await datasets(page, 'rateChart');
      assertSeries(rate[0]!.y, lstm.progress.map((p) => p.lr), 'learning rate (second tab)');
      assert.equal(rate[1]!.y.length, N, 'throughput points');
      await setControl(page, 'x', 'step');
    });

    await test('compare: picking another model asks the host, overlays its curves and lists its settings', async () => {
      await setControl(page, 'compare', [gru.info.id]);
      const last = (await posted(page)).at(-1)!;
      assert.deepEqual(last, { kind: 'loss/compare', modelIds: [gru.info.id] });
      await post(page, dataMessage(gru, true));
      const ds = await datasets(page);
      assert.equal(ds.length, 6);
      assert.deepEqual(ds.slice(3).map((d) => d.tag.modelId), [gru.info.id, gru.info.id, gru.info.id]);
      assertSeries(ds[3]!.y, gru.progress.map((p) => p.loss), 'compared raw loss');
      assert.notEqual(ds[1]!.borderColor, ds[4]!.borderColor, 'each model gets its own color');
      const rows = await page.locator('#runs tbody tr').allTextContents();
      assert.equal(rows.length, 2);
      assert.match(rows[1]!, /GRU 24×1 on README.*GRU.*24×1.*adam.*0\.005.*8×32/);
      const state = await page.evaluate(() => JSON.parse(sessionStorage.getItem('vscodeState')!));
      assert.equal(state.modelId, lstm.info.id, 'the state names the model (the serializer restores from it)');
      assert.deepEqual(state.compare, [gru.info.id]);
    });

    await test('screenshots in the light and dark default themes (colors follow --vscode-* variables)', async () => {
      await applyTheme(page, LIGHT_MODERN);
      let color = await page.evaluate(() => (window as unknown as Hooks).__rnnLab.lossChart.options.color);
      assert.equal(color.toLowerCase(), LIGHT_MODERN.vars['--vscode-charts-foreground']!.toLowerCase());
      let ds = await datasets(page);
      assert.equal(ds[1]!.borderColor.toLowerCase(), LIGHT_MODERN.vars['--vscode-charts-blue']!.toLowerCase());
      await page.screenshot({ path: path.join(OUT, 'webview-loss-light.png') });
      await applyTheme(page, DARK_MODERN);
      color = await page.evaluate(() => (window as unknown as Hooks).__rnnLab.lossChart.options.color);
      assert.equal(color.toLowerCase(), DARK_MODERN.vars['--vscode-charts-foreground']!.toLowerCase());
      ds = await datasets(page);
      assert.equal(ds[1]!.borderColor.toLowerCase(), DARK_MODERN.vars['--vscode-charts-blue']!.toLowerCase());
      await page.screenshot({ path: path.join(OUT, 'webview-loss-dark.png') });
      await page.evaluate(() => (document.querySelector('vscode-tab-header:nth-of-type(2)') as HTMLElement).click());
      await settle(page);
      await page.screenshot({ path: path.join(OUT, 'webview-rate-dark.png') });
      await page.evaluate(() => (document.querySelector('vscode-tab-header') as HTMLElement).click());
      await settle(page);
      for (const f of ['webview-loss-light.png', 'webview-loss-dark.png']) assert.ok(statSync(path.join(OUT, f)).size > 10_000);
    });

    await test('keyboard: Tab reaches every control in order; Space/Enter operate the checkbox and buttons, arrows the slider and tabs; focus outline in --vscode-focusBorder', async () => {
      const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase());
      await page.locator('#units').focus();
      const order: string[] = [await focused()];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        order.push(await focused());
      }
      assert.deepEqual(order, ['units', 'x', 'yscale', 'smoothing', 'raw', 'export-png', 'export-csv', 'compare', order[8]!], `tab order ${order}`);
      assert.equal(await page.evaluate(() => document.activeElement?.tagName.toLowerCase()), 'vscode-tab-header', 'then the tabs');
      // The slider: arrows change the smoothing; its focus outline is the theme's focus border.
      await page.locator('#smoothing').focus();
      const before = await page.evaluate(() => Number(document.getElementById('smoothing').value));
      await page.keyboard.press('ArrowLeft');
      await settle(page);
      assert.ok(Math.abs(await page.evaluate(() => Number(document.getElementById('smoothing').value)) - (before - 0.01)) < 1e-9);
      const outline = await page.evaluate(() => { const st = window.getComputedStyle(document.getElementById('smoothing')); return [st.outlineStyle, st.outlineColor]; });
      const fb = DARK_MODERN.vars['--vscode-focusBorder']!.slice(1).match(/../g)!.map((h) => parseInt(h, 16)).join(', ');
      assert.deepEqual(outline, ['solid', `rgb(${fb})`]);
      await page.keyboard.press('ArrowRight');
      await settle(page);
      // The raw-loss checkbox toggles with Space.
      const raw = () => page.evaluate(() => document.getElementById('raw').checked);
      const r0 = await raw();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      await settle(page);
      assert.equal(await raw(), !r0, 'Space toggles Raw loss');
      await page.keyboard.press('Space');
      await settle(page);
      assert.equal(await raw(), r0);
      // Enter on Export CSV and Space on Export PNG post the exports.
      await page.locator('#export-csv').focus();
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal((await posted(page)).at(-1)!.format, 'csv', 'Enter on Export CSV');
      await page.locator('#export-png').focus();
      await page.keyboard.press('Space');
      await page.waitForFunction(() => window.__posted.at(-1)?.format === 'png');
      // The tabs: arrows move to the second tab.
      await page.locator('vscode-tab-header').first().focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await page.evaluate(() => document.getElementById('tabs').selectedIndex), 1, 'ArrowRight + Enter opens the second tab');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await page.evaluate(() => document.getElementById('tabs').selectedIndex), 0);
    });

    await test('high contrast (dark and light): axis text, grid and curves use the theme\'s variables; screenshots', async () => {
      for (const [theme, name] of [[DARK_HC, 'hc-dark'], [LIGHT_HC, 'hc-light']] as const) {
        await applyTheme(page, theme);
        await settle(page);
        const opts = await page.evaluate(() => { const c = (window as unknown as Hooks).__rnnLab.lossChart; return { color: c.options.color, grid: (c.options.scales.y as any).grid?.color }; });
        assert.equal(opts.color.toLowerCase(), theme.vars['--vscode-charts-foreground']!.toLowerCase(), `${name}: text in --vscode-charts-foreground`);
        const ds = await datasets(page);
        assert.equal(ds[1]!.borderColor.toLowerCase(), theme.vars['--vscode-charts-blue']!.toLowerCase(), `${name}: the smoothed curve in --vscode-charts-blue`);
        await page.screenshot({ path: path.join(OUT, `webview-loss-${name}.png`) });
      }
      await page.evaluate((ks) => { for (const k of ks) document.documentElement.style.removeProperty(k); }, HC_ONLY);
      await applyTheme(page, DARK_MODERN);
    });

    await test('export CSV: the button posts every point of every shown run, in nats and bits', async () => {
      await page.locator('#export-csv').click();
      const m = (await posted(page)).at(-1)!;
      assert.equal(m.kind, 'panel/export');
      assert.equal(m.format, 'csv');
      assert.ok(checkLossWebviewMessage(m).ok, 'the host accepts it');
      const lines = (m.data as string).trim().split('\n');
      assert.equal(lines[0], 'model,model_id,series,step,epoch,chars_seen,loss_nats,loss_bits,smoothed_nats,lr,chars_per_sec');
      assert.equal(lines.length, 1 + N + V + gru.progress.length + gru.validation.length);
      const trainRows = lines.filter((l) => l.includes(`,${lstm.info.id},train,`));
      assert.equal(trainRows.length, N);
      const f = trainRows[41]!.split(',');
      assert.equal(Number(f[3]), lstm.progress[41]!.step);
      assert.ok(close(Number(f[6]), nats[41]!) && close(Number(f[7]), nats[41]! / Math.LN2));
      assert.equal(Number(f[5]), lstm.progress[41]!.charsSeen);
      const valRows = lines.filter((l) => l.includes(`,${lstm.info.id},validation,`));
      assert.deepEqual(valRows.map((l) => Number(l.split(',')[3])), lstm.validation.map((v) => v.step));
    });

    await test('export PNG: the button posts a PNG data URL the host accepts and decodes', async () => {
      await page.locator('#export-png').click();
      const m = (await posted(page)).at(-1)!;
      assert.equal(m.format, 'png');
      assert.ok(checkLossWebviewMessage(m).ok, 'the host accepts it');
      const bytes = pngBytes(m.data as string);
      assert.ok(bytes.length > 5_000, `PNG of ${bytes.length} bytes`);
      assert.match(m.fileName as string, /^loss-LSTM-32.1-on-README\.png$/);
    });

    await test('a host message with a bad shape is ignored, drawn data unchanged, and reported to the host', async () => {
      const before = await datasets(page);
      const errorsBefore = (await posted(page)).filter((m) => m.kind === 'panel/error').length;
      await post(page, { kind: 'loss/data', modelId: lstm.info.id, reset: true, progress: { step: [1, 2], loss: [3] }, validation: { step: [], loss: [] } });
      await post(page, { kind: 'loss/explode' });
      await post(page, 'not even an object');
      assert.deepEqual(await datasets(page), before);
      const errors = (await posted(page)).filter((m) => m.kind === 'panel/error');
      assert.equal(errors.length, errorsBefore + 3);
      assert.match(errors.at(-3)!.message as string, /progress must be parallel number arrays/);
      assert.match(errors.at(-2)!.message as string, /unknown kind "loss\/explode"/);
      for (const e of errors) assert.ok(checkLossWebviewMessage(e).ok, 'the host accepts the report');
    });

    await test('reload restores the view options from the saved state and asks for data again', async () => {
      await setControl(page, 'units', 'bits');
      await page.reload();
      await page.waitForFunction(() => (window as unknown as Hooks).__posted?.length > 0);
      assert.deepEqual((await posted(page)).map((m) => m.kind), ['panel/ready']);
      const view = await page.evaluate(() => (window as unknown as Hooks).__rnnLab.view);
      assert.equal(view.units, 'bits');
      assert.equal(view.modelId, lstm.info.id);
      assert.deepEqual(view.compare, [gru.info.id]);
      await post(page, { ...init, compare: [gru.info.id] });
      await post(page, dataMessage(lstm, true));
      assertSeries((await datasets(page))[0]!.y, nats.map((v) => v / Math.LN2), 'restored chart in bits');
      assert.deepEqual(pageErrors, []);
    });

    await test('host side: every message shape from a webview is checked as untrusted input', async () => {
      const rejected = [
        null, 42, [], { kind: 'nope' }, { kind: 'panel/ready', extra: 1 },
        { kind: 'loss/compare', modelIds: ['../../etc'] }, { kind: 'loss/compare', modelIds: 'x' },
        { kind: 'loss/compare', modelIds: Array.from({ length: 17 }, (_, i) => `m${i}`) },
        { kind: 'panel/export', format: 'exe', fileName: 'a.exe', data: '' },
        { kind: 'panel/export', format: 'png', fileName: '../x.png', data: 'data:image/png;base64,AAAA' },
        { kind: 'panel/export', format: 'png', fileName: 'x.png', data: 'data:text/html;base64,AAAA' },
        { kind: 'panel/export', format: 'csv', fileName: 'x.png', data: 'a,b' },
        { kind: 'panel/error', message: { toString: 1 } },
      ];
      for (const r of rejected) assert.equal(checkLossWebviewMessage(r).ok, false, `should reject ${JSON.stringify(r)}`);
      assert.throws(() => pngBytes('data:image/png;base64,AAAAAAAAAAAA'), /not a PNG/);
      const ok = checkLossWebviewMessage({ kind: 'loss/compare', modelIds: ['a-1', 'a-1', 'b'] });
      assert.ok(ok.ok && ok.message.kind === 'loss/compare' && ok.message.modelIds.length === 2, 'duplicates collapse');
    });
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('webview', main);
