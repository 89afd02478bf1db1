/**
 * The Hidden states view in a real Chromium: the built bundle
 * (dist/webview/hidden.js) in the exact HTML the host gives the view (same
 * CSP and nonce), with a stub `acquireVsCodeApi`, fed with REAL engine output
 * (a tiny LSTM trained here for ~100 steps, then traceHiddenStates on a text)
 * through the host's own message builders. Checks what is drawn (heatmap
 * pixels, row order, the surprisal strip, the tooltip), the controls, the
 * picked neuron, bad messages, and takes light and dark screenshots.
 *
 * Run: npm run test:webview. With `--also <file>` it first runs those other
 * webview tests (each its own process) and its closing line counts them all.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { DEFAULT_TRAIN, type TrainConfig } from '../../src/engine/config';
import { traceHiddenStates } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { matrixMessage, quantitiesOf, traceMessage } from '../../src/shared/panels/hiddenStatesData';
import { checkHiddenWebviewMessage } from '../../src/extension/panels/validate';
import type { InferTraceResult } from '../../src/shared/protocol';
import type { HiddenQuantity } from '../../src/shared/webviewProtocol';
import { createRunner, productionBundleLoads, ensureChromium, launch, OUT, ROOT, serve } from './harness';
import { DARK_HC, DARK_MODERN, HC_ONLY, LIGHT_HC, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, customElements: any, requestAnimationFrame: any;

const STEPS = 100;

const TEXT = `He said "hello there" and left.
Then she asked "why?" twice.
A line of plain words follows here.
"Quoted at the start," he wrote, "and again."
The end of the text is near now.
`;

// ------------------------------------------------------------------ real engine output

function trainAndTrace(): InferTraceResult {
  const corpus = readFileSync(path.join(ROOT, 'README.md'), 'utf8') + TEXT.repeat(20);
  const vocab = Vocab.fromText(corpus);
  const { train } = splitTokens(vocab.encode(corpus).tokens, 0.1);
  const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 8, seq: 32, optimizer: 'adam', lr: 0.01, seed: 7 };
  const { model, rng } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 24, layers: 2 }, vocab, config.seed);
  const trainer = new Trainer(model, config, train, tsKernels, rng);
  let first = 0;
  let last = 0;
  for (let k = 0; k < STEPS; k++) {
    const r = trainer.step();
    if (k === 0) first = r.loss;
    last = r.loss;
  }
  console.log(`[webview] trained a tiny 2-layer LSTM for ${STEPS} steps (loss ${first.toFixed(3)} → ${last.toFixed(3)} nats)`);
  const t = traceHiddenStates(model, TEXT, tsKernels);
  return {
    cell: 'lstm', hidden: t.hidden, chars: t.chars, vocab: [...vocab.chars], unknown: t.unknown,
    layers: t.layers, nextProbs: t.nextProbs, surprisalBits: t.surprisalBits,
  };
}

// ------------------------------------------------------------------ independent computations

function column(m: ArrayLike<number>, T: number, H: number, j: number): number[] {
  return Array.from({ length: T }, (_, t) => m[t * H + j]!);
}

function variance(xs: number[]): number {
  const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length;
}

function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** Indices sorted by key descending, ties by index — checked only where keys differ clearly. */
function orderBy(key: number[]): number[] {
  return key.map((_, j) => j).sort((a, b) => key[b]! - key[a]! || a - b);
}

