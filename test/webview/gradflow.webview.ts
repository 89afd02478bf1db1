/**
 * The gradient-flow panel in a real Chromium: the built bundle
 * (dist/webview/gradflow.js) in the exact HTML the host gives the webview,
 * with a stub `acquireVsCodeApi`, fed with REAL engine output: a tiny vanilla
 * RNN and a tiny LSTM trained here for 100 steps, with gradient-flow
 * snapshots taken like the trainer worker takes them. Checks what is drawn
 * against the data (SVG attributes on the log scale), clicking an output,
 * the snapshot slider, the RNN-vs-LSTM decay compare, bad messages, and takes
 * light and dark screenshots.
 *
 * Run: npm run test:webview. Prints `gradflow webview: N passed, M failed`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import { gradFlowWindow } from '../../src/engine/gradflowSnapshot';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { checkGradFlowWebviewMessage } from '../../src/extension/panels/gradientFlowValidate';
import type { GradFlowDataMessage, GradFlowInitMessage, GradFlowModelInfo, GradFlowSnapshot } from '../../src/shared/webviewProtocol';
import { createRunner, productionBundleLoads, launch, OUT, ROOT, runMain, serve } from './harness';
import { DARK_HC, DARK_MODERN, HC_ONLY, LIGHT_HC, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, sessionStorage: any, customElements: any, requestAnimationFrame: any;

const STEPS = 100;
const EVERY = 20;
const SEQ = 40;

// ------------------------------------------------------------------ real engine output

interface Trained {
  info: GradFlowModelInfo;
  snapshots: GradFlowSnapshot[];
}

/** Trains a tiny model and snapshots it every EVERY steps the way src/worker/trainerMain.ts does. */
function trainTiny(id: string, cell: CellType, hidden: number, lr: number, clip: number, text: string): Trained {
  const vocab = Vocab.fromText(text);
  const { train } = splitTokens(vocab.encode(text).tokens, 0.1);
  const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: SEQ, optimizer: 'adam', lr, clip, seed: 11 };
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers: 2 }, vocab, config.seed);
  const trainer = new Trainer(model, config, train, tsKernels, rng);
  const snapshots: GradFlowSnapshot[] = [];
  for (let i = 0; i < STEPS; i++) {
    const r = trainer.step();
    if (r.step !== 1 && r.step % EVERY !== 0) continue;
    const B = config.batch;
    const tokens: number[] = [];
    for (let t = 0; t < SEQ; t++) tokens.push(trainer.graph.tokens[t * B]!);
    tokens.push(trainer.graph.targets[(SEQ - 1) * B]!);
    const clippedNorm = r.clipped ? clip : r.gradNorm;
    const paramGradNorms: Record<string, number> = {};
    for (const p of model.params.tensors) {
      let ss = 0;
      for (let j = p.offset; j < p.offset + p.size; j++) ss += model.params.grad[j]! ** 2;
      paramGradNorms[p.name] = Math.sqrt(ss) * (r.gradNorm / clippedNorm);
    }
    const w = gradFlowWindow(model, vocab.decode(tokens), tsKernels);
    snapshots.push({ step: r.step, gradNorm: r.gradNorm, clippedNorm, clipped: r.clipped, clip, paramGradNorms, ...w });
  }
  return { info: { id, name: `${cell.toUpperCase()} ${hidden}×2`, cell, hidden, layers: 2 }, snapshots };
}

// ------------------------------------------------------------------ the page

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
  await page.evaluate(() => window.__rnnLab.drawNow());
}

async function applyTheme(page: Page, theme: ThemeVars): Promise<void> {
  await page.evaluate((t) => {
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v as string);
    document.body.className = t.bodyClass;
  }, theme);
  await settle(page);
}

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await settle(page);
}

const posted = (page: Page): Promise<{ kind: string; [k: string]: unknown }[]> => page.evaluate(() => window.__posted);

/** Attributes of every element matching `selector`. */
function attrs(page: Page, selector: string): Promise<Record<string, string>[]> {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].map((e: any) => Object.fromEntries([...e.attributes].map((a: any) => [a.name, a.value]))), selector);
}

function dataset(page: Page, id: string): Promise<Record<string, string>> {
  return page.evaluate((i) => ({ ...document.getElementById(i).dataset }), id);
}

