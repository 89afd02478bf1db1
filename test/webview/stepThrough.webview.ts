/**
 * The gradient-flow panel's step-through of BPTT in a real Chromium: the
 * built page in the exact HTML the host gives the webview (KaTeX's sheet and
 * fonts from dist/webview, under the CSP), fed with REAL engine output: a
 * tiny 2-layer vanilla RNN and a GRU/LSTM trained here, their snapshots taken like the
 * trainer worker takes them, and each step-through request answered with
 * engine `stepThroughView` as the inference worker answers it (whose terms
 * test/unit/bptt.test.ts checks against finite differences). Checks that
 * every drawn number is the engine's, that KaTeX renders (and its fonts
 * load) without a CSP violation, the t slider, the layer picker, choosing
 * the error by clicking o_t, the error path, and takes light and dark
 * screenshots.
 *
 * Run: npm run test:webview (or node --import tsx test/webview/stepThrough.webview.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { traceBptt } from '../../src/engine/bptt';
import { stepThroughView, viewOfTrace, type StepThroughView } from '../../src/engine/bpttView';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import { gradFlowWindow } from '../../src/engine/gradflowSnapshot';
import { tsKernels } from '../../src/engine/kernels';
import { createModel, type Model } from '../../src/engine/model';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { checkGradFlowWebviewMessage } from '../../src/extension/panels/gradientFlowValidate';
import type { GradFlowModelInfo, GradFlowSnapshot, StepThroughTerm } from '../../src/shared/webviewProtocol';
import { formatValue } from '../../webview/gradflow/stepThroughFormat';
import { createRunner, launch, OUT, ROOT, runMain, serve } from './harness';
import { DARK_MODERN, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, requestAnimationFrame: any;

const SEQ = 24;

interface Trained {
  info: GradFlowModelInfo;
  model: Model;
  snapshots: GradFlowSnapshot[];
}

function trainTiny(id: string, cell: CellType, text: string): Trained {
  const vocab = Vocab.fromText(text);
  const { train } = splitTokens(vocab.encode(text).tokens, 0.1);
  const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: SEQ, optimizer: 'adam', lr: 0.01, clip: 5, seed: 5 };
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden: 16, layers: 2 }, vocab, config.seed);
  const trainer = new Trainer(model, config, train, tsKernels, rng);
  const snapshots: GradFlowSnapshot[] = [];
  for (let i = 0; i < 60; i++) {
    const r = trainer.step();
    if (r.step % 30 !== 0) continue;
    const B = config.batch;
    const tokens: number[] = [];
    for (let t = 0; t < SEQ; t++) tokens.push(trainer.graph.tokens[t * B]!);
    tokens.push(trainer.graph.targets[(SEQ - 1) * B]!);
    const w = gradFlowWindow(model, vocab.decode(tokens), tsKernels);
    snapshots.push({ step: r.step, gradNorm: r.gradNorm, clippedNorm: r.gradNorm, clipped: false, clip: 5, paramGradNorms: w.windowParamNorms, ...w });
  }
  return { info: { id, name: `${cell} 16×2`, cell, hidden: 16, layers: 2 }, model, snapshots };
}

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
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

type Asked = { kind: 'gradflow/stepThrough'; step: number; errorAt: number };

/** Waits for the page's n-th step-through request. */
async function nthRequest(page: Page, n: number): Promise<Asked> {
  await page.waitForFunction((k) => window.__posted.filter((m: any) => m.kind === 'gradflow/stepThrough').length >= k, n, { timeout: 10_000 });
  const all = await page.evaluate(() => window.__posted.filter((m: any) => m.kind === 'gradflow/stepThrough'));
  return all[n - 1] as Asked;
}

/** Answers a request the way the host does (the inference worker's stepThroughView on the snapshot's window). */
async function answer(page: Page, m: Trained, req: Asked): Promise<StepThroughView> {
  const s = m.snapshots.find((x) => x.step === req.step)!;
  const view = stepThroughView(m.model, s.text, req.errorAt);
  await post(page, { kind: 'gradflow/stepThroughResult', step: req.step, errorAt: req.errorAt, view: JSON.parse(JSON.stringify(view)), error: null });
  return view;
}

interface DrawnTerm { key: string; norm: number; normText: string; head: number[]; headText: string; katex: boolean }

const drawnTerms = (page: Page): Promise<DrawnTerm[]> =>
  page.evaluate(() => [...document.querySelectorAll('#st-terms tbody tr')].map((r: any) => ({
    key: r.dataset.key,
    norm: Number(r.querySelector('.st-norm').dataset.value),
    normText: r.querySelector('.st-norm').textContent,
    head: JSON.parse(r.querySelector('.st-head').dataset.values),
    headText: r.querySelector('.st-head').textContent,
    katex: !!r.cells[0].querySelector('.katex'),
  })));

