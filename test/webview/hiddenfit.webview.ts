/**
 * The Hidden States page where it is shown, in a real Chromium: the side
 * bar's view at a side-bar width (300 px) and the editor panel (Open in
 * Editor) at an editor width (1200 px), each in the markup its host gives it
 * (src/extension/panels/hiddenStatesHtml.ts), fed with REAL engine output (a
 * tiny LSTM, and a tiny gpt for the attention grid) through the host's own
 * message builders. Checks layout facts: nothing wider than the page, the
 * cells larger in the editor, every control reachable by keyboard and on
 * screen, stacked in the side bar and side by side in the editor, long text
 * scrolling in its own box; that the drawn pixels still follow the values at
 * the larger cells; the Open in Editor button and the options and pick a new
 * page starts from; and takes screenshots in the light, dark and
 * high-contrast themes.
 *
 * Run: npm run build && node --import tsx test/webview/hiddenfit.webview.ts
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../src/engine/config';
import { traceHiddenStates } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { hiddenBody } from '../../src/extension/panels/hiddenStatesHtml';
import { checkHiddenViewState, checkHiddenWebviewMessage } from '../../src/extension/panels/validate';
import { attentionMessage, matrixMessage, traceMessage } from '../../src/shared/panels/hiddenStatesData';
import type { InferTraceResult } from '../../src/shared/protocol';
import type { HiddenHandoff, HiddenPageHost } from '../../src/shared/webviewProtocol';
import { createRunner, ensureChromium, OUT, runMain, serve, STUB } from './harness';
import { DARK_HC, DARK_MODERN, HC_ONLY, LIGHT_HC, LIGHT_MODERN, type ThemeVars } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any, requestAnimationFrame: any, getComputedStyle: any;

const TEXT = `He said "hello there" and left.
Then she asked "why?" twice.
A line of plain words follows here.
"Quoted at the start," he wrote, "and again."
`;
const CATS = 'the cat sat on the mat. the cat ate the rat.\n';

function trainAndTrace(config: Omit<ModelConfig, 'vocabSize'>, corpus: string, text: string, steps: number): InferTraceResult {
  const vocab = Vocab.fromText(corpus);
  const { train } = splitTokens(vocab.encode(corpus).tokens, 0.1);
  const tc: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: 32, optimizer: 'adam', lr: 0.01, seed: 5 };
  const { model, rng } = createModel(config, vocab, tc.seed);
  const trainer = new Trainer(model, tc, train, tsKernels, rng);
  for (let k = 0; k < steps; k++) trainer.step();
  const t = traceHiddenStates(model, text, tsKernels);
  return {
    cell: config.cell as InferTraceResult['cell'], hidden: t.hidden, chars: t.chars, vocab: [...vocab.chars], unknown: t.unknown,
    layers: t.layers, nextProbs: t.nextProbs, surprisalBits: t.surprisalBits, ...(t.attention ? { attention: t.attention } : {}),
  };
}

type Posted = { kind: string; [k: string]: unknown };
interface Layout { cellW: number; rowH: number; attRowH: number; font: number; gutterW: number }

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
}

/** The text-field colours VS Code also sets. */
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
const layoutOf = (page: Page): Promise<Layout> => page.evaluate(() => window.__rnnLab.layout);

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
  await settle(page);
}

function hexRgb(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}

/** The page's surface: the side bar's background in the view, the editor's in the panel. */
function surfaceOf(theme: ThemeVars, host: HiddenPageHost): string {
  return (host === 'view' ? theme.vars['--vscode-sideBar-background'] : undefined) ?? theme.vars['--vscode-editor-background']!;
}