function hexRgb(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** The diverging scale written out again: background at the centre, charts-blue above, charts-red below. */
function expectedColor(theme: ThemeVars, v: number, center: number, half: number): [number, number, number] {
  const bg = hexRgb(theme.vars['--vscode-sideBar-background'] ?? theme.vars['--vscode-editor-background']!);
  const x = Math.max(-1, Math.min(1, (v - center) / half));
  const to = hexRgb(x >= 0 ? theme.vars['--vscode-charts-blue']! : theme.vars['--vscode-charts-red']!);
  return [0, 1, 2].map((i) => Math.round(bg[i]! + (to[i]! - bg[i]!) * Math.abs(x))) as [number, number, number];
}

// ------------------------------------------------------------------ the page

const BODY = `  <main id="app" class="panel hidden-view" aria-busy="true">\n    <p class="placeholder">Loading the hidden states…</p>\n  </main>`;

type Posted = { kind: string; [k: string]: unknown };
interface Hooks {
  rows: number[];
  scale: { center: number; half: number };
  surpMax: number;
  picked: number | null;
  cursor: number;
  topPositions: { most: number[]; least: number[] };
  correlation: number[] | null;
  layout: { cellW: number; rowH: number; surpH: number; charsH: number };
  view: Record<string, unknown>;
  errors: string[];
  xOf(t: number): number;
  drawNow(): void;
}

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
}

/** The text-field colours VS Code also sets (themes.ts lists only what the loss panel reads). */
const TEXT_INPUT: Record<string, Record<string, string>> = {
  'vscode-light': { '--vscode-settings-textInputBackground': '#ffffff', '--vscode-settings-textInputBorder': '#cecece', '--vscode-settings-textInputForeground': '#3b3b3b' },
  'vscode-dark': { '--vscode-settings-textInputBackground': '#313131', '--vscode-settings-textInputBorder': '#3c3c3c', '--vscode-settings-textInputForeground': '#cccccc' },
};

async function applyTheme(page: Page, base: ThemeVars): Promise<void> {
  const theme = { ...base, vars: { ...base.vars, ...TEXT_INPUT[base.bodyClass] } };
  await page.evaluate((t) => {
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
    document.body.className = t.bodyClass;
  }, theme);
  await settle(page);
  await settle(page);
}

const posted = (page: Page): Promise<Posted[]> => page.evaluate(() => window.__posted);
const hooks = <K extends keyof Hooks>(page: Page, k: K): Promise<Hooks[K]> => page.evaluate((key) => window.__rnnLab[key], k);

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await settle(page);
}

async function setControl(page: Page, id: string, value: string, event = 'change'): Promise<void> {
  await page.evaluate(([i, v, e]) => {
    const el = document.getElementById(i);
    el.value = v;
    el.dispatchEvent(new Event(e, { bubbles: true }));
  }, [id, value, event] as const);
  await settle(page);
}

/** Pixel RGB of the heatmap at the centre of (row, position t). */
async function heatPixel(page: Page, row: number, t: number): Promise<[number, number, number]> {
  return page.evaluate(([r, tt]) => {
    const h = window.__rnnLab;
    const c = document.getElementById('heatmap');
    const x = Math.floor(h.xOf(tt) + h.layout.cellW / 2);
    const y = Math.floor(r * h.layout.rowH + h.layout.rowH / 2);
    const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [row, t] as const);
}

function nearColor(a: number[], b: number[], tol = 2): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tol);
}

// ------------------------------------------------------------------ the tests

async function runOthers(files: string[]): Promise<{ passed: number; failed: number }> {
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', f], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    const m = /webview: (\d+) passed, (\d+) failed/.exec(r.stdout);
    if (m) {
      passed += Number(m[1]);
      failed += Number(m[2]);
    } else failed++;
    if (r.status !== 0 && !(m && Number(m[2]) > 0)) failed++;
  }
  return { passed, failed };
}