function assertTerms(drawn: DrawnTerm[], expected: StepThroughTerm[], hidden: number, what: string): void {
  assert.deepEqual(drawn.map((d) => d.key), expected.map((e) => e.key), `${what}: the terms in order`);
  drawn.forEach((d, i) => {
    const e = expected[i]!;
    assert.equal(d.norm, e.norm, `${what}: ‖${e.key}‖`);
    assert.equal(d.normText, formatValue(e.norm), `${what}: ‖${e.key}‖ as written`);
    assert.deepEqual(d.head, e.head, `${what}: ${e.key}'s components`);
    assert.equal(d.headText, `[${e.head.map(formatValue).join(', ')}${hidden > e.head.length ? ', …' : ''}]`);
    assert.ok(d.katex, `${what}: ${e.key}'s name is typeset by KaTeX`);
  });
}

const CHAIN_COLUMNS = ['st-factor', 'st-bound', 'st-actual', 'st-wjac', 'st-wgrad'] as const;

async function assertChain(page: Page, v: StepThroughView, what: string): Promise<void> {
  const c = v.chain!;
  const rows = await page.evaluate((cols) => [...document.querySelectorAll('#st-chain tbody tr')].map((r: any) => ({
    k: Number(r.dataset.k),
    values: cols.map((cl: string) => Number(r.querySelector(`.${cl}`).dataset.value)),
    texts: cols.map((cl: string) => r.querySelector(`.${cl}`).textContent),
    bar: parseFloat(r.querySelector('.st-bar span').style.width),
  })), CHAIN_COLUMNS as unknown as string[]);
  assert.deepEqual(rows.map((r) => r.k), Array.from({ length: c.errorAt + 1 }, (_, i) => c.errorAt - i), `${what}: a row per step k = τ … 0`);
  for (const r of rows) {
    const k = r.k;
    const expected = [k === c.errorAt ? c.stateGradNorm[k]! : c.jacobianNorm[k + 1]!, c.stateBound[k]!, c.stateGradNorm[k]!, c.weightJacobianNorm[k]!, c.weightGradNorm[k]!];
    assert.deepEqual(r.values, expected, `${what}: row k = ${k}`);
    assert.deepEqual(r.texts, expected.map(formatValue));
  }
  // Each drawn bound is the drawn bound before it times the drawn factor (4 digits each), and bounds the drawn actual size.
  assert.equal(rows[0]!.values[1], rows[0]!.values[0], `${what}: the product starts at ‖∂e_τ/∂h_τ‖`);
  for (let i = 1; i < rows.length; i++) {
    const [factor, bound] = rows[i]!.values as [number, number];
    const product = rows[i - 1]!.values[1]! * factor;
    assert.ok(Math.abs(product - bound) <= 1.5e-3 * bound, `${what}: product of sizes at k = ${rows[i]!.k}: ${product} vs ${bound}`);
  }
  for (const r of rows) assert.ok(r.values[2]! <= r.values[1]! * 1.001, `${what}: the actual ‖∂e/∂s_${r.k}‖ stays under the product`);
  // Bars on the log scale: a larger ‖∂e_τ/∂W at k‖ is never drawn shorter.
  const byValue = [...rows].sort((a, b) => a.values[4]! - b.values[4]!);
  for (let i = 1; i < byValue.length; i++) assert.ok(byValue[i]!.bar >= byValue[i - 1]!.bar - 1e-9);
}

