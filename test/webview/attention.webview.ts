/**
 * The Hidden states view for the block models in a real Chromium, fed with
 * REAL engine output: a tiny gpt and a tiny minGRU trained here for a few
 * dozen steps, then traceHiddenStates on a text, through the host's own
 * message builders. Checks the attention view (pixels against the engine's
 * weights, picking the query by click and keyboard, each head's strongest
 * positions), that the residual stream x and the mixers' h and gates are
 * offered and drawn, bad messages, and takes screenshots.
 *
 * Run: npm run build && node --import tsx test/webview/attention.webview.ts
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config';
import { traceHiddenStates } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { checkHiddenWebviewMessage } from '../../src/extension/panels/validate';
import { attentionMessage, matrixMessage, quantitiesOf, traceMessage } from '../../src/shared/panels/hiddenStatesData';
import type { InferTraceResult } from '../../src/shared/protocol';
import { createRunner, ensureChromium, launch, OUT, runMain, serve } from './harness';
import { DARK_HC, DARK_MODERN, HC_ONLY, LIGHT_HC, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, requestAnimationFrame: any;

const TEXT = 'the cat sat on the mat. the cat ate the rat. the rat sat.\n';
const CORPUS = TEXT.repeat(60);

function trainAndTrace(config: Omit<ModelConfig, 'vocabSize'>, steps: number): InferTraceResult {
  const vocab = Vocab.fromText(CORPUS);
  const { train } = splitTokens(vocab.encode(CORPUS).tokens, 0.1);
  const tc: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: 32, optimizer: 'adam', lr: 0.01, seed: 3 };
  const { model, rng } = createModel(config, vocab, tc.seed);
  const trainer = new Trainer(model, tc, train, tsKernels, rng);
  let first = 0;
  let last = 0;
  for (let k = 0; k < steps; k++) {
    const r = trainer.step();
    if (k === 0) first = r.loss;
    last = r.loss;
  }
  console.log(`[webview] trained a tiny ${config.cell} ${config.hidden}×${config.layers} for ${steps} steps (loss ${first.toFixed(3)} → ${last.toFixed(3)} nats)`);
  const t = traceHiddenStates(model, TEXT, tsKernels);
  return {
    cell: config.cell as InferTraceResult['cell'], hidden: t.hidden, chars: t.chars, vocab: [...vocab.chars], unknown: t.unknown,
    layers: t.layers, nextProbs: t.nextProbs, surprisalBits: t.surprisalBits, ...(t.attention ? { attention: t.attention } : {}),
  };
}

const BODY = `  <main id="app" class="panel hidden-view" aria-busy="true">\n    <p class="placeholder">Loading the hidden states…</p>\n  </main>`;
type Posted = { kind: string; [k: string]: unknown };

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
}

async function applyTheme(page: Page, theme: ThemeVars): Promise<void> {
  await page.evaluate((t) => {
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
    document.body.className = t.bodyClass;
  }, theme);
  await settle(page);
  await settle(page);
}

const posted = (page: Page): Promise<Posted[]> => page.evaluate(() => window.__posted);

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await settle(page);
}

function hexRgb(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** The attention grid's scale written out again: the background at 0, charts-blue at the row's largest weight. */
function expectedCell(theme: ThemeVars, w: number, rowMax: number): [number, number, number] {
  const bg = hexRgb(theme.vars['--vscode-sideBar-background'] ?? theme.vars['--vscode-editor-background']!);
  const to = hexRgb(theme.vars['--vscode-charts-blue']!);
  const a = rowMax > 0 ? w / rowMax : 0;
  return [0, 1, 2].map((i) => Math.round(bg[i]! + (to[i]! - bg[i]!) * a)) as [number, number, number];
}

const near = (a: number[], b: number[], tol = 2): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

/** Pixel RGB at the centre of attention cell (row, position s). */
async function cellPixel(page: Page, row: number, s: number): Promise<number[]> {
  return page.evaluate(([r, ss]) => {
    const c = document.getElementById('att-grid');
    const sc = document.getElementById('att-scroller');
    const l = window.__rnnLab.layout;
    const x = Math.floor(ss * l.cellW - sc.scrollLeft + l.cellW / 2);
    const y = Math.floor(r * l.attRowH + l.attRowH / 2);
    return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3));
  }, [row, s] as const);
}

