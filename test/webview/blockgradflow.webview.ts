/**
 * The gradient-flow panel for the block models in a real Chromium, fed with
 * REAL engine output: a tiny gpt, a tiny minGRU and a tiny vanilla RNN
 * trained here, with snapshots taken as the run loop takes them
 * (gradFlowWindow). Checks the block labels (x on the residual stream
 * entering each block, the mixer's input weight, no recurrent edges), the
 * drawn values against the data, and the decay compare across families
 * (gpt against the RNN, minGRU against gpt), and takes screenshots.
 *
 * Run: npm run build && node --import tsx test/webview/blockgradflow.webview.ts
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config';
import { gradFlowWindow } from '../../src/engine/gradflowSnapshot';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { infoOf } from '../../src/engine/models/catalog';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import type { GradFlowDataMessage, GradFlowInitMessage, GradFlowModelInfo, GradFlowSnapshot } from '../../src/shared/webviewProtocol';
import { createRunner, ensureChromium, launch, OUT, runMain, serve } from './harness';
import { DARK_MODERN, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, requestAnimationFrame: any;

const SEQ = 40;
const TEXT = 'the quick brown fox jumps over the lazy dog; the dog sleeps.\n'.repeat(40);

interface Trained {
  info: GradFlowModelInfo;
  snapshots: GradFlowSnapshot[];
}

function trainTiny(id: string, config: Omit<ModelConfig, 'vocabSize'>, steps: number): Trained {
  const vocab = Vocab.fromText(TEXT);
  const { train } = splitTokens(vocab.encode(TEXT).tokens, 0.1);
  const tc: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: SEQ, optimizer: 'adam', lr: 0.01, clip: 1, seed: 5 };
  const { model, rng } = createModel(config, vocab, tc.seed);
  const trainer = new Trainer(model, tc, train, tsKernels, rng);
  const snapshots: GradFlowSnapshot[] = [];
  for (let i = 0; i < steps; i++) {
    const r = trainer.step();
    if (r.step !== 1 && r.step !== steps) continue;
    const w = gradFlowWindow(model, TEXT.slice(7, 7 + SEQ + 1), tsKernels);
    snapshots.push({ step: r.step, gradNorm: r.gradNorm, clippedNorm: Math.min(r.gradNorm, 1), clipped: r.clipped, clip: 1, paramGradNorms: w.windowParamNorms, ...w });
  }
  const info = infoOf(config.cell);
  return { info: { id, name: `${info.title} ${config.hidden}×${config.layers}`, cell: config.cell, family: info.title, hidden: config.hidden, layers: config.layers }, snapshots };
}

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

function attrs(page: Page, selector: string): Promise<Record<string, string>[]> {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].map((e: any) => Object.fromEntries([...e.attributes].map((a: any) => [a.name, a.value]))), selector);
}

async function setControl(page: Page, id: string, value: string): Promise<void> {
  await page.evaluate(([i, v]) => {
    const el = document.getElementById(i);
    el.value = v;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, [id, value] as const);
  await settle(page);
}

/** The decay of ∂e_t/∂x_{t-d} relative to d = 0, geometric mean over the traced t (independent of the page). */
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

/** The y values of a decay polyline, read back through the chart's log scale. */
async function decayValues(page: Page, model: string): Promise<number[]> {
  return page.evaluate((m) => {
    const svg = document.getElementById('decay');
    const ds = svg.dataset;
    const line = svg.querySelector(`polyline.decay-line[data-model="${m}"]`);
    const lo = Math.log10(Number(ds.lo));
    const hi = Math.log10(Number(ds.hi));
    return line.getAttribute('points').split(' ').map((p: string) => {
      const y = Number(p.split(',')[1]);
      return 10 ** (lo + ((Number(ds.bottom) - y) / (Number(ds.bottom) - Number(ds.top))) * (hi - lo));
    });
  }, model);
}