async function setControl(page: Page, id: string, value: string, event = 'change'): Promise<void> {
  await page.evaluate(([i, v, e]) => {
    const el = document.getElementById(i);
    el.value = v;
    el.dispatchEvent(new Event(e, { bubbles: true }));
  }, [id, value, event] as const);
  await settle(page);
}

/** Decades around the positive values, written independently of the page. */
function decades(values: number[]): [number, number] {
  const pos = values.filter((v) => v > 0);
  const a = Math.floor(Math.log10(Math.min(...pos)));
  const b = Math.max(Math.ceil(Math.log10(Math.max(...pos))), a + 1);
  return [10 ** a, 10 ** b];
}

/** Bar rects must sit on the log scale: top edge at bottom − (log v − log lo)/(log hi − log lo)·(bottom − top). */
async function assertBars(page: Page, expected: number[], what: string): Promise<void> {
  const ds = await dataset(page, 'bars');
  const [lo, hi] = decades(expected);
  assert.ok(Math.abs(Number(ds.lo) - lo) / lo < 1e-9 && Math.abs(Number(ds.hi) - hi) / hi < 1e-9, `${what}: axis ${ds.lo}..${ds.hi}, expected ${lo}..${hi}`);
  const top = Number(ds.top);
  const bottom = Number(ds.bottom);
  const bars = await attrs(page, '#bars rect.bar');
  assert.equal(bars.length, expected.length, `${what}: one bar per step`);
  bars.forEach((b, k) => {
    const v = expected[k]!;
    assert.equal(Number(b['data-value']), v, `${what}[${k}] value`);
    const f = v > lo ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : 0;
    const want = bottom - f * (bottom - top);
    assert.ok(Math.abs(Number(b.y) - want) < 0.01, `${what}[${k}]: bar top at ${b.y}, expected ${want.toFixed(3)} for ${v}`);
    assert.ok(Math.abs(Number(b.y) + Number(b.height) - bottom) < 0.01, `${what}[${k}]: bar stands on the axis`);
  });
}