async function main(): Promise<{ passed: number; failed: number }> {
  ensureChromium();
  mkdirSync(OUT, { recursive: true });
  const trace = trainAndTrace();
  const T = trace.chars.length;
  const H = trace.hidden;
  const V = trace.vocab.length;
  let seq = 1;
  const traceMsg = (totalChars = T) => traceMessage(trace, seq, { modelId: 'model-lstm', modelName: 'LSTM 24×2 on README', source: 'story.txt', firstLine: 3, totalChars });
  /** The host's answer to the page's last hidden/select. */
  const answerSelect = async (page: Page): Promise<{ layer: number; quantity: HiddenQuantity }> => {
    const sel = (await posted(page)).filter((m) => m.kind === 'hidden/select').at(-1)!;
    const checked = checkHiddenWebviewMessage(sel);
    assert.ok(checked.ok && checked.message.kind === 'hidden/select', 'the host accepts the select');
    const { layer, quantity } = checked.message;
    await post(page, matrixMessage(trace, seq, layer, quantity)!);
    return { layer, quantity };
  };
  /** The [T, H] values exactly as the host sends them (6 significant digits of the engine's float32). */
  const matrixOf = (layer: number, q: HiddenQuantity): Float64Array => {
    const engine = q === 'h' ? trace.layers[layer]!.h : q === 'c' ? trace.layers[layer]!.c! : trace.layers[layer]!.gates[q]!;
    const sent = Float64Array.from(matrixMessage(trace, seq, layer, q)!.values);
    sent.forEach((v, i) => assert.ok(Math.abs(v - engine[i]!) <= 1e-5 * Math.max(1, Math.abs(engine[i]!)), 'the host sends the engine\'s values'));
    return sent;
  };

  const { server, origin } = await serve({ title: 'Hidden states', panel: 'hidden', styles: ['panel.css', 'hidden.css'], body: BODY });
  const { browser, page, pageErrors } = await launch({ width: 560, height: 900 });

  const runner = createRunner();
  const test = runner.test;

  try {
    console.log('hidden states view');
    await test('the shipped bundle (webview/hidden/main.ts) loads under the CSP, says panel/ready and has no test hook', () => productionBundleLoads(browser, origin));
    await test('loads under the webview CSP (no violations, no errors) and asks the host for a trace', async () => {
      await page.goto(origin);
      await page.waitForFunction(() => window.__posted?.length > 0);
      await applyTheme(page, DARK_MODERN);
      assert.deepEqual((await posted(page)).map((m) => m.kind), ['panel/ready']);
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(pageErrors, []);
      const undef = await page.evaluate(() => ['vscode-single-select', 'vscode-textfield', 'vscode-button'].filter((t) => !customElements.get(t)));
      assert.deepEqual(undef, []);
    });

    await test('a status from the host is shown (no model for the file)', async () => {
      await post(page, { kind: 'hidden/status', state: 'noModel', message: 'No model for notes.txt yet: train one on it.' });
      assert.match(await page.locator('#message').textContent() ?? '', /No model for notes\.txt/);
      assert.equal(await page.locator('#map').isHidden(), true);
    });

    await test('a trace asks for its matrix; the heatmap pixel at (neuron j, char t) has the colour of that value', async () => {
      await post(page, traceMsg());
      const sel = (await posted(page)).at(-1)!;
      assert.deepEqual(sel, { kind: 'hidden/select', layer: 0, quantity: 'h' });
      await answerSelect(page);
      await setControl(page, 'sort', 'index');
      const rows = await hooks(page, 'rows');
      assert.deepEqual(rows, Array.from({ length: H }, (_, j) => j), 'sorted by index: every neuron, in order');
      const m = matrixOf(0, 'h');
      let max = 0;
      for (const v of m) max = Math.max(max, Math.abs(v));
      const scale = await hooks(page, 'scale');
      assert.ok(Math.abs(scale.half - max) < 1e-5 && scale.center === 0, `h is scaled by its largest magnitude (${scale.half} vs ${max})`);
      for (const [j, t] of [[0, 0], [3, 5], [7, 11], [23, 30], [12, 2], [18, 40]] as const) {
        const v = m[t * H + j]!;
        const got = await heatPixel(page, j, t);
        const want = expectedColor(DARK_MODERN, v, 0, max);
        assert.ok(nearColor(got, want), `pixel (neuron ${j}, char ${t}) = ${got}, expected ${want} for value ${v}`);
      }
      const info = await page.locator('#info').textContent();
      assert.match(info!, new RegExp(`story\\.txt, line 3 · ${T} characters · layer 1 of 2`));
    });

    await test('sort by variance orders the rows like an independent computation; top-k, min variance and search filter them', async () => {
      await setControl(page, 'sort', 'variance');
      const m = matrixOf(0, 'h');
      const vars = Array.from({ length: H }, (_, j) => variance(column(m, T, H, j)));
      const want = orderBy(vars);
      const rows = await hooks(page, 'rows');
      assert.deepEqual(rows, want, 'rows by variance');
      for (let r = 1; r < rows.length; r++) assert.ok(vars[rows[r - 1]!]! >= vars[rows[r]!]! - 1e-9);
      // Row 0 is now the most variable neuron: its pixels follow.
      const j = want[0]!;
      const got = await heatPixel(page, 0, 9);
      assert.ok(nearColor(got, expectedColor(DARK_MODERN, m[9 * H + j]!, 0, (await hooks(page, 'scale')).half)), 'row 0 draws the top neuron');
      await setControl(page, 'topk', '5', 'input');
      assert.deepEqual(await hooks(page, 'rows'), want.slice(0, 5));
      await setControl(page, 'topk', '0', 'input');
      const threshold = (vars[want[9]!]! + vars[want[10]!]!) / 2;
      await setControl(page, 'minvar', String(threshold), 'input');
      assert.deepEqual(await hooks(page, 'rows'), want.filter((k) => vars[k]! >= threshold));
      await setControl(page, 'minvar', '0', 'input');
      await setControl(page, 'search', '3, 10-12', 'input');
      assert.deepEqual((await hooks(page, 'rows')).slice().sort((a, b) => a - b), [3, 10, 11, 12]);
      await setControl(page, 'search', '', 'input');
      assert.equal((await hooks(page, 'rows')).length, H);
    });

    await test('sort by correlation with a regex pattern: Pearson r per neuron, strongest |r| first', async () => {
      await setControl(page, 'sort', 'correlation');
      await setControl(page, 'pattern', 'regex');
      await setControl(page, 'regex', '[A-Z]\\w*', 'input');
      const marks = new Array<number>(T).fill(0);
      for (const mm of TEXT.matchAll(/[A-Z]\w*/g)) for (let t = mm.index!; t < mm.index! + mm[0].length; t++) marks[t] = 1;
      const m = matrixOf(0, 'h');
      const r = Array.from({ length: H }, (_, j) => pearson(column(m, T, H, j), marks));
      const got = (await hooks(page, 'correlation'))!;
      got.forEach((v, j) => assert.ok(Math.abs(v - r[j]!) < 1e-4, `r[${j}] = ${v}, expected ${r[j]}`));
      assert.deepEqual(await hooks(page, 'rows'), orderBy(r.map(Math.abs)));
      // The built-in "inside quotes" pattern too.
      await setControl(page, 'pattern', 'quotes');
      let inside = false;
      const q = [...TEXT].map((ch) => (ch === '"' ? ((inside = !inside), 1) : inside ? 1 : 0));
      const rq = Array.from({ length: H }, (_, j) => pearson(column(m, T, H, j), q));
      assert.deepEqual(await hooks(page, 'rows'), orderBy(rq.map(Math.abs)));
      await setControl(page, 'pattern', 'regex');
      await setControl(page, 'regex', '(', 'input');
      assert.match(await page.locator('#note').textContent() ?? '', /Pattern: .*(unterminated|Invalid)/i);
      await setControl(page, 'regex', '[A-Z]\\w*', 'input');
      await setControl(page, 'sort', 'variance');
    });

    await test('quantity switch: c and the forget gate ask the host and draw their own data', async () => {
      const quantities = await page.evaluate(() => [...document.querySelectorAll('#quantity vscode-option')].map((o: any) => o.value));
      assert.deepEqual(quantities, quantitiesOf(trace));
      for (const q of ['c', 'f'] as const) {
        await setControl(page, 'quantity', q);
        const sel = await answerSelect(page);
        assert.deepEqual(sel, { layer: 0, quantity: q });
        const m = matrixOf(0, q);
        const vars = Array.from({ length: H }, (_, j) => variance(column(m, T, H, j)));
        const rows = await hooks(page, 'rows');
        assert.deepEqual(rows, orderBy(vars), `${q}: rows by variance`);
        const scale = await hooks(page, 'scale');
        if (q === 'f') assert.deepEqual(scale, { center: 0.5, half: 0.5 }, 'a sigmoid gate is centred at 0.5');
        const t = 6;
        const got = await heatPixel(page, 0, t);
        assert.ok(nearColor(got, expectedColor(DARK_MODERN, m[t * H + rows[0]!]!, scale.center, scale.half)), `${q}: pixel follows the ${q} values`);
      }
      // Layer 2 of h differs from layer 1.
      await setControl(page, 'quantity', 'h');
      await answerSelect(page);
      await setControl(page, 'layer', '1');
      assert.deepEqual(await answerSelect(page), { layer: 1, quantity: 'h' });
      const vars = Array.from({ length: H }, (_, j) => variance(column(matrixOf(1, 'h'), T, H, j)));
      assert.deepEqual(await hooks(page, 'rows'), orderBy(vars));
      await setControl(page, 'layer', '0');
      await answerSelect(page);
    });

    await test('the surprisal strip draws a bar per character of the engine\'s surprisal (bits)', async () => {
      const bits = Array.from(trace.surprisalBits);
      const finite = bits.filter(Number.isFinite);
      const surpMax = await hooks(page, 'surpMax');
      assert.ok(Math.abs(surpMax - Math.max(4, ...finite)) < 1e-4, `strip scale ${surpMax}`);
      const layout = await hooks(page, 'layout');
      for (let t = 0; t < 35; t++) {
        const s = bits[t]!;
        const height = Number.isFinite(s) ? (s / surpMax) * (layout.surpH - 2) : 0;
        const [inside, above] = await page.evaluate(([tt, hgt]) => {
          const h = window.__rnnLab;
          const ctx = document.getElementById('surprisal').getContext('2d');
          const x = Math.floor(h.xOf(tt) + h.layout.cellW / 2);
          return [h.layout.surpH - 1 - Math.max(0, Math.floor(hgt) - 2), Math.max(12, Math.floor(h.layout.surpH - hgt - 3))]
            .map((y: number) => Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3)) as number[]);
        }, [t, height] as const);
        const bar = hexRgb(DARK_MODERN.vars['--vscode-charts-orange']!);
        const bg = hexRgb(DARK_MODERN.vars['--vscode-editor-background']!);
        if (height >= 3) assert.ok(nearColor(inside, bar, 8), `char ${t}: a bar of ${s.toFixed(2)} bits should be drawn (${inside})`);
        if (height < layout.surpH - 16) assert.ok(nearColor(above, bg, 8), `char ${t}: nothing above a bar of ${s.toFixed(2)} bits (${above})`);
      }
    });

    await test('hover: the tooltip lists the top next characters with the engine\'s probabilities', async () => {
      for (const t of [4, 17, 29]) {
        const box = await page.locator('#surprisal').boundingBox();
        const x = await page.evaluate((tt) => window.__rnnLab.xOf(tt), t);
        await page.mouse.move(box!.x + x + 5, box!.y + 20);
        await settle(page);
        assert.equal(await page.locator('#tooltip').isVisible(), true);
        const rows = await page.evaluate(() => [...document.querySelectorAll('#tooltip tr')].map((r: any) => ({ ch: r.dataset.char, p: Number(r.dataset.prob), text: r.textContent })));
        const probs = Array.from(trace.nextProbs.subarray(t * V, (t + 1) * V));
        const want = orderBy(probs).slice(0, 5);
        assert.deepEqual(rows.map((r) => r.ch), want.map((v) => trace.vocab[v]), `top next chars after position ${t}`);
        rows.forEach((r, k) => {
          assert.ok(Math.abs(r.p - probs[want[k]!]!) < 1e-5, `p(${r.ch}) = ${r.p}, engine ${probs[want[k]!]}`);
          assert.ok(r.text.endsWith(`${(probs[want[k]!]! * 100).toFixed(1)}%`), `shown as a percentage: ${r.text}`);
        });
        const head = await page.locator('.hs-tip-head').textContent();
        if (Number.isFinite(trace.surprisalBits[t]!)) assert.ok(head!.includes(`${trace.surprisalBits[t]!.toFixed(2)} bits`), head!);
      }
      await page.mouse.move(2, 2);
    });

    await test('picking a neuron: the host is told, the text is coloured by it, most/least active positions listed', async () => {
      const rows = await hooks(page, 'rows');
      const box = await page.locator('#heatmap').boundingBox();
      const layout = await hooks(page, 'layout');
      await page.mouse.click(box!.x + 20, box!.y + 2 * layout.rowH + 3);
      await settle(page);
      const j = rows[2]!;
      const last = (await posted(page)).at(-1)!;
      assert.deepEqual(last, { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: j });
      assert.ok(checkHiddenWebviewMessage(last).ok);
      assert.equal(await hooks(page, 'picked'), j);
      assert.equal(await page.locator('#neuron').isVisible(), true);
      const col = column(matrixOf(0, 'h'), T, H, j);
      const top = await hooks(page, 'topPositions');
      assert.deepEqual(top.most, orderBy(col).slice(0, 8));
      assert.deepEqual(top.least, orderBy(col.map((v) => -v)).slice(0, 8));
      const spans = await page.locator('#colored span').count();
      assert.equal(spans, T);
      const tSpan = top.most[0]!;
      const bgc = await page.evaluate((t) => window.window.getComputedStyle(document.querySelector(`#colored span[data-t="${t}"]`)).backgroundColor, tSpan);
      const scale = await hooks(page, 'scale');
      const want = expectedColor(DARK_MODERN, col[tSpan]!, scale.center, scale.half);
      assert.equal(bgc, `rgb(${want.join(', ')})`);
      await page.mouse.move(box!.x + 60, box!.y + 30);
      await settle(page);
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-tooltip-dark.png') });
      await page.mouse.move(2, 2);
      await settle(page);
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-dark.png'), fullPage: true });
    });

    await test('keyboard: Tab reaches every control in order; ArrowUp/ArrowDown + Enter/Space pick neurons on the heatmap; Enter on Clear; focus outlines use --vscode-focusBorder', async () => {
      const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
      // From the first control (Chromium keeps the sequential-focus starting point after a blur).
      await page.locator('#layer').focus();
      const order: string[] = [await focused()];
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        order.push(await focused());
        if (order.at(-1) === 'clear') break;
      }
      assert.deepEqual(order, ['layer', 'quantity', 'sort', 'topk', 'minvar', 'search', 'heatmap', 'clear'], `tab order ${order}`);
      await page.keyboard.press('Shift+Tab');
      await settle(page);
      assert.equal(await focused(), 'heatmap');
      const rows = await hooks(page, 'rows');
      const picked0 = await hooks(page, 'picked');
      assert.equal(await hooks(page, 'cursor'), rows.indexOf(picked0!), 'the cursor starts on the picked neuron');
      const outline = await page.evaluate(() => { const s = window.getComputedStyle(document.getElementById('heatmap')); return [s.outlineStyle, s.outlineColor]; });
      assert.deepEqual(outline, ['solid', `rgb(${hexRgb(DARK_MODERN.vars['--vscode-focusBorder']!).join(', ')})`], 'the heatmap shows a focus outline in --vscode-focusBorder');
      const lastPick = async () => (await posted(page)).filter((m) => m.kind === 'hidden/pick').at(-1);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await settle(page);
      const c = rows.indexOf(picked0!) + 2;
      assert.equal(await hooks(page, 'cursor'), c);
      assert.deepEqual(await lastPick(), { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: rows[c] });
      assert.equal(await hooks(page, 'picked'), rows[c]);
      assert.match(await page.locator('#heatmap').getAttribute('aria-label') ?? '', new RegExp(`Neuron ${rows[c]}, row ${c + 1} of ${rows.length}, picked`));
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press(' ');
      await settle(page);
      assert.equal(await hooks(page, 'picked'), rows[c - 1], 'Space picks too');
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await hooks(page, 'picked'), rows[0]);
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowDown');
      assert.equal(await hooks(page, 'cursor'), rows.length - 1, 'the cursor stays on the last row');
      // Tab to Clear, Enter clears the pick.
      await page.keyboard.press('Tab');
      assert.equal(await focused(), 'clear');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.deepEqual(await lastPick(), { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: null });
      assert.equal(await page.locator('#neuron').isHidden(), true);
      // A select operated by keyboard: open, next option, Enter.
      await page.locator('#layer').focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.deepEqual(await answerSelect(page), { layer: 1, quantity: 'h' }, 'the layer select works by keyboard');
      await setControl(page, 'layer', '0');
      await answerSelect(page);
      // Back to the pick of the earlier tests, by keyboard.
      const rows2 = await hooks(page, 'rows');
      await page.locator('#heatmap').focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await settle(page);
      assert.equal(await hooks(page, 'picked'), rows2[2]);
      await page.evaluate(() => document.activeElement?.blur());
      await settle(page);
    });

    await test('screenshots in the light and dark default themes', async () => {
      await applyTheme(page, LIGHT_MODERN);
      const got = await heatPixel(page, 0, 3);
      const rows = await hooks(page, 'rows');
      const scale = await hooks(page, 'scale');
      assert.ok(nearColor(got, expectedColor(LIGHT_MODERN, matrixOf(0, 'h')[3 * H + rows[0]!]!, scale.center, scale.half)), 'the light theme\'s colours');
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-light.png'), fullPage: true });
      await applyTheme(page, DARK_MODERN);
      for (const f of ['webview-hidden-light.png', 'webview-hidden-dark.png']) assert.ok(statSync(path.join(OUT, f)).size > 10_000);
      await page.locator('#clear').click();
      await settle(page);
      assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: null });
      assert.equal(await page.locator('#neuron').isHidden(), true);
    });

    await test('high contrast (dark and light): the heatmap, strip and text follow the theme\'s variables; screenshots', async () => {
      const rows = await hooks(page, 'rows');
      const scale = await hooks(page, 'scale');
      const m = matrixOf(0, 'h');
      for (const [theme, name] of [[DARK_HC, 'hc-dark'], [LIGHT_HC, 'hc-light']] as const) {
        await applyTheme(page, theme);
        for (const [r, t] of [[0, 3], [1, 9], [4, 20]] as const) {
          const got = await heatPixel(page, r, t);
          const want = expectedColor(theme, m[t * H + rows[r]!]!, scale.center, scale.half);
          assert.ok(nearColor(got, want), `${name}: pixel (row ${r}, char ${t}) = ${got}, expected ${want}`);
        }
        const border = await page.evaluate(() => window.getComputedStyle(document.getElementById('map')).borderTopColor);
        assert.equal(border, `rgb(${hexRgb(theme.vars['--vscode-contrastBorder']!).join(', ')})`, `${name}: the map is outlined with --vscode-contrastBorder`);
        await page.screenshot({ path: path.join(OUT, `webview-hidden-${name}.png`), fullPage: true });
      }
      await page.evaluate((ks) => { for (const k of ks) document.documentElement.style.removeProperty(k); }, HC_ONLY);
      await applyTheme(page, DARK_MODERN);
    });

    await test('a capped selection says so', async () => {
      seq++;
      await post(page, traceMsg(12_345));
      await answerSelect(page);
      assert.match(await page.locator('#note').textContent() ?? '', new RegExp(`first ${T} of 12,345 characters`));
    });

    await test('bad host messages are ignored, drawing unchanged, and reported to the host', async () => {
      const before = await hooks(page, 'rows');
      const errorsBefore = (await posted(page)).filter((m) => m.kind === 'panel/error').length;
      await post(page, { ...traceMsg(), surprisal: [1, 2] });
      await post(page, { kind: 'hidden/matrix', seq, layer: 0, quantity: 'h', values: [1, 2, 3] });
      await post(page, { kind: 'hidden/matrix', seq, layer: 0, quantity: 'q', values: [] });
      await post(page, { kind: 'hidden/explode' });
      assert.deepEqual(await hooks(page, 'rows'), before);
      const errors = (await posted(page)).filter((m) => m.kind === 'panel/error').slice(errorsBefore);
      assert.equal(errors.length, 4);
      assert.match(errors[0]!.message as string, /surprisal must have one entry per character/);
      assert.match(errors[1]!.message as string, /hidden\/matrix has 3 values/);
      assert.match(errors[2]!.message as string, /bad seq, layer or quantity/);
      assert.match(errors[3]!.message as string, /unknown kind "hidden\/explode"/);
      for (const e of errors) assert.ok(checkHiddenWebviewMessage(e).ok, 'the host accepts the report');
      assert.deepEqual(pageErrors, []);
    });

    await test('host side: every message shape from the view is checked as untrusted input', async () => {
      const rejected = [
        null, 'x', [], { kind: 'nope' }, { kind: 'panel/ready', x: 1 },
        { kind: 'hidden/select', layer: -1, quantity: 'h' }, { kind: 'hidden/select', layer: 0.5, quantity: 'h' },
        { kind: 'hidden/select', layer: 99, quantity: 'h' }, { kind: 'hidden/select', layer: 0, quantity: 'q' },
        { kind: 'hidden/select', layer: 0, quantity: 'h', neuron: 1 },
        { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: -2 }, { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: '3' },
        { kind: 'hidden/pick', layer: 0, quantity: 'h' }, { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: 1e9 },
        { kind: 'panel/error', message: 5 },
      ];
      for (const r of rejected) assert.equal(checkHiddenWebviewMessage(r).ok, false, `should reject ${JSON.stringify(r)}`);
      assert.ok(checkHiddenWebviewMessage({ kind: 'hidden/pick', layer: 1, quantity: 'c', neuron: null }).ok);
      assert.ok(checkHiddenWebviewMessage({ kind: 'hidden/pick', layer: 1, quantity: 'c', neuron: 7 }).ok);
    });

    await test('reload keeps the options (sort, filters) and asks again', async () => {
      await setControl(page, 'sort', 'mean');
      await page.reload();
      await page.waitForFunction(() => window.__posted?.length > 0);
      const view = await hooks(page, 'view');
      assert.equal(view.sort, 'mean');
      await applyTheme(page, DARK_MODERN);
      await post(page, traceMsg());
      await answerSelect(page);
      const m = matrixOf(0, 'h');
      const means = Array.from({ length: H }, (_, j) => column(m, T, H, j).reduce((a, b) => a + b, 0) / T);
      assert.deepEqual(await hooks(page, 'rows'), orderBy(means));
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await browser.close();
    server.close();
  }
  return { passed: runner.passed, failed: runner.failed };
}

const also: string[] = [];
for (let i = 2; i < process.argv.length; i++) if (process.argv[i] === '--also' && process.argv[i + 1]) also.push(process.argv[++i]!);

const t0 = performance.now();
runOthers(also)
  .then(async (others) => {
    const mine = await main();
    const passed = others.passed + mine.passed;
    const failed = others.failed + mine.failed;
    console.log(`webview: ${passed} passed, ${failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    process.exit(failed > 0 ? 1 : 0);
  })
  .catch((e) => {
    console.error(e);
    console.log('webview: 0 passed, 1 failed');
    process.exit(1);
  });