/** The heatmap's diverging scale written out again. */
function expectedColor(theme: ThemeVars, host: HiddenPageHost, v: number, center: number, half: number): number[] {
  const bg = hexRgb(surfaceOf(theme, host));
  const x = Math.max(-1, Math.min(1, (v - center) / half));
  const to = hexRgb(x >= 0 ? theme.vars['--vscode-charts-blue']! : theme.vars['--vscode-charts-red']!);
  return [0, 1, 2].map((i) => Math.round(bg[i]! + (to[i]! - bg[i]!) * Math.abs(x)));
}

const near = (a: number[], b: number[], tol = 2): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

/** What overflows the page sideways: the document, and every control (right edge past the viewport or left edge before 0). */
async function overflow(page: Page): Promise<{ doc: number; view: number; outside: string[] }> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const controls = [...document.querySelectorAll('.hs-toolbar .field, .hs-toolbar vscode-button, vscode-single-select, vscode-textfield, vscode-button')];
    const outside = controls
      .filter((e: any) => e.offsetParent !== null)
      .filter((e: any) => { const r = e.getBoundingClientRect(); return r.right > vw + 0.5 || r.left < -0.5; })
      .map((e: any) => `${e.id || e.tagName.toLowerCase()} [${Math.round(e.getBoundingClientRect().left)}, ${Math.round(e.getBoundingClientRect().right)}]`);
    return { doc: document.documentElement.scrollWidth, view: vw, outside };
  });
}

/** Tabs from the first control until `last`: the ids focused, and whether each was on screen sideways when focused. */
async function tabOrder(page: Page, last: string): Promise<{ order: string[]; offscreen: string[] }> {
  await page.locator('#layer').focus();
  const order: string[] = ['layer'];
  const offscreen: string[] = [];
  for (let i = 0; i < 14 && order.at(-1) !== last; i++) {
    await page.keyboard.press('Tab');
    const [id, ok] = await page.evaluate(() => {
      const e = document.activeElement;
      const r = e.getBoundingClientRect();
      return [e?.id || e?.tagName, r.left >= -0.5 && r.right <= document.documentElement.clientWidth + 0.5 && r.width > 0];
    });
    order.push(id);
    if (!ok) offscreen.push(id);
  }
  await page.evaluate(() => document.activeElement?.blur());
  return { order, offscreen };
}

const rect = (page: Page, sel: string): Promise<{ left: number; right: number; top: number; bottom: number; width: number; height: number }> =>
  page.evaluate((s) => { const r = document.querySelector(s).getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; }, sel);