async function main(): Promise<number> {
  const t0 = performance.now();
  mkdirSync(OUT, { recursive: true });
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const rnn = trainTiny('model-rnn', 'rnn', text);
  const lstm = trainTiny('model-lstm', 'lstm', text);
  const T = SEQ;
  const last = rnn.snapshots.at(-1)!;

  const { server, origin } = await serve({
    title: 'Gradient Flow', panel: 'gradflow', styles: ['panel.css', '../dist/webview/katex.css', 'stepThrough.css'],
    body: `  <main id="app" class="panel gradflow" aria-busy="true">\n    <p class="placeholder">Loading the gradient flow…</p>\n  </main>`,
  });
  const { browser, page, pageErrors } = await launch({ width: 1200, height: 1400 });
  const runner = createRunner();
  const test = runner.test;
  let view!: StepThroughView;

  try {
    console.log('gradient-flow step-through');
    await test('asks the host to step through the shown snapshot, for the last error by default', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, DARK_MODERN);
      await post(page, { kind: 'gradflow/init', models: [rnn.info, lstm.info], primary: rnn.info.id, compare: null });
      await post(page, { kind: 'gradflow/data', modelId: rnn.info.id, reset: true, snapshots: rnn.snapshots });
      const req = await nthRequest(page, 1);
      assert.deepEqual(req, { kind: 'gradflow/stepThrough', step: last.step, errorAt: T - 1 });
      assert.ok(checkGradFlowWebviewMessage(req).ok, 'the host accepts it');
      view = await answer(page, rnn, req);
    });

    await test('draws every term of the recursion at t with the engine\'s numbers, typeset by KaTeX under the CSP', async () => {
      assert.equal(await page.evaluate(() => window.__rnnLab.stepThrough.shown.t), T - 1);
      assertTerms(await drawnTerms(page), [...view.output[T - 1]!, ...view.terms[1]![T - 1]!], 16, 't = T-1, layer 2');
      assert.deepEqual(view.terms[1]![T - 1]!.map((x) => x.key), ['above', 'recurrent', 'fprime', 'delta'], 'the RNN\'s terms: Vᵀδo_t, Wᵀδh_{t+1}, f′(s_t), δh_t');
      const eq = await page.evaluate(() => ({ katex: !!document.querySelector('#st-eq .katex-display'), text: document.querySelector('#st-eq .katex-mathml annotation')?.textContent }));
      assert.ok(eq.katex, 'the recursion is typeset in display mode');
      assert.equal(eq.text, view.recursionTex);
      await page.evaluate(() => document.fonts.ready);
      assert.equal(await page.evaluate(() => document.fonts.check('16px KaTeX_Main')), true, 'KaTeX\'s fonts load from dist/webview');
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(pageErrors, []);
      const label = await page.locator('#st-t-label').textContent();
      assert.ok(label!.includes(`e_t = ${formatValue(view.errors[T - 1]!)}`) && label!.includes(`o_t[y_t] = ${formatValue(view.targetProb[T - 1]!)}`), label!);
    });

    await test('the chain of e_τ: each factor\'s size, their product, and the actual sizes, as the engine computed them', async () => {
      await assertChain(page, view, 'e_{T-1}');
      await page.locator('#step-through').screenshot({ path: path.join(OUT, 'webview-stepthrough-rnn-dark.png') });
    });

    await test('the t slider and the layer picker show the terms of that step and layer', async () => {
      await page.evaluate(() => {
        const s = document.getElementById('st-t');
        s.value = '3';
        s.dispatchEvent(new Event('input', { bubbles: true }));
      });
      assertTerms(await drawnTerms(page), [...view.output[3]!, ...view.terms[1]![3]!], 16, 't = 3, layer 2');
      await page.selectOption('#st-layer', { value: '0' });
      const lower = view.terms[0]![3]!;
      assert.equal(lower[0]!.tex, String.raw`W_{ih}^{(2)\top} \delta^{(2)}_t`, 'below the top, the term from above is the layer above\'s');
      assertTerms(await drawnTerms(page), lower, 16, 't = 3, layer 1 (no o_t: it is the top layer\'s)');
      await page.selectOption('#st-layer', { value: '1' });
      assert.equal(await page.evaluate(() => window.__rnnLab.stepThrough.shown.layer), 1);
    });

    await test('clicking an output o_t asks for its chain; the answer redraws the chain', async () => {
      await page.locator('#net circle.node-o[data-t="9"]').click();
      await settle(page);
      const req = await nthRequest(page, 2);
      assert.deepEqual(req, { kind: 'gradflow/stepThrough', step: last.step, errorAt: 9 });
      view = await answer(page, rnn, req);
      await assertChain(page, view, 'e_9');
      assert.equal(await page.evaluate(() => window.__rnnLab.stepThrough.shown.t), 3, 'a step the user picked stays picked');
      await applyTheme(page, LIGHT_MODERN);
      await page.locator('#step-through').screenshot({ path: path.join(OUT, 'webview-stepthrough-rnn-light.png') });
    });

    await test('an LSTM: its own terms through h and c, and the chain of (h, c)', async () => {
      const lastL = lstm.snapshots.at(-1)!;
      const before = (await page.evaluate(() => window.__posted.filter((m: any) => m.kind === 'gradflow/stepThrough').length)) as number;
      await post(page, { kind: 'gradflow/init', models: [rnn.info, lstm.info], primary: lstm.info.id, compare: null });
      await post(page, { kind: 'gradflow/data', modelId: lstm.info.id, reset: true, snapshots: lstm.snapshots });
      const req = await nthRequest(page, before + 1);
      assert.equal(req.step, lastL.step);
      const v = await answer(page, lstm, req);
      const t = await page.evaluate(() => window.__rnnLab.stepThrough.shown.t);
      assert.deepEqual(v.terms[1]![t]!.map((x) => x.key), ['above', 'recurrent', 'direct1', 'dh', 'dc', 'f', 'di', 'df', 'dg', 'do']);
      assertTerms(await drawnTerms(page), [...v.output[t]!, ...v.terms[1]![t]!], 16, 'LSTM');
      await assertChain(page, v, 'LSTM');
      assert.equal(v.chainStateTex, '(h,c)');
      await applyTheme(page, DARK_MODERN);
      await page.locator('#step-through').screenshot({ path: path.join(OUT, 'webview-stepthrough-lstm-dark.png') });
    });

    await test('a chain the worker\'s time bound cut: dashes where factor sizes were left out, the actual sizes complete, and one line saying so', async () => {
      const lastL = lstm.snapshots.at(-1)!;
      const tau = lastL.T - 1;
      let asked = 0;
      // The worker's cut, made by the engine: four factors computed (k = τ … τ−3), then stop.
      const cut = viewOfTrace(lstm.model, lastL.text, traceBptt(lstm.model, lastL.text, { errorAt: tau, stopFactors: () => ++asked > 4 }));
      const c = cut.chain!;
      assert.equal(c.factorsFrom, tau - 3);
      await post(page, { kind: 'gradflow/stepThroughResult', step: lastL.step, errorAt: tau, view: JSON.parse(JSON.stringify(cut)), error: null });
      const rows = await page.evaluate(() => [...document.querySelectorAll('#st-chain tbody tr')].map((r: any) => ({
        k: Number(r.dataset.k), factor: r.querySelector('.st-factor').textContent, bound: r.querySelector('.st-bound').textContent,
        actual: Number(r.querySelector('.st-actual').dataset.value), wgrad: Number(r.querySelector('.st-wgrad').dataset.value),
      })));
      assert.equal(rows.length, tau + 1);
      for (const r of rows) {
        const factor = r.k === tau ? c.stateGradNorm[tau]! : c.jacobianNorm[r.k + 1];
        assert.equal(r.factor, factor === null ? '—' : formatValue(factor!), `factor at k = ${r.k}`);
        assert.equal(r.factor === '—', r.k < c.factorsFrom - 1, `k = ${r.k}: a dash exactly where the factor was not computed`);
        assert.equal(r.bound, c.stateBound[r.k] === null ? '—' : formatValue(c.stateBound[r.k]!), `bound at k = ${r.k}`);
        assert.equal(r.actual, c.stateGradNorm[r.k], 'the actual ‖∂e_τ/∂s_k‖ is always there');
        assert.equal(r.wgrad, c.weightGradNorm[r.k]);
      }
      assert.equal(await page.locator('#st-chain-cut').isVisible(), true);
      assert.match((await page.locator('#st-chain-cut').textContent())!, new RegExp(`^Factor sizes computed back to k = ${c.factorsFrom - 1} within the 4 s bound; earlier rows show the actual gradients only`));
      assert.match((await page.locator('#st-chain-note').textContent())!, /spectral norm .* at most 32 Lanczos steps/);
      await page.locator('#step-through').screenshot({ path: path.join(OUT, 'webview-stepthrough-cut-dark.png') });
      await post(page, { kind: 'gradflow/stepThroughResult', step: lastL.step, errorAt: tau, view: JSON.parse(JSON.stringify(stepThroughView(lstm.model, lastL.text, tau))), error: null });
      assert.equal(await page.locator('#st-chain-cut').isVisible(), false, 'a complete chain has no cut line');
    });

    await test('a model without a step-through: the host\'s one-line reason shows instead of the tables', async () => {
      const reason = 'Could not step through: the step-through follows the recurrent cells\' equations; GPT has none (train an RNN, LSTM or GRU)';
      await post(page, { kind: 'gradflow/stepThroughResult', step: 1, errorAt: 0, view: null, error: reason });
      assert.equal(await page.locator('#st-status').textContent(), reason);
      assert.equal(await page.locator('#st-terms').isVisible(), false);
      assert.equal(await page.locator('#st-chain').isVisible(), false);
    });

    await test('malformed answers are reported, not drawn; the host rejects malformed requests', async () => {
      const n = (await page.evaluate(() => window.__posted.filter((m: any) => m.kind === 'panel/error').length)) as number;
      await post(page, { kind: 'gradflow/stepThroughResult', step: 1, errorAt: 0, view: { T: 2 }, error: null });
      assert.equal(await page.evaluate(() => window.__posted.filter((m: any) => m.kind === 'panel/error').length), n + 1);
      for (const r of [{ kind: 'gradflow/stepThrough', step: -1, errorAt: 0 }, { kind: 'gradflow/stepThrough', step: 1, errorAt: 0.5 }, { kind: 'gradflow/stepThrough', step: 1, errorAt: 1, text: 'x' }, { kind: 'gradflow/stepThrough', step: '1', errorAt: 1 }]) {
        assert.equal(checkGradFlowWebviewMessage(r).ok, false, JSON.stringify(r));
      }
    });
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`stepThrough webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('stepThrough webview', main);