async function main(): Promise<number> {
  ensureChromium();
  mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  const gpt = trainTiny('model-gpt', { cell: 'gpt', activation: 'tanh', hidden: 16, layers: 2, heads: 2, context: SEQ }, 40);
  const mingru = trainTiny('model-mingru', { cell: 'mingru', activation: 'tanh', hidden: 16, layers: 2 }, 40);
  const rnn = trainTiny('model-rnn', { cell: 'rnn', activation: 'tanh', hidden: 16, layers: 1 }, 40);
  console.log(`[webview] trained a gpt, a minGRU and an RNN for 40 steps in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  const models = [gpt.info, mingru.info, rnn.info];
  const dataOf = (m: Trained): GradFlowDataMessage => ({ kind: 'gradflow/data', modelId: m.info.id, reset: true, snapshots: m.snapshots });
  const last = gpt.snapshots.at(-1)!;
  const T = last.T;
  assert.equal(T, SEQ);

  const { server, origin } = await serve({
    title: 'Gradient Flow', panel: 'gradflow', styles: ['panel.css'],
    body: `  <main id="app" class="panel gradflow" aria-busy="true">\n    <p class="placeholder">Loading the gradient flow…</p>\n  </main>`,
  });
  const { browser, page, pageErrors } = await launch({ width: 1200, height: 1100 });
  const runner = createRunner();
  const test = runner.test;

  try {
    console.log('gradient-flow panel: block models');
    await test('a gpt: rows are the residual stream entering each block (tok, x1, x2, o); no recurrent edges; titles and the layer picker say so', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, DARK_MODERN);
      const init: GradFlowInitMessage = { kind: 'gradflow/init', models, primary: gpt.info.id, compare: null };
      await post(page, init);
      await post(page, dataOf(gpt));
      const rowNames = await page.evaluate(() => [...document.querySelectorAll('#net > text')].map((t: any) => t.textContent));
      assert.deepEqual(rowNames, ['tok', 'x1', 'x2', 'o']);
      assert.equal((await attrs(page, '#net circle.node-h')).length, 2 * T);
      const edges = await attrs(page, '#net line.edge-w');
      assert.equal(edges.length, 2 * T, 'one stream edge into every x_k of every block');
      for (const e of edges) {
        assert.equal(e.x1, e.x2, 'stream edges are vertical: a block links its steps inside the mixer');
        assert.equal(Number(e['data-value']), last.wContribution[Number(e['data-layer'])]![Number(e['data-k'])]!);
      }
      for (const n of await attrs(page, '#net circle.node-h')) assert.equal(Number(n['data-value']), last.hGradNorm[Number(n['data-layer'])]![Number(n['data-k'])]!);
      assert.match(await page.locator('#net-title').textContent() ?? '', /‖∂E\/∂xt‖ on the residual stream entering each block/);
      assert.match(await page.locator('#stack-title').textContent() ?? '', /∇Win \(the mixer's input weight\)/);
      assert.match(await page.locator('#bars-title').textContent() ?? '', /‖∂E\/∂xk‖ by step k/);
      const options = await page.evaluate(() => [...document.querySelectorAll('#layer vscode-option')].map((o: any) => o.textContent));
      assert.deepEqual(options, ['block 1', 'block 2 (top)']);
      const tip = await page.evaluate(() => document.querySelector('#net circle.node-h[data-layer="1"] title').textContent);
      assert.match(tip, /^x2_0 \(block 2: residual stream x\): ‖∂E\/∂x‖ = /);
      const compare = await page.evaluate(() => [...document.querySelectorAll('#compare vscode-option')].map((o: any) => o.textContent));
      assert.deepEqual(compare, ['none', 'minGRU 16×2 (minGRU)', 'vanilla RNN 16×1 (vanilla RNN)'], 'any other model, of any family, can be compared');
      assert.deepEqual(pageErrors, []);
    });

    await test('an error e_t of the gpt: the bars are ‖∂e_t/∂x_k‖ of the top block, zero after t', async () => {
      const t = T - 1;
      await page.locator(`#net circle.node-o[data-t="${t}"]`).click();
      await settle(page);
      const i = last.rowTs.indexOf(t);
      const bars = await attrs(page, '#bars rect.bar');
      assert.deepEqual(bars.map((b) => Number(b['data-value'])), last.rowH[1]![i]!);
      assert.match(await page.locator('#bars-title').textContent() ?? '', new RegExp(`‖∂e${t}/∂xk‖`));
      const mid = 10;
      await page.locator(`#net circle.node-o[data-t="${mid}"]`).click();
      await settle(page);
      const mbars = await attrs(page, '#bars rect.bar');
      assert.ok(mbars.slice(mid + 1).every((b) => Number(b.height) === 0), 'nothing flows back from the future');
    });

    await test('compare decay: the gpt against the vanilla RNN on one chart; the RNN\'s gradient vanishes where attention reaches straight back', async () => {
      await setControl(page, 'compare', rnn.info.id);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'gradflow/compare', modelId: rnn.info.id });
      await post(page, dataOf(rnn));
      const labels = (await attrs(page, '#decay polyline.decay-line')).map((l) => l['data-label']);
      assert.equal(labels.length, 2);
      assert.equal(labels[0], 'GPT 16×2 (GPT, block 2: residual stream x, snapshot at step 40)');
      assert.equal(labels[1], 'vanilla RNN 16×1 (vanilla RNN, layer 1: h, latest, at step 40)');
      assert.match(await page.locator('#decay-title').textContent() ?? '', /∂\(x or h\)t−d/);
      const g = decay(last, 1);
      const r = decay(rnn.snapshots.at(-1)!, 0);
      const gotG = await decayValues(page, gpt.info.id);
      const gotR = await decayValues(page, rnn.info.id);
      assert.equal(gotG.length, g.length);
      gotG.forEach((v, d) => assert.ok(Math.abs(Math.log10(v) - Math.log10(g[d]!)) < 1e-3, `gpt decay at d = ${d}: ${v} vs ${g[d]}`));
      gotR.forEach((v, d) => assert.ok(Math.abs(Math.log10(v) - Math.log10(r[d]!)) < 1e-3, `rnn decay at d = ${d}: ${v} vs ${r[d]}`));
      const d = 30;
      console.log(`    decay at d=${d}: RNN ${r[d]!.toExponential(2)}, GPT ${g[d]!.toExponential(2)}`);
      assert.ok(g[d]! > 100 * r[d]!, `at d = ${d} the gpt's gradient (${g[d]}) is far above the RNN's (${r[d]})`);
      await page.screenshot({ path: path.join(OUT, 'webview-gradflow-gpt-dark.png'), fullPage: true });
    });

    await test('a minGRU compared with the gpt: its rows and labels are blocks too', async () => {
      await post(page, { kind: 'gradflow/init', models, primary: mingru.info.id, compare: gpt.info.id } satisfies GradFlowInitMessage);
      await post(page, dataOf(mingru));
      await post(page, dataOf(gpt));
      const rowNames = await page.evaluate(() => [...document.querySelectorAll('#net > text')].map((t: any) => t.textContent));
      assert.deepEqual(rowNames, ['tok', 'x1', 'x2', 'o']);
      const labels = (await attrs(page, '#decay polyline.decay-line')).map((l) => l['data-label']);
      assert.match(labels[0]!, /^minGRU 16×2 \(minGRU, block 2: residual stream x/);
      assert.match(labels[1]!, /^GPT 16×2 \(GPT, block 2: residual stream x/);
      const m = mingru.snapshots.at(-1)!;
      for (const n of await attrs(page, '#net circle.node-h')) assert.equal(Number(n['data-value']), m.hGradNorm[Number(n['data-layer'])]![Number(n['data-k'])]!);
      await applyTheme(page, LIGHT_MODERN);
      await page.screenshot({ path: path.join(OUT, 'webview-gradflow-mingru-light.png'), fullPage: true });
      for (const f of ['webview-gradflow-gpt-dark.png', 'webview-gradflow-mingru-light.png']) assert.ok(statSync(path.join(OUT, f)).size > 20_000);
    });

    await test('snapshots with bad row names are refused and reported', async () => {
      const before = (await posted(page)).filter((m) => m.kind === 'panel/error').length;
      await post(page, { ...dataOf(gpt), snapshots: [{ ...last, taps: ['only one'] }] });
      await post(page, { ...dataOf(gpt), snapshots: [{ ...last, network: 'attention' }] });
      const errors = (await posted(page)).filter((m) => m.kind === 'panel/error').slice(before);
      assert.equal(errors.length, 2);
      assert.match(errors[0]!.message as string, /taps must name every row/);
      assert.match(errors[1]!.message as string, /network must be cells or blocks/);
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`block gradflow webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('block gradflow webview', main);