async function main(): Promise<number> {
  ensureChromium();
  mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  const lstm = trainAndTrace({ cell: 'lstm', activation: 'tanh', hidden: 24, layers: 2 }, TEXT.repeat(40), TEXT, 40);
  const gpt = trainAndTrace({ cell: 'gpt', activation: 'tanh', hidden: 16, layers: 2, heads: 2, context: 64 }, CATS.repeat(60), CATS, 40);
  console.log(`[webview] traced a tiny LSTM (${lstm.chars.length} characters) and a tiny gpt (${gpt.chars.length})`);
  const seq = 1;
  const traceMsg = (trace: InferTraceResult) =>
    traceMessage(trace, seq, { modelId: `model-${trace.cell}`, modelName: `${trace.cell} ${trace.hidden}×${trace.layers.length} on a story`, source: 'story-with-a-long-file-name.txt', firstLine: 1, totalChars: trace.chars.length });

  const servers = await Promise.all((['view', 'panel'] as const).map(async (host) => ({ host, ...(await serve({ title: 'Hidden states', panel: 'hidden', styles: ['panel.css', 'hidden.css'], body: hiddenBody(host) })) })));
  const originOf = (host: HiddenPageHost) => servers.find((s) => s.host === host)!.origin;
  const { chromium } = await import('playwright-core');
  const { CHROMIUM } = await import('./harness');
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
  const runner = createRunner();
  const test = runner.test;
  const pageErrors: string[] = [];

  async function open(host: HiddenPageHost, width: number, origin = originOf(host)): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 1000 }, deviceScaleFactor: 1 });
    await context.addInitScript(STUB);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${host}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`${host}: ${m.text()}`); });
    await page.goto(origin);
    await page.waitForFunction(() => window.__posted?.length > 0);
    await applyTheme(page, DARK_MODERN);
    return page;
  }
  /** Feeds a trace and answers the page's requests as the host does. */
  async function show(page: Page, trace: InferTraceResult): Promise<void> {
    const n = (await posted(page)).length;
    await post(page, traceMsg(trace));
    for (const m of (await posted(page)).slice(n)) {
      const c = checkHiddenWebviewMessage(m);
      assert.ok(c.ok, `the host accepts ${m.kind}`);
      if (c.message.kind === 'hidden/select') await post(page, matrixMessage(trace, seq, c.message.layer, c.message.quantity)!);
      if (c.message.kind === 'hidden/attend') await post(page, attentionMessage(trace, seq, c.message.t)!);
    }
    await settle(page);
  }
  async function pickRow(page: Page, row: number): Promise<number> {
    const box = await page.locator('#heatmap').boundingBox();
    const l = await layoutOf(page);
    await page.mouse.click(box!.x + 5, box!.y + row * l.rowH + l.rowH / 2);
    await settle(page);
    await page.mouse.move(0, 0);
    return (await page.evaluate(() => window.__rnnLab.picked)) as number;
  }

  const sizes: Record<string, Layout> = {};
  try {
    console.log('hidden states view: the side bar (300 px) and the editor panel (1200 px)');
    for (const [host, width] of [['view', 300], ['panel', 1200]] as const) {
      await test(`${host} at ${width} px: no control or the page wider than the page; the toolbar ${host === 'view' ? 'stacks label over control' : 'is one row'}`, async () => {
        const page = await open(host, width);
        await show(page, lstm);
        const o = await overflow(page);
        assert.deepEqual(o.outside, [], `controls outside the page: ${o.outside.join(', ')}`);
        assert.ok(o.doc <= o.view, `the page scrolls sideways: ${o.doc} > ${o.view}`);
        const [layer, quantity] = [await rect(page, '#layer'), await rect(page, '#quantity')];
        const label = await page.evaluate(() => document.querySelector('#layer').parentElement.getBoundingClientRect().top);
        if (host === 'view') assert.ok(layer.top > label + 8, 'narrow: the label sits above its control');
        else {
          assert.ok(Math.abs(layer.top - quantity.top) < 2 && quantity.left > layer.right, 'wide: controls in one row');
          const last = await rect(page, '#search');
          assert.ok(Math.abs(last.top - layer.top) < 2, 'wide: all options fit one row');
        }
        sizes[host] = await layoutOf(page);
        await page.context().close();
      });
    }

    await test('the cells grow in the editor panel: the heatmap, its rows and the characters are larger than in the side bar', async () => {
      const [v, p] = [sizes.view!, sizes.panel!];
      assert.equal(v.cellW, 10, 'the side bar keeps 10 px columns');
      assert.equal(v.rowH, 8);
      assert.ok(p.cellW >= 14, `editor columns ${p.cellW} px`);
      assert.ok(p.rowH > v.rowH && p.font > v.font && p.attRowH > v.attRowH, JSON.stringify({ v, p }));
    });

    for (const [host, width] of [['view', 300], ['panel', 1200]] as const) {
      await test(`${host} at ${width} px: the heatmap's pixels are the engine's values at its cell size; canvas sizes follow the layout`, async () => {
        const page = await open(host, width);
        await show(page, lstm);
        const l = await layoutOf(page);
        const H = lstm.hidden;
        const T = lstm.chars.length;
        const { rows, scale } = await page.evaluate(() => ({ rows: window.__rnnLab.rows, scale: window.__rnnLab.scale }));
        const heat = await rect(page, '#heatmap');
        assert.equal(heat.height, rows.length * l.rowH, 'one row of rowH per neuron');
        const scroller = await page.evaluate(() => document.getElementById('scroller').clientWidth);
        assert.equal(heat.width, Math.min(scroller, T * l.cellW), 'as wide as the text or the room for it');
        assert.ok(T * l.cellW > scroller, `${T} characters scroll sideways inside the map`);
        const values = matrixMessage(lstm, seq, 0, 'h')!.values;
        for (const [r, t] of [[0, 0], [3, 7], [10, 19], [rows.length - 1, 20]] as const) {
          const got = await page.evaluate(([rr, tt]) => {
            const h = window.__rnnLab;
            const d = document.getElementById('heatmap').getContext('2d').getImageData(Math.floor(h.xOf(tt) + h.layout.cellW / 2), Math.floor(rr * h.layout.rowH + h.layout.rowH / 2), 1, 1).data;
            return [d[0], d[1], d[2]];
          }, [r, t] as const);
          const want = expectedColor(DARK_MODERN, host, values[t * H + rows[r]]!, scale.center, scale.half);
          assert.ok(near(got, want), `(row ${r}, char ${t}) = ${got}, expected ${want}`);
        }
        // A click picks the row under the mouse at this row height.
        const j = await pickRow(page, 5);
        assert.equal(j, rows[5]);
        assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: rows[5] });
        await page.context().close();
      });
    }

    await test('view at 300 px: the picked neuron\'s lists are stacked and scroll sideways in their own box; the page does not', async () => {
      const page = await open('view', 300);
      await show(page, lstm);
      await pickRow(page, 2);
      const most = await rect(page, '#most');
      const least = await rect(page, '#least');
      assert.ok(least.top >= most.bottom - 1 && Math.abs(least.left - most.left) < 2, 'most and least active are stacked');
      const box = await page.evaluate(() => { const b = document.getElementById('most').parentElement; return { sw: b.scrollWidth, cw: b.clientWidth, ox: getComputedStyle(b).overflowX }; });
      assert.ok(box.cw <= 280 && box.ox === 'auto', `the list keeps to its box (${box.sw} in ${box.cw}, overflow-x ${box.ox})`);
      const o = await overflow(page);
      assert.ok(o.doc <= o.view && o.outside.length === 0, `page ${o.doc} of ${o.view}; outside: ${o.outside}`);
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-sidebar-300-dark.png'), fullPage: true });
      await page.context().close();
    });

    await test('panel at 1200 px: the picked neuron\'s text sits beside its most/least active positions', async () => {
      const page = await open('panel', 1200);
      await show(page, lstm);
      await pickRow(page, 2);
      const text = await rect(page, '#colored');
      const most = await rect(page, '#most');
      assert.ok(most.left >= text.right - 1 && most.top < text.bottom, `side by side: text [${text.left}, ${text.right}], lists from ${most.left}`);
      const o = await overflow(page);
      assert.ok(o.doc <= o.view && o.outside.length === 0);
      await page.screenshot({ path: path.join(OUT, 'webview-hidden-editor-1200-dark.png'), fullPage: true });
      for (const [theme, name] of [[LIGHT_MODERN, 'light'], [DARK_HC, 'hc-dark'], [LIGHT_HC, 'hc-light']] as const) {
        await applyTheme(page, theme);
        const { rows, scale } = await page.evaluate(() => ({ rows: window.__rnnLab.rows, scale: window.__rnnLab.scale }));
        const got = await page.evaluate(() => { const h = window.__rnnLab; const d = document.getElementById('heatmap').getContext('2d').getImageData(Math.floor(h.xOf(4) + 2), 2, 1, 1).data; return [d[0], d[1], d[2]]; });
        const want = expectedColor(theme, 'panel', matrixMessage(lstm, seq, 0, 'h')!.values[4 * lstm.hidden + rows[0]]!, scale.center, scale.half);
        assert.ok(near(got, want), `${name}: the editor panel draws on the editor's background (${got} vs ${want})`);
        const bodyBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bodyBg, `rgb(${hexRgb(theme.vars['--vscode-editor-background']!).join(', ')})`, `${name}: the panel's page has the editor's background`);
        if (theme === DARK_HC || theme === LIGHT_HC) {
          const border = await page.evaluate(() => getComputedStyle(document.getElementById('map')).borderTopColor);
          assert.equal(border, `rgb(${hexRgb(theme.vars['--vscode-contrastBorder']!).join(', ')})`, `${name}: the map is outlined`);
        }
        await page.screenshot({ path: path.join(OUT, `webview-hidden-editor-1200-${name}.png`), fullPage: true });
      }
      await page.evaluate((ks) => { for (const k of ks) document.documentElement.style.removeProperty(k); }, HC_ONLY);
      await page.context().close();
    });

    await test('keyboard: every control is reachable by Tab and on screen when focused, in both; Open in Editor only in the side bar', async () => {
      for (const [host, width] of [['view', 300], ['panel', 1200]] as const) {
        const page = await open(host, width);
        await show(page, lstm);
        await pickRow(page, 1);
        const { order, offscreen } = await tabOrder(page, 'clear');
        const want = ['layer', 'quantity', 'sort', 'topk', 'minvar', 'search', ...(host === 'view' ? ['open-editor'] : []), 'heatmap', 'clear'];
        assert.deepEqual(order, want, `${host}: tab order ${order}`);
        assert.deepEqual(offscreen, [], `${host}: focused but off screen sideways`);
        assert.equal(await page.locator('#open-editor').count(), host === 'view' ? 1 : 0);
        if (host === 'view') {
          await page.locator('#open-editor').focus();
          await page.keyboard.press('Enter');
          await settle(page);
          assert.deepEqual((await posted(page)).at(-1), { kind: 'hidden/openInEditor' });
          assert.ok(checkHiddenWebviewMessage({ kind: 'hidden/openInEditor' }).ok, 'the host accepts it');
          await page.locator('#open-editor').click();
          assert.equal((await posted(page)).filter((m) => m.kind === 'hidden/openInEditor').length, 2, 'a click asks too');
        }
        await page.context().close();
      }
    });

    for (const [host, width] of [['view', 300], ['panel', 1200]] as const) {
      await test(`attention (gpt) ${host} at ${width} px: the layer×head grid above each head's strongest positions (${host === 'view' ? 'stacked under the help' : 'beside the help'}), its cells the engine's weights at the cell size`, async () => {
        const page = await open(host, width);
        await show(page, gpt);
        const l = await layoutOf(page);
        const T = gpt.chars.length;
        const heads = gpt.attention!.heads;
        const L = gpt.layers.length;
        const grid = await rect(page, '#att-grid');
        assert.equal(grid.height, L * heads * l.attRowH, 'one row of attRowH per head');
        const map = await rect(page, '.hs-att-map');
        const top = await rect(page, '.hs-att-top-box');
        const help = await rect(page, '.hs-att-help');
        assert.ok(top.top >= map.bottom - 1, 'the strongest positions below the grid');
        if (host === 'view') assert.ok(top.top >= help.bottom - 1, 'narrow: below its help text too');
        else {
          assert.ok(top.left >= help.right - 1 && top.top < help.bottom, `wide: beside the help text (help to ${help.right}, table from ${top.left})`);
          const heat = await rect(page, '#scroller');
          const att = await rect(page, '#att-scroller');
          assert.ok(Math.abs(att.width - heat.width) < 30, `the grid is as wide as the heatmap (${att.width} and ${heat.width})`);
        }
        // Every row's cells against the engine's weights for the last character.
        const q = T - 1;
        const bg = hexRgb(surfaceOf(DARK_MODERN, host));
        const blue = hexRgb(DARK_MODERN.vars['--vscode-charts-blue']!);
        for (let r = 0; r < L * heads; r++) {
          const w = Array.from(gpt.attention!.weights[Math.floor(r / heads)]![r % heads]!.subarray(q * T, q * T + T));
          const max = Math.max(...w);
          for (const s of [0, 5, Math.floor(q / 2), q - 1]) {
            const got = await page.evaluate(([rr, ss]) => {
              const h = window.__rnnLab.layout;
              const sc = document.getElementById('att-scroller');
              const d = document.getElementById('att-grid').getContext('2d').getImageData(Math.floor(ss * h.cellW - sc.scrollLeft + h.cellW / 2), Math.floor(rr * h.attRowH + h.attRowH / 2), 1, 1).data;
              return [d[0], d[1], d[2]];
            }, [r, s] as const);
            const [from, to] = await page.evaluate(() => { const sc = document.getElementById('att-scroller'); return [sc.scrollLeft, sc.scrollLeft + sc.clientWidth]; });
            if (s * l.cellW < from || (s + 1) * l.cellW > to) continue; // scrolled out of view
            const want = [0, 1, 2].map((i) => Math.round(bg[i]! + (blue[i]! - bg[i]!) * (w[s]! / max)));
            assert.ok(near(got, want), `row ${r}, s ${s}: ${got} vs ${want}`);
          }
        }
        // The query (the last character) is in view, also where the text scrolls.
        const [from, to] = await page.evaluate(() => { const sc = document.getElementById('att-scroller'); return [sc.scrollLeft, sc.scrollLeft + sc.clientWidth]; });
        assert.ok(q * l.cellW >= from && (q + 1) * l.cellW <= to + 0.5, `the query column [${q * l.cellW}, ${(q + 1) * l.cellW}] is in view [${from}, ${to}]`);
        if (host === 'view') assert.ok(from > 0, 'the side bar scrolled the grid to the query');
        const o = await overflow(page);
        assert.ok(o.doc <= o.view && o.outside.length === 0, `page ${o.doc} of ${o.view}; outside: ${o.outside}`);
        const box = await page.evaluate(() => { const b = document.querySelector('.hs-att-top-box'); return { sw: b.scrollWidth, cw: b.clientWidth }; });
        if (host === 'view') assert.ok(box.sw > box.cw && box.cw <= 280, `the side bar scrolls the table sideways in its box (${box.sw} in ${box.cw})`);
        else {
          // A short text: its columns grow to fill the grid's width, never past it.
          const room = await page.evaluate(() => document.getElementById('att-scroller').clientWidth);
          assert.ok(T * l.cellW <= room && T * l.cellW > room * 0.6, `${T} columns of ${l.cellW} px in ${room} px`);
          assert.ok(l.cellW > sizes.panel!.cellW, 'larger than for a long text');
        }
        // The grid stays a tab stop between the options and the heatmap; a table too wide for the side bar is one too (it scrolls by keyboard).
        const { order, offscreen } = await tabOrder(page, 'heatmap');
        assert.deepEqual(order.slice(order.indexOf('att-grid')), host === 'view' ? ['att-grid', 'att-top-box', 'heatmap'] : ['att-grid', 'heatmap']);
        assert.deepEqual(offscreen, []);
        await page.screenshot({ path: path.join(OUT, `webview-attention-${host === 'view' ? 'sidebar-300' : 'editor-1200'}-dark.png`), fullPage: true });
        if (host === 'panel') {
          await applyTheme(page, LIGHT_MODERN);
          await page.screenshot({ path: path.join(OUT, 'webview-attention-editor-1200-light.png'), fullPage: true });
        }
        await page.context().close();
      });
    }

    await test('resizing the side bar wider redraws with the wide layout (ResizeObserver), and back', async () => {
      const page = await open('view', 300);
      await show(page, lstm);
      assert.equal((await layoutOf(page)).cellW, 10);
      await page.setViewportSize({ width: 1000, height: 1000 });
      await settle(page);
      await settle(page);
      const wide = await layoutOf(page);
      assert.ok(wide.cellW >= 14, `after widening: ${wide.cellW} px`);
      assert.equal((await rect(page, '#heatmap')).height, (await page.evaluate(() => window.__rnnLab.rows.length)) * wide.rowH, 'the heatmap was redrawn at the new size');
      await page.setViewportSize({ width: 300, height: 1000 });
      await settle(page);
      await settle(page);
      assert.equal((await layoutOf(page)).cellW, 10);
      await page.context().close();
    });

    await test('a page opened from another starts from its options and pick (the host\'s handoff), and tells the host its own', async () => {
      const view = await open('view', 300);
      await show(view, lstm);
      await view.evaluate(() => { const e = document.getElementById('sort'); e.value = 'mean'; e.dispatchEvent(new Event('change', { bubbles: true })); });
      await view.evaluate(() => { const e = document.getElementById('topk'); e.value = '7'; e.dispatchEvent(new Event('input', { bubbles: true })); });
      await settle(view);
      const reported = (await posted(view)).filter((m) => m.kind === 'hidden/view').at(-1)!;
      const checked = checkHiddenWebviewMessage(reported);
      assert.ok(checked.ok && checked.message.kind === 'hidden/view', 'the host accepts the options');
      assert.equal((checked.message as { view: { sort: string } }).view.sort, 'mean');
      const picked = await pickRow(view, 3);
      await view.context().close();
      // The host writes what it was told into the new panel's markup.
      const handoff: HiddenHandoff = { view: (checked.message as { view: HiddenHandoff['view'] }).view, picked };
      const handed = await serve({ title: 'Hidden states', panel: 'hidden', styles: ['panel.css', 'hidden.css'], body: hiddenBody('panel', handoff) });
      try {
        const panel = await open('panel', 1200, handed.origin);
        const n = (await posted(panel)).length;
        await show(panel, lstm);
        const { viewState, rows, pickedNow } = await panel.evaluate(() => ({ viewState: window.__rnnLab.view, rows: window.__rnnLab.rows, pickedNow: window.__rnnLab.picked }));
        assert.equal(viewState.sort, 'mean');
        assert.equal(viewState.topK, 7);
        assert.equal(rows.length, 7);
        assert.equal(pickedNow, picked, 'the same neuron is picked');
        assert.ok((await posted(panel)).slice(n).some((m) => m.kind === 'hidden/pick' && m.neuron === picked), 'and the editor is coloured by it again');
        assert.equal(await panel.locator('#neuron').isVisible(), true);
        await panel.context().close();
      } finally {
        handed.server.close();
      }
      // What the host refuses of a page's options.
      for (const bad of [{ sort: 'random' }, { layer: -1 }, { regex: 'x'.repeat(501) }, { topK: 1.5 }, { minVariance: -1 }, { attendAt: 'last' }, { extra: 1 }, null]) {
        assert.equal(typeof checkHiddenViewState(bad), 'string', JSON.stringify(bad));
        assert.equal(checkHiddenWebviewMessage({ kind: 'hidden/view', view: bad }).ok, false);
      }
      assert.equal(checkHiddenWebviewMessage({ kind: 'hidden/openInEditor', now: true }).ok, false);
      assert.deepEqual(pageErrors, []);
    });

    await test('screenshots exist and are not blank', async () => {
      for (const f of ['webview-hidden-sidebar-300-dark.png', 'webview-hidden-editor-1200-dark.png', 'webview-attention-sidebar-300-dark.png', 'webview-attention-editor-1200-dark.png']) {
        assert.ok(statSync(path.join(OUT, f)).size > 10_000, f);
      }
    });
  } finally {
    await browser.close();
    for (const s of servers) s.server.close();
  }
  console.log(`hidden fit webview: ${runner.passed} passed, ${runner.failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return runner.failed;
}

runMain('hidden fit webview', main);