/** The decay of ∂e_t/∂h_{t-d} relative to d = 0, geometric mean over the traced t (independent of the page). */
function decay(s: GradFlowSnapshot, layer: number): number[] {
  const out: number[] = [];
  for (let d = 0; d < s.T; d++) {
    const logs = s.rowTs.flatMap((t, i) => {
      const row = s.rowH[layer]![i]!;
      return t - d >= 0 && row[t]! > 0 && row[t - d]! > 0 ? [Math.log(row[t - d]! / row[t]!)] : [];
    });
    if (logs.length) out.push(Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length));
  }
  return out;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  mkdirSync(OUT, { recursive: true });
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const tTrain = performance.now();
  const lstm = trainTiny('model-lstm', 'lstm', 24, 0.01, 5, text);
  const rnn = trainTiny('model-rnn', 'rnn', 24, 0.01, 0.3, text);
  console.log(`[webview] trained an RNN and an LSTM (2 layers) for ${STEPS} steps with ${rnn.snapshots.length} snapshots each in ${((performance.now() - tTrain) / 1000).toFixed(1)}s`);
  const init: GradFlowInitMessage = { kind: 'gradflow/init', models: [lstm.info, rnn.info], primary: rnn.info.id, compare: null };
  const dataOf = (m: Trained, reset = true, from = 0): GradFlowDataMessage => ({ kind: 'gradflow/data', modelId: m.info.id, reset, snapshots: m.snapshots.slice(from) });
  const S = rnn.snapshots;
  const last = S.at(-1)!;
  const T = last.T;
  const top = 1; // layer 2, shown by default

  const { server, origin } = await serve({
    title: 'Gradient Flow', panel: 'gradflow', styles: ['panel.css'],
    body: `  <main id="app" class="panel gradflow" aria-busy="true">\n    <p class="placeholder">Loading the gradient flow…</p>\n  </main>`,
  });
  const { browser, page, pageErrors } = await launch({ width: 1200, height: 1050 });

  const runner = createRunner();
  const test = runner.test;

  try {
    console.log('gradient-flow panel');
    await test('the shipped bundle (webview/gradflow/main.ts) loads under the CSP, says panel/ready and has no test hook', () => productionBundleLoads(browser, origin));
    await test('loads under the webview CSP (no violations, no errors) and asks for its data', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, DARK_MODERN);
      assert.deepEqual((await posted(page)).map((m) => m.kind), ['panel/ready']);
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(pageErrors, []);
      assert.equal(await page.evaluate(() => !!customElements.get('vscode-single-select')), true);
      assert.equal(await page.locator('#empty').isVisible(), true, 'no data yet: the empty note shows');
    });

    await test('the unrolled network: x, h per layer and o nodes for every step; h sized by ‖∂E/∂h_k‖ on the log scale; W edges by ∇W terms', async () => {
      await post(page, init);
      await post(page, dataOf(rnn));
      const h = await attrs(page, '#net circle.node-h');
      assert.equal(h.length, 2 * T);
      assert.equal((await attrs(page, '#net circle.node-o')).length, T);
      assert.equal((await attrs(page, '#net circle.node-x')).length, T);
      const ds = await dataset(page, 'net');
      const [lo, hi] = decades([...last.hGradNorm.flat()]);
      assert.ok(Math.abs(Number(ds.hLo) / lo - 1) < 1e-9 && Math.abs(Number(ds.hHi) / hi - 1) < 1e-9, `node scale ${ds.hLo}..${ds.hHi}`);
      for (const n of h) {
        const v = last.hGradNorm[Number(n['data-layer'])]![Number(n['data-k'])]!;
        assert.equal(Number(n['data-value']), v);
        const u = v > lo ? Math.min((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)), 1) : 0;
        assert.ok(Math.abs(Number(n.r) - (3 + 6 * u)) < 0.006, `radius ${n.r} for ${v}`);
      }
      const w = await attrs(page, '#net line.edge-w');
      assert.equal(w.length, 2 * (T - 1));
      const [wlo, whi] = decades(last.wContribution.flat());
      for (const e of w) {
        const v = last.wContribution[Number(e['data-layer'])]![Number(e['data-k'])]!;
        assert.equal(Number(e['data-value']), v);
        const u = v > wlo ? Math.min((Math.log10(v) - Math.log10(wlo)) / (Math.log10(whi) - Math.log10(wlo)), 1) : 0;
        assert.ok(Math.abs(Number(e['stroke-width']) - (0.5 + 6 * u)) < 0.006);
      }
      const chars = await page.locator('#net text.char').allTextContents();
      assert.equal(chars.length, T);
      assert.equal(chars.join('').replace(/␣/g, ' ').replace(/↵/g, '\n'), [...last.text].slice(0, T).join(''));
      assert.match(await page.locator('#snapshot-label').textContent() ?? '', new RegExp(`${S.length}/${S.length} · step ${last.step}`));
    });

    await test('bars: ‖∂E/∂h_k‖ of the top layer on a log scale, heights match the data', async () => {
      await assertBars(page, last.hGradNorm[top]!, 'whole-window bars');
    });

    await test('clicking o_t selects that error: bars become ‖∂e_t/∂h_k‖ (zero after t), nodes follow, state saved', async () => {
      const t = T - 1;
      await page.locator(`#net circle.node-o[data-t="${t}"]`).click();
      await settle(page);
      assert.equal(await page.evaluate(() => window.__rnnLab.view.errorAt), t);
      const i = last.rowTs.indexOf(t);
      assert.ok(i >= 0);
      await assertBars(page, last.rowH[top]![i]!, `e_${t} bars`);
      assert.equal((await dataset(page, 'bars')).row, String(t));
      const h = await attrs(page, `#net circle.node-h[data-layer="${top}"]`);
      assert.deepEqual(h.map((n) => Number(n['data-value'])), last.rowH[top]![i]!);
      assert.equal(JSON.parse(await page.evaluate(() => sessionStorage.getItem('vscodeState'))).errorAt, t);
      // A middle error: nothing flows forward in time (∂e_t/∂h_k = 0 for k > t).
      const mid = Math.floor(T / 2);
      await page.locator(`#net circle.node-o[data-t="${mid}"]`).click();
      await settle(page);
      const bars = await attrs(page, '#bars rect.bar');
      assert.ok(bars.slice(mid + 1).every((b) => Number(b.height) === 0), 'no bars after t');
      assert.ok(bars.slice(0, mid + 1).every((b) => Number(b.height) > 0), 'bars up to t');
      assert.match(await page.locator('#error-label').textContent() ?? '', new RegExp(`e_${mid}`));
      // The stacked bars: step k gets a segment from every traced error t ≥ k, and the values are the ∇W terms.
      const segs = await attrs(page, '#stack rect.seg');
      const k0 = segs.filter((s) => s['data-k'] === '0');
      assert.equal(k0.length, last.rowTs.filter((_t, j) => last.rowW[top]![j]![0]! > 0).length);
      for (const s of segs.slice(0, 50)) {
        const j = last.rowTs.indexOf(Number(s['data-t']));
        assert.equal(Number(s['data-value']), last.rowW[top]![j]![Number(s['data-k'])]!);
      }
    });

    await test('keyboard: Tab reaches every control; o_t is one tab stop, ArrowLeft/ArrowRight select the error, Enter/Space toggle; Enter on "Whole window E"; focus ring in --vscode-focusBorder', async () => {
      const mid = Math.floor(T / 2);
      const focused = () => page.evaluate(() => {
        const a = document.activeElement;
        return a?.id || (a?.classList?.contains('node-o') ? `o${a.getAttribute('data-t')}` : a?.tagName);
      });
      await page.locator('#snapshot').focus();
      const order: string[] = [await focused()];
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        order.push(await focused());
      }
      // Compare is disabled (so skipped) while no other model is listed.
      const compareOn = await page.evaluate(() => !document.getElementById('compare').hasAttribute('disabled'));
      const want = ['snapshot', 'layer', 'whole', ...(compareOn ? ['compare'] : []), `o${mid}`];
      assert.deepEqual(order.slice(0, want.length), want, `tab order ${order}`);
      assert.notEqual(order[want.length], `o${mid + 1}`, 'the outputs are one tab stop, not T');
      assert.equal(await page.locator('#net .node-o[tabindex="0"]').count(), 1);
      await page.keyboard.press('Shift+Tab');
      assert.equal(await focused(), `o${mid}`);
      const errorAt = () => page.evaluate(() => window.__rnnLab.view.errorAt);
      await page.keyboard.press('ArrowLeft');
      await settle(page);
      assert.equal(await errorAt(), mid - 1);
      assert.equal(await focused(), `o${mid - 1}`, 'the focus follows the selection across the redraw');
      assert.match(await page.locator('#error-label').textContent() ?? '', new RegExp(`e_${mid - 1}`));
      const ring = await page.evaluate(() => window.getComputedStyle(document.activeElement).stroke);
      assert.equal(ring, `rgb(${DARK_MODERN.vars['--vscode-focusBorder']!.slice(1).match(/../g)!.map((h) => parseInt(h, 16)).join(', ')})`, 'the focused o_t is ringed in --vscode-focusBorder');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await settle(page);
      assert.equal(await errorAt(), mid + 1);
      const i = last.rowTs.indexOf(mid + 1);
      if (i >= 0) await assertBars(page, last.rowH[top]![i]!, `e_${mid + 1} bars (keyboard)`);
      await page.keyboard.press('End');
      await settle(page);
      assert.equal(await errorAt(), T - 1);
      await page.keyboard.press('ArrowRight');
      await settle(page);
      assert.equal(await errorAt(), T - 1, 'stays on the last output');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await errorAt(), null, 'Enter on the selected output goes back to the whole window');
      await page.keyboard.press(' ');
      await settle(page);
      assert.equal(await errorAt(), T - 1, 'Space selects it again');
      // "Whole window E" by keyboard.
      await page.locator('#whole').focus();
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await errorAt(), null);
      // The snapshot slider by keyboard.
      await page.locator('#snapshot').focus();
      await page.keyboard.press('ArrowLeft');
      await settle(page);
      assert.equal(await page.evaluate(() => window.__rnnLab.view.snapshot), S.length - 2);
      const outline = await page.evaluate(() => { const st = window.getComputedStyle(document.getElementById('snapshot')); return [st.outlineStyle, st.outlineColor]; });
      assert.equal(outline[0], 'solid', 'the slider shows a focus outline');
      await page.keyboard.press('End');
      await settle(page);
      assert.equal(await page.evaluate(() => window.__rnnLab.view.snapshot), null);
      // Back to the middle error for the tests that follow.
      await page.locator(`#net circle.node-o[data-t="${mid}"]`).click();
      await settle(page);
      assert.equal(await errorAt(), mid);
    });

    await test('the slider scrubs through the snapshots: network, bars and the cursor on the history chart follow', async () => {
      await setControl(page, 'snapshot', '0', 'input');
      assert.equal(await page.evaluate(() => window.__rnnLab.view.snapshot), 0);
      assert.match(await page.locator('#snapshot-label').textContent() ?? '', new RegExp(`^1/${S.length} · step ${S[0]!.step} `));
      const i = S[0]!.rowTs.indexOf(Math.floor(T / 2));
      await assertBars(page, S[0]!.rowH[top]![i]!, 'first snapshot bars');
      assert.equal(Number((await attrs(page, '#history-cursor'))[0]!['data-x']), S[0]!.step);
      await setControl(page, 'snapshot', '2', 'input');
      assert.equal(Number((await attrs(page, '#history-cursor'))[0]!['data-x']), S[2]!.step);
      const h = await attrs(page, '#net circle.node-h[data-layer="0"]');
      const j = S[2]!.rowTs.indexOf(Math.floor(T / 2));
      assert.deepEqual(h.map((n) => Number(n['data-value'])), S[2]!.rowH[0]![j]!);
      await setControl(page, 'snapshot', String(S.length - 1), 'input');
      assert.equal(await page.evaluate(() => window.__rnnLab.view.snapshot), null, 'the last position follows the newest snapshot');
    });

    await test('over training: one line per parameter, global norm before/after clipping, clipping events marked', async () => {
      const params = await attrs(page, '#history polyline.param-line');
      assert.deepEqual(params.map((p) => p['data-label']), Object.keys(last.paramGradNorms));
      const before = (await attrs(page, '#history polyline.norm-before'))[0]!;
      const after = (await attrs(page, '#history polyline.norm-after'))[0]!;
      assert.equal(before.points!.split(' ').length, S.length);
      assert.equal(after.points!.split(' ').length, S.length);
      const ds = await dataset(page, 'history');
      const [lo, hi] = [Number(ds.lo), Number(ds.hi)];
      before.points!.split(' ').forEach((p, i) => {
        const y = Number(p.split(',')[1]);
        const want = Number(ds.bottom) - ((Math.log10(S[i]!.gradNorm) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (Number(ds.bottom) - Number(ds.top));
        assert.ok(Math.abs(y - want) < 0.01, `global norm point ${i}`);
      });
      const clipped = S.filter((s) => s.clipped);
      assert.ok(clipped.length > 0, 'the RNN was trained with clip 0.3: some steps clip');
      assert.deepEqual((await attrs(page, '#history path.clip-mark')).map((m) => Number(m['data-x'])), clipped.map((s) => s.step));
    });

    await test('compare RNN vs LSTM: picking the LSTM asks the host, then two decay curves on one log chart match the data', async () => {
      await setControl(page, 'compare', lstm.info.id);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'gradflow/compare', modelId: lstm.info.id });
      await post(page, dataOf(lstm));
      const lines = await attrs(page, '#decay polyline.decay-line');
      assert.deepEqual(lines.map((l) => l['data-model']), [rnn.info.id, lstm.info.id]);
      const ds = await dataset(page, 'decay');
      const [lo, hi, b, tp] = [Number(ds.lo), Number(ds.hi), Number(ds.bottom), Number(ds.top)];
      const curves = [decay(last, top), decay(lstm.snapshots.at(-1)!, 1)];
      lines.forEach((l, m) => {
        const ys = l.points!.split(' ').map((p) => Number(p.split(',')[1]));
        assert.equal(ys.length, curves[m]!.length);
        ys.forEach((y, d) => {
          const v = curves[m]![d]!;
          const f = v > lo ? Math.min((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)), 1) : 0;
          assert.ok(Math.abs(y - (b - f * (b - tp))) < 0.01, `curve ${m} at d=${d}`);
        });
      });
      assert.equal(curves[0]![0], 1, 'relative to d = 0');
      const legend = await page.locator('#decay-legend').textContent();
      assert.match(legend ?? '', /RNN 24×2.*LSTM 24×2/);
      console.log(`    decay at d=20: RNN ${curves[0]![20]?.toExponential(2)}, LSTM ${curves[1]![20]?.toExponential(2)}`);
    });

    await test('bad host messages are ignored, the drawing unchanged, and each is reported to the host', async () => {
      const before = await attrs(page, '#bars rect.bar');
      const errorsBefore = (await posted(page)).filter((m) => m.kind === 'panel/error').length;
      const broken = { ...last, rowH: [[[1, 2]]] };
      await post(page, { kind: 'gradflow/data', modelId: rnn.info.id, reset: true, snapshots: [broken] });
      await post(page, { kind: 'gradflow/data', modelId: rnn.info.id, reset: true, snapshots: [{ ...last, T: -3 }] });
      await post(page, { kind: 'gradflow/explode' });
      await post(page, 17);
      assert.deepEqual(await attrs(page, '#bars rect.bar'), before);
      const errors = (await posted(page)).filter((m) => m.kind === 'panel/error');
      assert.equal(errors.length, errorsBefore + 4);
      assert.match(errors.at(-4)!.message as string, /rowH and rowW must be/);
      assert.match(errors.at(-3)!.message as string, /T must be a positive integer/);
      assert.match(errors.at(-2)!.message as string, /unknown kind "gradflow\/explode"/);
      for (const e of errors) assert.ok(checkGradFlowWebviewMessage(e).ok, 'the host accepts the report');
      assert.deepEqual(pageErrors, []);
    });

    await test('screenshots in the light and dark default themes', async () => {
      await setControl(page, 'snapshot', String(S.length - 1), 'input');
      await page.locator(`#net circle.node-o[data-t="${T - 1}"]`).click();
      await applyTheme(page, LIGHT_MODERN);
      const fill = (await attrs(page, '#net circle.node-h'))[0]!.stroke!;
      assert.equal(fill, LIGHT_MODERN.vars['--vscode-charts-orange']);
      await page.screenshot({ path: path.join(OUT, 'webview-gradflow-light.png'), fullPage: true });
      await applyTheme(page, DARK_MODERN);
      await page.screenshot({ path: path.join(OUT, 'webview-gradflow-dark.png'), fullPage: true });
      for (const f of ['webview-gradflow-light.png', 'webview-gradflow-dark.png']) assert.ok(statSync(path.join(OUT, f)).size > 20_000);
    });

    await test('high contrast (dark and light): nodes, bars and lines use the theme\'s variables; screenshots', async () => {
      for (const [theme, name] of [[DARK_HC, 'hc-dark'], [LIGHT_HC, 'hc-light']] as const) {
        await applyTheme(page, theme);
        const h = (await attrs(page, '#net circle.node-h'))[0]!;
        assert.equal(h.stroke, theme.vars['--vscode-charts-orange'], `${name}: h nodes in --vscode-charts-orange`);
        const o = (await attrs(page, '#net circle.node-o.selected'))[0]!;
        assert.equal(o.fill, theme.vars['--vscode-charts-red'], `${name}: the selected o_t in --vscode-charts-red`);
        await page.screenshot({ path: path.join(OUT, `webview-gradflow-${name}.png`), fullPage: true });
      }
      await page.evaluate((ks) => { for (const k of ks) document.documentElement.style.removeProperty(k); }, HC_ONLY);
      await applyTheme(page, DARK_MODERN);
    });

    await test('reload restores the view (model, error, compare) from the saved state and asks for data again', async () => {
      await page.reload();
      await page.waitForFunction(() => window.__posted?.length > 0);
      const view = await page.evaluate(() => window.__rnnLab.view);
      assert.equal(view.modelId, rnn.info.id);
      assert.equal(view.errorAt, T - 1);
      assert.equal(view.compare, lstm.info.id);
      await post(page, { ...init, compare: lstm.info.id });
      await post(page, dataOf(rnn));
      await assertBars(page, last.rowH[top]![last.rowTs.indexOf(T - 1)]!, 'restored bars');
    });

    await test('host side: messages from the webview are checked as untrusted input', async () => {
      for (const r of [null, 1, [], { kind: 'nope' }, { kind: 'panel/ready', x: 1 }, { kind: 'gradflow/compare', modelId: '../x' }, { kind: 'gradflow/compare', modelId: 3 }, { kind: 'gradflow/compare' , modelId: 'a', more: 1 }]) {
        assert.equal(checkGradFlowWebviewMessage(r).ok, false, JSON.stringify(r));
      }
      assert.ok(checkGradFlowWebviewMessage({ kind: 'gradflow/compare', modelId: null }).ok);
      assert.ok(checkGradFlowWebviewMessage({ kind: 'gradflow/compare', modelId: 'model-1' }).ok);
    });
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`gradflow webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('gradflow webview', main);
