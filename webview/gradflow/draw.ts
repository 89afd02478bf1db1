/**
 * Draws the gradient-flow panel from its state: the page's markup once, then
 * every SVG chart and the toolbar's labels on each draw() (they are cheap to
 * rebuild: a window is at most a few hundred steps).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { GradFlowSnapshot } from '../../src/shared/webviewProtocol';
import { readTheme, withAlpha, type Theme } from '../common/theme';
import { labelsOf } from './labels';
import { decadeRange, decayCurve, fmt, glyph, hNorms, logY, wNorms } from './math';
import type { GradFlowState } from './state';

/** The elements the controls listen on. */
export interface GradFlowElements {
  slider: HTMLInputElement;
  layerSel: HTMLElement & { value: string };
  compareSel: HTMLElement & { value: string };
  net: SVGSVGElement;
  whole: HTMLElement;
}

export interface GradFlowDrawing {
  readonly elements: GradFlowElements;
  /** Redraws everything now, keeping the keyboard focus on the same o_t. */
  draw(): void;
}

export function mountGradFlow(app: HTMLElement, state: GradFlowState): GradFlowDrawing {
  let theme: Theme = readTheme();

  app.innerHTML = `
    <div class="toolbar" role="toolbar" aria-label="Gradient flow options">
      <label class="field snapshot">Snapshot
        <input id="snapshot" type="range" min="0" max="0" step="1" value="0" aria-label="Snapshot">
        <output id="snapshot-label" for="snapshot"></output>
      </label>
      <label class="field">Layer
        <vscode-single-select id="layer" aria-label="Layer"></vscode-single-select>
      </label>
      <span id="error-label" class="status-inline"></span>
      <vscode-button id="whole" secondary title="Show the gradient of the whole window's E">Whole window E</vscode-button>
      <span class="spacer"></span>
      <label class="field">Compare decay with
        <vscode-single-select id="compare" aria-label="Model to compare"></vscode-single-select>
      </label>
    </div>
    <p id="empty" class="empty" hidden>No gradient-flow snapshots yet: the trainer takes one every 50 steps (or 10 s) while the model trains.</p>
    <section class="gf-section"><h3 id="net-title">Unrolled in time</h3>
      <div class="gf-scroll"><svg id="net" role="img" aria-label="Network unrolled in time"></svg></div></section>
    <div class="gf-row">
      <section class="gf-section"><h3 id="bars-title">‖∂E/∂h<sub>k</sub>‖ by step (log)</h3><svg id="bars" role="img" aria-label="Gradient norm by step"></svg></section>
      <section class="gf-section"><h3 id="stack-title">Where each step's ∇W comes from</h3><svg id="stack" role="img" aria-label="Contributions to the gradient of W by error"></svg></section>
    </div>
    <div class="gf-row">
      <section class="gf-section"><h3>Gradient norms over training (log) <small>▲ clipped</small></h3><svg id="history" role="img" aria-label="Gradient norms over training"></svg><div id="history-legend" class="gf-legend"></div></section>
      <section class="gf-section"><h3 id="decay-title">Decay with distance</h3><svg id="decay" role="img" aria-label="Gradient decay with distance"></svg><div id="decay-legend" class="gf-legend"></div></section>
    </div>`;
  app.removeAttribute('aria-busy');

  const $ = <T extends Element>(id: string): T => document.getElementById(id) as unknown as T;
  const slider = $<HTMLInputElement>('snapshot');
  const layerSel = $<HTMLElement & { value: string }>('layer');
  const compareSel = $<HTMLElement & { value: string }>('compare');
  const SVGNS = 'http://www.w3.org/2000/svg';

  type Attrs = Record<string, string | number>;
  function el(parent: Element, tag: string, attrs: Attrs = {}, text?: string): SVGElement {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  function clear(svg: SVGSVGElement, width: number, height: number): void {
    svg.replaceChildren();
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  }

  /** Width available to a section's SVG. */
  function widthOf(svg: SVGSVGElement, min = 280): number {
    return Math.max(min, Math.floor((svg.parentElement?.clientWidth ?? 600) - 4));
  }

  function decadeTicks(svg: Element, lo: number, hi: number, y0: number, y1: number, x0: number, x1: number): void {
    const a = Math.round(Math.log10(lo));
    const b = Math.round(Math.log10(hi));
    // At most ~6 labelled decades, however wide the range (vanishing gradients span dozens).
    const every = Math.max(1, Math.ceil((b - a) / 6));
    for (let e = b; e >= a; e -= every) {
      const y = logY(10 ** e, lo, hi, y0, y1);
      el(svg, 'line', { x1: x0, x2: x1, y1: y, y2: y, stroke: withAlpha(theme.grid, 0.5), 'stroke-width': 1, class: 'grid' });
      el(svg, 'text', { x: x0 - 4, y: y + 4, 'text-anchor': 'end', fill: theme.muted, 'font-size': 10 }, `1e${e}`);
    }
  }

  // ------------------------------------------------------------------ unrolled network

  function drawNet(s: GradFlowSnapshot): void {
    const svg = $<SVGSVGElement>('net');
    const L = s.hGradNorm.length;
    const T = s.T;
    const colW = Math.max(18, Math.min(44, (widthOf(svg, 600) - 60) / T));
    const rowH = 46;
    const left = 40;
    const width = left + colW * T + 12;
    const height = rowH * (L + 1) + 44;
    clear(svg, width, height);
    const yOf = (row: number): number => height - 26 - row * rowH; // row 0: x, 1..L: h, L+1: o
    const xOf = (k: number): number => left + colW * (k + 0.5);
    const t = state.errorIn(s);
    const words = labelsOf(s);
    const labels = [words.input, ...Array.from({ length: L }, (_, l) => words.node(l)), 'o'];
    labels.forEach((name, row) => el(svg, 'text', { x: 6, y: yOf(row) + 4, fill: theme.muted, 'font-size': 11 }, name));
    const nodes = el(svg, 'g', { class: 'nodes' });
    const edges = el(svg, 'g', { class: 'edges' });
    svg.insertBefore(edges, nodes);
    const faint = withAlpha(theme.muted, 0.35);
    const hot = theme.palette[1] ?? '#d18616';
    const allH = s.hGradNorm.flatMap((r, l) => [...r, ...hNorms(s, l, t).values]);
    const [hLo, hHi] = decadeRange(allH);
    const allW = s.wContribution.flatMap((r, l) => [...r, ...wNorms(s, l, t)]);
    const [wLo, wHi] = decadeRange(allW);
    svg.dataset.hLo = String(hLo);
    svg.dataset.hHi = String(hHi);
    svg.dataset.wLo = String(wLo);
    svg.dataset.wHi = String(wHi);
    const chars = [...s.text];
    for (let l = 0; l < L; l++) {
      const hv = hNorms(s, l, t).values;
      const wv = wNorms(s, l, t);
      for (let k = 0; k < T; k++) {
        const x = xOf(k);
        const y = yOf(l + 1);
        const u = logY(hv[k]!, hLo, hHi, 0, 1);
        const below = l === 0 ? yOf(0) : yOf(l);
        if (words.recurrent) {
          // U (or the layer below) into h_k.
          el(edges, 'line', { x1: x, y1: below - 5, x2: x, y2: y + 9, stroke: faint, 'stroke-width': 1, class: l === 0 ? 'edge-u' : 'edge-up' });
        } else {
          // A block: the stream from below into x_k, as wide as step k's term of the mixer's input weight (its steps are linked inside the mixer, not by an edge).
          const wu = logY(wv[k]!, wLo, wHi, 0, 1);
          el(edges, 'line', {
            x1: x, y1: below - 5, x2: x, y2: y + 9,
            stroke: withAlpha(theme.palette[0] ?? '#3794ff', 0.35 + 0.65 * wu), 'stroke-width': (0.5 + 6 * wu).toFixed(2),
            class: 'edge-w', 'data-layer': l, 'data-k': k, 'data-value': wv[k]!,
          });
        }
        if (words.recurrent && k > 0) {
          const wu = logY(wv[k]!, wLo, wHi, 0, 1);
          el(edges, 'line', {
            x1: xOf(k - 1) + 9, y1: y, x2: x - 9, y2: y,
            stroke: withAlpha(theme.palette[0] ?? '#3794ff', 0.35 + 0.65 * wu), 'stroke-width': (0.5 + 6 * wu).toFixed(2),
            class: 'edge-w', 'data-layer': l, 'data-k': k, 'data-value': wv[k]!,
          });
        }
        const c = el(nodes, 'circle', {
          cx: x, cy: y, r: (3 + 6 * u).toFixed(2), fill: withAlpha(hot, 0.12 + 0.88 * u), stroke: hot, 'stroke-width': 1,
          class: 'node-h', 'data-layer': l, 'data-k': k, 'data-value': hv[k]!,
        });
        el(c, 'title', {}, `${words.node(l)}_${k} (${words.tapTitle(l)}): ‖∂${t === null ? 'E' : `e_${t}`}/∂${words.sym}‖ = ${fmt(hv[k]!)}; ∇${words.weightText} term ${fmt(wv[k]!)}`);
      }
    }
    for (let k = 0; k < T; k++) {
      const x = xOf(k);
      el(nodes, 'circle', { cx: x, cy: yOf(0), r: 4, fill: theme.background, stroke: theme.muted, class: 'node-x' });
      el(nodes, 'text', { x, y: yOf(0) + 18, 'text-anchor': 'middle', fill: theme.foreground, 'font-size': 11, class: 'char' }, glyph(chars[k] ?? ''));
      el(edges, 'line', { x1: x, y1: yOf(L) - 9, x2: x, y2: yOf(L + 1) + 7, stroke: faint, 'stroke-width': 1, class: 'edge-v' });
      const kept = s.rowTs.includes(k);
      const selected = t === k;
      const o = el(nodes, 'circle', {
        cx: x, cy: yOf(L + 1), r: selected ? 7 : 5,
        fill: selected ? (theme.palette[4] ?? '#f14c4c') : kept ? withAlpha(theme.palette[4] ?? '#f14c4c', 0.3) : theme.background,
        stroke: kept ? (theme.palette[4] ?? '#f14c4c') : theme.muted, 'stroke-width': selected ? 2 : 1,
        // One tab stop for the row of outputs (roving tabindex): ArrowLeft/ArrowRight move along it.
        class: `node-o${selected ? ' selected' : ''}${kept ? ' kept' : ''}`, 'data-t': k, tabindex: k === (t ?? Math.min(state.netCursor, T - 1)) ? 0 : -1, role: 'button',
        'aria-pressed': selected ? 'true' : 'false',
        'aria-label': `error e_${k}: predicting ${glyph(chars[k + 1] ?? '')}`,
      });
      el(o, 'title', {}, kept ? `e_${k}: click to trace its gradient back` : `e_${k}: not traced in this (older) snapshot`);
    }
  }

  // ------------------------------------------------------------------ bars

  function drawBars(s: GradFlowSnapshot): void {
    const svg = $<SVGSVGElement>('bars');
    const layer = state.layerOf(s);
    const t = state.errorIn(s);
    const { values, row } = hNorms(s, layer, t);
    const width = widthOf(svg);
    const height = 220;
    clear(svg, width, height);
    const left = 44;
    const top = 10;
    const bottom = height - 24;
    const [lo, hi] = decadeRange(values);
    Object.assign(svg.dataset, { lo: String(lo), hi: String(hi), top: String(top), bottom: String(bottom), row: row === null ? 'E' : String(row) });
    decadeTicks(svg, lo, hi, bottom, top, left, width - 4);
    const bw = (width - left - 6) / s.T;
    const color = row === null ? (theme.palette[1] ?? '#d18616') : (theme.palette[4] ?? '#f14c4c');
    values.forEach((v, k) => {
      const y = logY(v, lo, hi, bottom, top);
      const r = el(svg, 'rect', {
        x: (left + k * bw + 0.5).toFixed(2), y: y.toFixed(3), width: Math.max(1, bw - 1).toFixed(2), height: (bottom - y).toFixed(3),
        fill: withAlpha(color, 0.8), class: 'bar', 'data-k': k, 'data-value': v,
      });
      el(r, 'title', {}, `k = ${k}: ${fmt(v)}`);
    });
    for (let k = 0; k < s.T; k += Math.max(1, Math.ceil(s.T / 10))) {
      el(svg, 'text', { x: left + (k + 0.5) * bw, y: height - 8, 'text-anchor': 'middle', fill: theme.muted, 'font-size': 10 }, String(k));
    }
    const sym = labelsOf(s).sym;
    $('bars-title').innerHTML = row === null ? `‖∂E/∂${sym}<sub>k</sub>‖ by step k (log), whole window` : `‖∂e<sub>${row}</sub>/∂${sym}<sub>k</sub>‖ by step k (log): the error of step ${row} travelling back`;
  }

  function drawStack(s: GradFlowSnapshot): void {
    const svg = $<SVGSVGElement>('stack');
    const layer = state.layerOf(s);
    const width = widthOf(svg);
    const height = 220;
    clear(svg, width, height);
    const left = 44;
    const top = 10;
    const bottom = height - 24;
    const rows = s.rowW[layer]!;
    const totals = Array.from({ length: s.T }, (_, k) => s.rowTs.reduce((a, _t, i) => a + rows[i]![k]!, 0));
    const max = Math.max(...totals, 1e-30);
    svg.dataset.max = String(max);
    const bw = (width - left - 6) / s.T;
    const base = theme.palette[0] ?? '#3794ff';
    el(svg, 'line', { x1: left, x2: width - 4, y1: bottom, y2: bottom, stroke: theme.grid });
    el(svg, 'text', { x: left - 4, y: top + 8, 'text-anchor': 'end', fill: theme.muted, 'font-size': 10 }, fmt(max));
    for (let k = 0; k < s.T; k++) {
      let y = bottom;
      s.rowTs.forEach((t, i) => {
        const v = rows[i]![k]!;
        if (!(v > 0) || t < k) return;
        const h = ((bottom - top) * v) / max;
        y -= h;
        const near = 1 - Math.min((t - k) / Math.max(s.T - 1, 1), 1);
        const r = el(svg, 'rect', {
          x: (left + k * bw + 0.5).toFixed(2), y: y.toFixed(3), width: Math.max(1, bw - 1).toFixed(2), height: h.toFixed(3),
          fill: withAlpha(t === state.view.errorAt ? (theme.palette[4] ?? '#f14c4c') : base, 0.2 + 0.8 * near), class: 'seg', 'data-k': k, 'data-t': t, 'data-value': v,
        });
        el(r, 'title', {}, `step ${k}, from e_${t} (distance ${t - k}): ${fmt(v)}`);
      });
    }
    for (let k = 0; k < s.T; k += Math.max(1, Math.ceil(s.T / 10))) {
      el(svg, 'text', { x: left + (k + 0.5) * bw, y: height - 8, 'text-anchor': 'middle', fill: theme.muted, 'font-size': 10 }, String(k));
    }
  }

  // ------------------------------------------------------------------ line charts (log y)

  interface Series {
    label: string;
    color: string;
    points: { x: number; y: number }[];
    width?: number;
    dash?: string;
    cls: string;
    model?: string;
  }

  function lineChart(svg: SVGSVGElement, legend: HTMLElement, series: Series[], xLabel: string, marks: { x: number; y: number }[] = [], cursor: number | null = null): void {
    const width = widthOf(svg);
    const height = 240;
    clear(svg, width, height);
    const left = 48;
    const top = 10;
    const bottom = height - 30;
    const right = width - 8;
    const xs = series.flatMap((s) => s.points.map((p) => p.x));
    const x0 = Math.min(...xs, 0);
    const x1 = Math.max(...xs, x0 + 1);
    const [lo, hi] = decadeRange(series.flatMap((s) => s.points.map((p) => p.y)));
    Object.assign(svg.dataset, { lo: String(lo), hi: String(hi), top: String(top), bottom: String(bottom), left: String(left), right: String(right), x0: String(x0), x1: String(x1) });
    const X = (x: number): number => left + ((x - x0) / (x1 - x0)) * (right - left);
    const Y = (y: number): number => logY(y, lo, hi, bottom, top);
    decadeTicks(svg, lo, hi, bottom, top, left, right);
    el(svg, 'line', { x1: left, x2: right, y1: bottom, y2: bottom, stroke: theme.grid });
    for (let i = 0; i <= 4; i++) {
      const x = x0 + ((x1 - x0) * i) / 4;
      el(svg, 'text', { x: X(x), y: bottom + 14, 'text-anchor': 'middle', fill: theme.muted, 'font-size': 10 }, String(Math.round(x)));
    }
    el(svg, 'text', { x: (left + right) / 2, y: height - 3, 'text-anchor': 'middle', fill: theme.muted, 'font-size': 11 }, xLabel);
    if (cursor !== null) el(svg, 'line', { id: `${svg.id}-cursor`, x1: X(cursor), x2: X(cursor), y1: top, y2: bottom, stroke: theme.foreground, 'stroke-dasharray': '3 3', 'data-x': cursor });
    for (const s of series) {
      if (!s.points.length) continue;
      el(svg, 'polyline', {
        points: s.points.map((p) => `${X(p.x).toFixed(2)},${Y(p.y).toFixed(3)}`).join(' '),
        fill: 'none', stroke: s.color, 'stroke-width': s.width ?? 1.5, ...(s.dash ? { 'stroke-dasharray': s.dash } : {}),
        class: s.cls, 'data-label': s.label, ...(s.model ? { 'data-model': s.model } : {}),
      });
      if (s.points.length === 1) el(svg, 'circle', { cx: X(s.points[0]!.x), cy: Y(s.points[0]!.y), r: 3, fill: s.color });
    }
    const red = theme.palette[4] ?? '#f14c4c';
    for (const m of marks) {
      const x = X(m.x);
      const y = Y(m.y);
      el(svg, 'path', { d: `M${x.toFixed(2)},${(y - 8).toFixed(2)} l-4,7 h8 z`, fill: red, class: 'clip-mark', 'data-x': m.x });
    }
    legend.replaceChildren(
      ...series.map((s) => {
        const item = document.createElement('span');
        item.className = 'gf-legend-item';
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = s.color;
        item.append(sw, ` ${s.label}`);
        return item;
      }),
    );
  }

  function drawHistory(list: GradFlowSnapshot[], index: number): void {
    const names = Object.keys(list.at(-1)?.paramGradNorms ?? {});
    const params: Series[] = names.map((name, i) => ({
      label: name,
      color: withAlpha(theme.palette[(i + 2) % theme.palette.length]!, 0.75),
      points: list.filter((s) => name in s.paramGradNorms).map((s) => ({ x: s.step, y: s.paramGradNorms[name]! })),
      width: 1,
      cls: 'param-line',
    }));
    const series: Series[] = [
      ...params,
      { label: 'global norm before clipping', color: theme.palette[0]!, points: list.map((s) => ({ x: s.step, y: s.gradNorm })), width: 2.5, cls: 'norm-before' },
      { label: 'after clipping', color: theme.foreground, points: list.map((s) => ({ x: s.step, y: s.clippedNorm })), width: 1.5, dash: '5 3', cls: 'norm-after' },
    ];
    const marks = list.filter((s) => s.clipped).map((s) => ({ x: s.step, y: s.gradNorm }));
    lineChart($<SVGSVGElement>('history'), $<HTMLElement>('history-legend'), series, 'training step', marks, list[index]?.step ?? null);
  }

  function drawDecay(s: GradFlowSnapshot): void {
    const series: Series[] = [];
    const add = (id: string, snap: GradFlowSnapshot, color: string, what: string): void => {
      const m = state.models.find((x) => x.id === id);
      const layer = id === state.view.modelId ? state.layerOf(snap) : snap.hGradNorm.length - 1;
      const label = `${m?.name ?? id} (${m?.family ?? m?.cell ?? '?'}, ${labelsOf(snap).tapTitle(layer)}, ${what} step ${snap.step})`;
      series.push({ label, color, points: decayCurve(snap, layer).map((p) => ({ x: p.d, y: p.v })), width: 2, cls: 'decay-line', model: id });
    };
    add(state.view.modelId, s, theme.palette[1]!, 'snapshot at');
    const other = state.compared();
    if (state.view.compare && other) add(state.view.compare, other, theme.palette[0]!, 'latest, at');
    const symSet = [...new Set([s, ...(other && state.view.compare ? [other] : [])].map((x) => labelsOf(x).sym))];
    const syms = symSet.length > 1 ? `(${symSet.join(' or ')})` : symSet[0]!;
    $('decay-title').innerHTML = `Decay of ‖∂e<sub>t</sub>/∂${syms}<sub>t−d</sub>‖ with distance d (log, relative to d = 0)`;
    lineChart($<SVGSVGElement>('decay'), $<HTMLElement>('decay-legend'), series, 'distance d = t − k (steps back)');
  }

  // ------------------------------------------------------------------ the layer and compare choices

  function fillSelects(s: GradFlowSnapshot | null): void {
    const L = s?.hGradNorm.length ?? 1;
    const words = s ? labelsOf(s) : null;
    const names = Array.from({ length: L }, (_, l) => words?.tap(l) ?? `layer ${l + 1}`);
    if (layerSel.dataset.key !== names.join('|')) {
      layerSel.dataset.key = names.join('|');
      layerSel.replaceChildren(
        ...names.map((name, l) => {
          const o = document.createElement('vscode-option') as HTMLElement & { value: string };
          o.value = String(l);
          o.textContent = name;
          return o;
        }),
      );
    }
    layerSel.value = String(s ? state.layerOf(s) : 0);
    const others = state.models.filter((m) => m.id !== state.view.modelId);
    const key = others.map((m) => `${m.id}:${m.name}`).join('|');
    if (compareSel.dataset.key !== key) {
      compareSel.dataset.key = key;
      const none = document.createElement('vscode-option') as HTMLElement & { value: string };
      none.value = '';
      none.textContent = 'none';
      compareSel.replaceChildren(
        none,
        ...others.map((m) => {
          const o = document.createElement('vscode-option') as HTMLElement & { value: string };
          o.value = m.id;
          o.textContent = `${m.name} (${m.family ?? m.cell})`;
          return o;
        }),
      );
    }
    compareSel.value = state.view.compare ?? '';
    compareSel.toggleAttribute('disabled', others.length === 0);
    // vscode-elements restores the tab index the select had when first disabled (-1 before it upgraded): keep it a tab stop.
    if (others.length > 0 && compareSel.tabIndex < 0) compareSel.tabIndex = 0;
  }

  function draw(): void {
    // Redrawing replaces the SVG nodes: keep the keyboard focus on the same o_t.
    const focusedT = (document.activeElement as Element | null)?.classList?.contains('node-o') ? Number(document.activeElement!.getAttribute('data-t')) : null;
    drawAll();
    if (focusedT !== null) (document.querySelector(`#net .node-o[data-t="${focusedT}"]`) as SVGElement | null)?.focus();
  }

  function drawAll(): void {
    theme = readTheme();
    const list = state.primary();
    const cur = state.current();
    $<HTMLElement>('empty').hidden = !!cur;
    for (const sec of Array.from(document.querySelectorAll<HTMLElement>('.gf-section, .gf-row'))) sec.hidden = !cur;
    fillSelects(cur?.s ?? null);
    slider.max = String(Math.max(0, list.length - 1));
    slider.value = String(cur?.index ?? 0);
    slider.disabled = list.length < 2;
    if (!cur) {
      $('snapshot-label').textContent = '';
      $('error-label').textContent = '';
      return;
    }
    const { s, index } = cur;
    $('snapshot-label').textContent = `${index + 1}/${list.length} · step ${s.step} · window loss ${s.loss.toFixed(3)}${s.clipped ? ' · clipped' : ''}`;
    const t = state.errorIn(s);
    const words = labelsOf(s);
    $('net-title').innerHTML = `Unrolled in time <small>node: ‖∂E/∂${words.sym}<sub>t</sub>‖${words.recurrent ? '' : ' on the residual stream entering each block'} · ${words.recurrent ? 'W edge' : 'edge into x'}: step's term of ∇${words.weightHtml} · click an output o<sub>t</sub> to follow its error</small>`;
    $('stack-title').innerHTML = `Where each step's ∇${words.weightHtml} comes from <small>stacked by error e<sub>t</sub>, shade = distance t−k</small>`;
    $('error-label').textContent =
      t === null ? 'error: whole window E' : s.rowTs.includes(t) ? `error: e_${t} (predicting “${glyph([...s.text][t + 1] ?? '')}”)` : `e_${t} not traced in this older snapshot: showing E`;
    drawNet(s);
    drawBars(s);
    drawStack(s);
    drawHistory(list, index);
    drawDecay(s);
  }

  return {
    elements: { slider, layerSel, compareSel, net: $<SVGSVGElement>('net'), whole: $<HTMLElement>('whole') },
    draw,
  };
}