async function main(): Promise<number> {
  ensureChromium();
  mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  const gpt = trainAndTrace({ cell: 'gpt', activation: 'tanh', hidden: 16, layers: 2, heads: 2, context: 64 }, 60);
  const mingru = trainAndTrace({ cell: 'mingru', activation: 'tanh', hidden: 16, layers: 2 }, 40);
  const T = gpt.chars.length;
  const heads = gpt.attention!.heads;
  const L = gpt.layers.length;
  let seq = 1;
  const traceMsg = (trace: InferTraceResult, id: string) =>
    traceMessage(trace, seq, { modelId: id, modelName: `${trace.cell} 16×2`, source: 'cats.txt', firstLine: 1, totalChars: trace.chars.length });
  /** The engine's weights of (layer, head) for query t: row t of the T×T matrix. */
  const engineRow = (l: number, h: number, t: number): number[] => Array.from(gpt.attention!.weights[l]![h]!.subarray(t * T, t * T + t + 1));

  const { server, origin } = await serve({ title: 'Hidden states', panel: 'hidden', styles: ['panel.css', 'hidden.css'], body: BODY });
  const { browser, page, pageErrors } = await launch({ width: 720, height: 900 });
  const runner = createRunner();
  const test = runner.test;
  /** Answers the page's last hidden/attend as the host does; returns its position. */
  const answerAttend = async (trace: InferTraceResult): Promise<number> => {
    const m = (await posted(page)).filter((x) => x.kind === 'hidden/attend').at(-1)!;
    const checked = checkHiddenWebviewMessage(m);
    assert.ok(checked.ok && checked.message.kind === 'hidden/attend', 'the host accepts hidden/attend');
    await post(page, attentionMessage(trace, seq, checked.message.t)!);
    return checked.message.t;
  };
  const answerSelect = async (trace: InferTraceResult): Promise<string> => {
    const m = (await posted(page)).filter((x) => x.kind === 'hidden/select').at(-1)!;
    const checked = checkHiddenWebviewMessage(m);
    assert.ok(checked.ok && checked.message.kind === 'hidden/select');
    await post(page, matrixMessage(trace, seq, checked.message.layer, checked.message.quantity)!);
    return checked.message.quantity;
  };
  /** Every cell of every row for query q has the colour of the engine's weight (masked grey after q). */
  const checkGrid = async (q: number, theme: ThemeVars): Promise<void> => {
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < heads; h++) {
        const w = engineRow(l, h, q);
        const sum = w.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${l} head ${h}: the weights of query ${q} sum to 1 (${sum})`);
        const max = Math.max(...w);
        for (const s of [0, Math.floor(q / 3), Math.floor(q / 2), q - 1, q].filter((s) => s >= 0)) {
          const got = await cellPixel(page, l * heads + h, s);
          const want = expectedCell(theme, w[s]!, max);
          assert.ok(near(got, want), `cell (layer ${l + 1} head ${h + 1}, s ${s}) = ${got}, expected ${want} for weight ${w[s]} of max ${max}`);
        }
        if (q + 1 < T) {
          const after = await cellPixel(page, l * heads + h, q + 1);
          assert.ok(!near(after, expectedCell(theme, max, max), 30), `position ${q + 1} after the query is not coloured as attended`);
        }
      }
    }
  };

  try {
    console.log('hidden states view: block models (attention, residual stream, mixer states)');
    await test('a gpt trace shows the attention section and asks for the last character\'s weights; x is its quantity', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, DARK_MODERN);
      const msg = traceMsg(gpt, 'model-gpt');
      assert.equal(msg.heads, 2);
      assert.deepEqual(msg.quantities, ['x'], 'a gpt has no mixer state: its quantity is the residual stream');
      await post(page, msg);
      const kinds = (await posted(page)).slice(1).map((m) => m.kind);
      assert.deepEqual(kinds, ['hidden/select', 'hidden/attend']);
      assert.equal(await answerAttend(gpt), T - 1);
      assert.equal(await answerSelect(gpt), 'x');
      assert.equal(await page.locator('#attention').isVisible(), true);
      assert.match(await page.locator('#att-title').textContent() ?? '', new RegExp(`at position ${T - 1}: 2 layers × 2 heads`));
      await checkGrid(T - 1, DARK_MODERN);
      assert.deepEqual(pageErrors, []);
    });

    await test('clicking a character makes it the query: the page asks for its row and draws the engine\'s weights', async () => {
      const q = 24;
      const box = await page.locator('#att-chars').boundingBox();
      const x = await page.evaluate((t) => { const w = window.__rnnLab.layout.cellW; return t * w - document.getElementById('att-scroller').scrollLeft + w / 2; }, q);
      await page.mouse.click(box!.x + x, box!.y + 9);
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: q });
      await answerAttend(gpt);
      await checkGrid(q, DARK_MODERN);
      assert.match(await page.locator('#att-title').textContent() ?? '', new RegExp(`“${gpt.chars[q]}” at position ${q}`));
      // Each head's strongest positions, listed as text, by an independent sort.
      const rows = await page.evaluate(() => [...document.querySelectorAll('#att-top tr')].map((tr: any) => [...tr.querySelectorAll('td')].map((td: any) => Number(td.dataset.s))));
      assert.equal(rows.length, L * heads);
      for (let r = 0; r < rows.length; r++) {
        const w = engineRow(Math.floor(r / heads), r % heads, q);
        const want = w.map((_, s) => s).sort((a, b) => w[b]! - w[a]! || b - a).slice(0, 3);
        assert.deepEqual(rows[r], want, `row ${r}: top positions`);
      }
      await page.screenshot({ path: path.join(OUT, 'webview-attention-dark.png'), fullPage: true });
    });

    await test('a click on a character above the heatmap moves the query too', async () => {
      const box = await page.locator('#chars').boundingBox();
      const w = await page.evaluate(() => window.__rnnLab.layout.cellW);
      await page.mouse.click(box!.x + w * 7 + w / 2, box!.y + 9);
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: 7 });
      await answerAttend(gpt);
      await checkGrid(7, DARK_MODERN);
    });

    await test('keyboard: the grid is a tab stop; ArrowLeft/ArrowRight, Home and End move the query', async () => {
      await page.locator('#att-grid').focus();
      await page.keyboard.press('ArrowRight');
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: 8 });
      await answerAttend(gpt);
      await checkGrid(8, DARK_MODERN);
      await page.keyboard.press('Home');
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: 0 });
      await answerAttend(gpt);
      for (let l = 0; l < L; l++) for (let h = 0; h < heads; h++) assert.deepEqual(engineRow(l, h, 0).map((v) => +v.toFixed(4)), [1], 'the first character attends only to itself');
      await checkGrid(0, DARK_MODERN);
      await page.keyboard.press('End');
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: T - 1 });
      await answerAttend(gpt);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/attend', t: T - 3 });
      await answerAttend(gpt);
      await checkGrid(T - 3, DARK_MODERN);
      const outline = await page.evaluate(() => window.getComputedStyle(document.getElementById('att-grid')).outlineColor);
      assert.equal(outline, `rgb(${hexRgb(DARK_MODERN.vars['--vscode-focusBorder']!).join(', ')})`);
      await page.evaluate(() => document.activeElement?.blur());
    });

    await test('the residual stream x of a gpt block is drawn from the engine\'s values', async () => {
      await page.evaluate(() => { const e = document.getElementById('layer'); e.value = '1'; e.dispatchEvent(new Event('change', { bubbles: true })); });
      await settle(page);
      assert.equal(await answerSelect(gpt), 'x');
      const info = await page.locator('#info').textContent();
      assert.match(info!, /layer 2 of 2, x \(residual stream after the block\) · \d+ of 16 neurons/);
      assert.equal(await page.locator('#map').isVisible(), true);
    });

    await test('light theme: the grid follows the theme\'s variables; screenshot', async () => {
      await applyTheme(page, LIGHT_MODERN);
      await checkGrid(T - 3, LIGHT_MODERN);
      await page.screenshot({ path: path.join(OUT, 'webview-attention-light.png'), fullPage: true });
      for (const f of ['webview-attention-dark.png', 'webview-attention-light.png']) assert.ok(statSync(path.join(OUT, f)).size > 10_000);
      await applyTheme(page, DARK_MODERN);
    });

    await test('high contrast (dark and light): the grid follows the theme\'s variables; screenshots', async () => {
      for (const [theme, name] of [[DARK_HC, 'hc-dark'], [LIGHT_HC, 'hc-light']] as const) {
        await applyTheme(page, theme);
        await checkGrid(T - 3, theme);
        await page.screenshot({ path: path.join(OUT, `webview-attention-${name}.png`), fullPage: true });
      }
      await page.evaluate((ks) => { for (const k of ks) document.documentElement.style.removeProperty(k); }, HC_ONLY);
      await applyTheme(page, DARK_MODERN);
    });

    await test('keyboard: Tab reaches the attention grid after the options and before the heatmap', async () => {
      await page.locator('#layer').focus();
      const order: string[] = ['layer'];
      for (let i = 0; i < 10 && order.at(-1) !== 'heatmap'; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
      }
      assert.deepEqual(order, ['layer', 'quantity', 'sort', 'topk', 'minvar', 'search', 'att-grid', 'heatmap'], `tab order ${order}`);
      await page.evaluate(() => document.activeElement?.blur());
    });

    await test('bad attention messages are ignored and reported; an answer for an older query is dropped', async () => {
      const before = (await posted(page)).filter((m) => m.kind === 'panel/error').length;
      const good = attentionMessage(gpt, seq, 5)!;
      await post(page, { ...good, weights: good.weights.slice(1) });
      await post(page, { ...good, weights: ['x'] });
      await post(page, { ...good, t: -1 });
      const errors = (await posted(page)).filter((m) => m.kind === 'panel/error').slice(before);
      assert.equal(errors.length, 3);
      assert.match(errors[0]!.message as string, /hidden\/attention for position 5 has \d+ weights, expected \d+/);
      assert.match(errors[1]!.message as string, /weights must be finite numbers/);
      assert.match(errors[2]!.message as string, /bad seq or position/);
      await post(page, good); // not the current query (T - 3): nothing changes
      assert.match(await page.locator('#att-title').textContent() ?? '', new RegExp(`at position ${T - 3}:`));
      await checkGrid(T - 3, DARK_MODERN);
      for (const r of [{ kind: 'hidden/attend' }, { kind: 'hidden/attend', t: -1 }, { kind: 'hidden/attend', t: 1.5 }, { kind: 'hidden/attend', t: 1e6 }, { kind: 'hidden/attend', t: 1, x: 2 }]) {
        assert.equal(checkHiddenWebviewMessage(r).ok, false, JSON.stringify(r));
      }
      assert.equal(attentionMessage(mingru, seq, 3), undefined, 'a trace without attention has no rows');
      assert.equal(attentionMessage(gpt, seq, T), undefined, 'no row past the text');
    });

    await test('a minGRU trace: no attention section; h (mixer state), x and the gates are offered and drawn', async () => {
      seq++;
      const msg = traceMsg(mingru, 'model-mingru');
      assert.deepEqual(msg.quantities, quantitiesOf(mingru));
      assert.deepEqual(msg.quantities, ['h', 'x', 'z', 'g']);
      assert.equal(msg.heads, 0);
      const n = (await posted(page)).length;
      await post(page, msg);
      assert.deepEqual((await posted(page)).slice(n).map((m) => m.kind), ['hidden/select'], 'no attention asked for');
      await answerSelect(mingru);
      assert.equal(await page.locator('#attention').isHidden(), true);
      const options = await page.evaluate(() => [...document.querySelectorAll('#quantity vscode-option')].map((o: any) => o.textContent));
      assert.deepEqual(options, ['h (hidden state)', 'x (residual stream after the block)', 'z (update gate)', 'g (candidate)']);
      for (const q of ['h', 'x', 'z']) {
        await page.evaluate((v) => { const e = document.getElementById('quantity'); e.value = v; e.dispatchEvent(new Event('change', { bubbles: true })); }, q);
        await settle(page);
        assert.equal(await answerSelect(mingru), q);
        const values = matrixMessage(mingru, seq, 1, q as 'h')!.values;
        assert.equal(values.length, mingru.chars.length * 16);
        assert.ok(values.some((v) => v !== 0), `${q} has values`);
        if (q === 'z') assert.ok(values.every((v) => v >= 0 && v <= 1), 'z is a sigmoid gate');
        assert.equal(await page.locator('#map').isVisible(), true);
        assert.match(await page.locator('#info').textContent() ?? '', new RegExp(`layer 2 of 2, ${q} `));
      }
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-mingru-dark.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`attention webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('attention webview', main);
