/**
 * Draws the hidden-states view from its state: the markup once, then the
 * surprisal strip, the characters, the heatmap (device pixels written
 * directly), the gutter of neuron indices, the legend, the picked neuron's
 * text and positions, and the tooltip.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { HIDDEN_MAX_CHARS, type HiddenPageHost, type HiddenQuantity } from '../../src/shared/webviewProtocol';
import { readTheme, withAlpha, type Theme } from '../common/theme';
import { ATTENTION_HTML, mountAttention, type AttentionDrawing } from './attention';
import { fitCells } from './fit';
import { MAX_ROWS, type HiddenState } from './state';
import { sizeCanvas } from './canvas';

/** Layout of the drawing, in CSS pixels: cellW, rowH and the character font follow the page's width (fitCells). */
export interface HiddenLayout {
  cellW: number;
  rowH: number;
  attRowH: number;
  font: number;
  surpH: number;
  charsH: number;
  gutterW: number;
  maxRows: number;
}

const QUANTITY_LABEL: Record<HiddenQuantity, string> = {
  h: 'h (hidden state)', c: 'c (cell state)', i: 'i (input gate)', f: 'f (forget gate)', g: 'g (candidate)', o: 'o (output gate)',
  r: 'r (reset gate)', z: 'z (update gate)', n: 'n (candidate)', x: 'x (residual stream after the block)',
};

type ValueElement = HTMLElement & { value: string };

/** The elements the controls listen on. */
export interface HiddenElements {
  layerSel: ValueElement;
  quantitySel: ValueElement;
  sortSel: ValueElement;
  patternSel: ValueElement;
  regexField: ValueElement;
  topkField: ValueElement;
  minvarField: ValueElement;
  searchField: ValueElement;
  scroller: HTMLDivElement;
  heat: HTMLCanvasElement;
  tooltip: HTMLDivElement;
  map: HTMLElement;
  clear: HTMLElement;
  chars: HTMLCanvasElement;
  /** The side bar's Open in Editor button (absent in the editor panel). */
  openEditor: HTMLElement | null;
}

export interface HiddenDrawing {
  readonly elements: HiddenElements;
  /** The sizes drawn with now (updated by every draw). */
  readonly layout: Readonly<HiddenLayout>;
  /** The attention section (shown for a model with attention). */
  readonly attention: AttentionDrawing;
  /** Redraws everything now. */
  draw(): void;
  /** The layer and quantity choices of the current trace. */
  fillSelects(): void;
  /** Shows the pattern and regex fields only where they apply. */
  syncFields(): void;
  /** Puts the cursor's neuron in the heatmap's accessible label. */
  announceCursor(): void;
  /** Shows the tooltip of the position (and row) under the mouse, or hides it. */
  hover(e: MouseEvent): void;
  /** The position under a client x above the heatmap, or -1. */
  positionAt(clientX: number): number;
  /** The heatmap row at a client y, or -1. */
  rowAt(clientY: number): number;
  /** CSS x (inside the canvases) of the left edge of position t. */
  xOf(t: number): number;
  /** The top of the surprisal scale last drawn, in bits. */
  surpMax(): number;
  setTheme(theme: Theme): void;
}

export function mountHidden(app: HTMLElement, state: HiddenState, host: HiddenPageHost | undefined): HiddenDrawing {
  let theme: Theme = readTheme();
  let surpMax = 1;
  const layout: HiddenLayout = { ...fitCells(0, 0), surpH: 34, charsH: 18, gutterW: 44, maxRows: MAX_ROWS };

  app.innerHTML = `
    <div class="toolbar hs-toolbar" role="toolbar" aria-label="Hidden state options">
      <label class="field">Layer <vscode-single-select id="layer" aria-label="Layer"></vscode-single-select></label>
      <label class="field">Show <vscode-single-select id="quantity" aria-label="Quantity"></vscode-single-select></label>
      <label class="field">Sort
        <vscode-single-select id="sort" aria-label="Sort neurons">
          <vscode-option value="index">by index</vscode-option>
          <vscode-option value="variance">by variance</vscode-option>
          <vscode-option value="mean">by mean activation</vscode-option>
          <vscode-option value="correlation">by correlation with…</vscode-option>
        </vscode-single-select>
      </label>
      <label class="field" id="pattern-field">Pattern
        <vscode-single-select id="pattern" aria-label="Pattern to correlate with">
          <vscode-option value="quotes">inside "quotes"</vscode-option>
          <vscode-option value="newline">after a newline</vscode-option>
          <vscode-option value="regex">custom regex</vscode-option>
        </vscode-single-select>
      </label>
      <label class="field" id="regex-field">Regex <vscode-textfield id="regex" placeholder="e.g. [A-Z]\\w+" aria-label="Regular expression marking positions"></vscode-textfield></label>
      <label class="field">Top k <vscode-textfield id="topk" type="number" min="0" class="narrow" title="Show only the first k neurons of the order (0 = all)" aria-label="Top k"></vscode-textfield></label>
      <label class="field">Min var <vscode-textfield id="minvar" type="number" min="0" step="0.01" class="narrow" title="Hide neurons whose variance is below this" aria-label="Minimum variance"></vscode-textfield></label>
      <label class="field">Neuron <vscode-textfield id="search" placeholder="e.g. 3, 10-12" class="narrow" aria-label="Find neurons by index"></vscode-textfield></label>${host === 'view' ? `
      <vscode-button id="open-editor" class="hs-open" secondary title="Open this view in an editor column, with room for larger cells">Open in Editor</vscode-button>` : ''}
    </div>
    <div id="info" class="hs-info" role="status"></div>
    <p id="note" class="hs-note" hidden></p>${ATTENTION_HTML}
    <p id="message" class="placeholder">Waiting for the host…</p>
    <div id="map" class="hs-map" hidden>
      <canvas id="gutter" class="hs-gutter" aria-hidden="true"></canvas>
      <div id="scroller" class="hs-scroller">
        <div id="track" class="hs-track">
          <div class="hs-stick">
            <canvas id="surprisal" role="img" aria-label="Surprisal of each next character, in bits"></canvas>
            <canvas id="chars" role="img" aria-label="Characters"></canvas>
            <canvas id="heatmap" tabindex="0" role="listbox" aria-roledescription="heatmap" aria-label="Neurons × characters heatmap: ArrowUp/ArrowDown move between neurons, Enter picks one"></canvas>
          </div>
        </div>
      </div>
    </div>
    <div id="legend" class="hs-legend" hidden></div>
    <section id="neuron" class="hs-neuron" hidden>
      <div class="toolbar"><strong id="neuron-title"></strong><span class="spacer"></span><vscode-button id="clear" secondary title="Clear the pick and the editor colours">Clear</vscode-button></div>
      <div class="hs-neuron-body">
        <div id="colored" class="hs-text"></div>
        <div class="hs-top">
          <div><h4>Most active</h4><ol id="most"></ol></div>
          <div><h4>Least active</h4><ol id="least"></ol></div>
        </div>
      </div>
    </section>
    <div id="tooltip" class="hs-tooltip" role="tooltip" hidden></div>`;
  app.removeAttribute('aria-busy');
  const attention = mountAttention(state, layout);

  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  type ValueElement = HTMLElement & { value: string };
  const layerSel = $<ValueElement>('layer');
  const quantitySel = $<ValueElement>('quantity');
  const sortSel = $<ValueElement>('sort');
  const patternSel = $<ValueElement>('pattern');
  const regexField = $<ValueElement>('regex');
  const topkField = $<ValueElement>('topk');
  const minvarField = $<ValueElement>('minvar');
  const searchField = $<ValueElement>('search');
  const scroller = $<HTMLDivElement>('scroller');
  const track = $<HTMLDivElement>('track');
  const gutter = $<HTMLCanvasElement>('gutter');
  const surpCanvas = $<HTMLCanvasElement>('surprisal');
  const charsCanvas = $<HTMLCanvasElement>('chars');
  const heat = $<HTMLCanvasElement>('heatmap');
  const tooltip = $<HTMLDivElement>('tooltip');

  sortSel.value = state.view.sort;
  patternSel.value = state.view.pattern;
  regexField.value = state.view.regex;
  topkField.value = String(state.view.topK);
  minvarField.value = String(state.view.minVariance);
  searchField.value = state.view.search;

  // ------------------------------------------------------------------ colours

  type RGB = [number, number, number];

  /** A CSS colour as RGB, resolved by the browser (so any syntax VS Code uses works). */
  function toRgb(color: string): RGB {
    const ctx = document.createElement('canvas').getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillStyle = color;
    const v = ctx.fillStyle;
    if (v.startsWith('#')) return [parseInt(v.slice(1, 3), 16), parseInt(v.slice(3, 5), 16), parseInt(v.slice(5, 7), 16)];
    const m = /rgba?\(([^)]+)\)/.exec(v);
    const p = m ? m[1]!.split(',').map(Number) : [0, 0, 0];
    return [p[0]!, p[1]!, p[2]!];
  }

  /** The page's own background: the side bar's (where the view lives), else the editor's. */
  let surface = '#000';
  let bgRgb: RGB = [0, 0, 0];
  let posRgb: RGB = [0, 0, 0];
  let negRgb: RGB = [0, 0, 0];

  function readColors(): void {
    // The side bar's background in the side bar, the editor's in an editor panel.
    const own = host !== 'panel' ? getComputedStyle(document.documentElement).getPropertyValue('--vscode-sideBar-background').trim() : '';
    surface = own || theme.background;
    bgRgb = toRgb(surface);
    posRgb = toRgb(theme.palette[0]!); // --vscode-charts-blue
    negRgb = toRgb(theme.palette[4]!); // --vscode-charts-red
  }

  /** The diverging scale: the background at the centre, blue above, red below, linear in (v - center) / half. */
  function colorOf(v: number): RGB {
    const x = Math.max(-1, Math.min(1, (v - state.scale.center) / state.scale.half));
    const to = x >= 0 ? posRgb : negRgb;
    const a = Math.abs(x);
    return [
      Math.round(bgRgb[0] + (to[0] - bgRgb[0]) * a),
      Math.round(bgRgb[1] + (to[1] - bgRgb[1]) * a),
      Math.round(bgRgb[2] + (to[2] - bgRgb[2]) * a),
    ];
  }

  const css = (c: RGB): string => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;

  /** Whitespace shown visibly. */
  function visible(ch: string): string {
    return ch === ' ' ? '␣' : ch === '\n' ? '↵' : ch === '\t' ? '⇥' : ch === '\r' ? '␍' : ch;
  }

  // ------------------------------------------------------------------ drawing

  /** First drawn position and how many fit in the visible width (the canvases only cover what is visible). */
  function visibleRange(): { t0: number; n: number; x0: number; width: number } {
    const width = Math.max(1, Math.min(scroller.clientWidth || 600, state.T * layout.cellW));
    const t0 = Math.floor(scroller.scrollLeft / layout.cellW);
    const n = Math.min(state.T - t0, Math.ceil(width / layout.cellW) + 1);
    return { t0, n, x0: t0 * layout.cellW - scroller.scrollLeft, width };
  }

  /** CSS x (inside the canvases) of the left edge of position t. */
  function xOf(t: number): number {
    return t * layout.cellW - scroller.scrollLeft;
  }


  /** Whether the heatmap has the keyboard focus (the cursor row is drawn then, not after a mouse click). */
  function keyboardFocus(): boolean {
    return document.activeElement === heat && heat.matches(':focus-visible');
  }

  /** Sizes the cells for the page's width now. */
  function fit(): void {
    Object.assign(layout, fitCells(app.clientWidth, state.T));
  }

  function draw(): void {
    fit();
    const msg = $('message');
    const map = $('map');
    if (!state.trace) {
      // The host's status (no editor, no model, an error…) in place of the map.
      msg.hidden = false;
      msg.textContent = state.status;
      $('info').textContent = '';
      $('note').hidden = true;
      map.hidden = true;
      $('legend').hidden = true;
      $('neuron').hidden = true;
      attention.elements.section.hidden = true;
      return;
    }
    attention.draw(theme, { surface, bg: bgRgb, to: posRgb });
    msg.hidden = state.hasMatrix();
    if (!state.hasMatrix()) msg.textContent = 'Loading…';
    map.hidden = !state.hasMatrix();
    renderInfo();
    if (!state.hasMatrix()) return;
    const dpr = window.devicePixelRatio || 1;
    track.style.width = `${state.T * layout.cellW}px`;
    const { t0, n, width } = visibleRange();
    const fg = theme.foreground;

    // Surprisal strip: a bar per character, its height proportional to the bits.
    const sctx = sizeCanvas(surpCanvas, width, layout.surpH, dpr);
    sctx.fillStyle = surface;
    sctx.fillRect(0, 0, width, layout.surpH);
    surpMax = Math.max(4, ...state.trace.surprisal.map((s) => s ?? 0));
    sctx.fillStyle = theme.palette[1]!; // --vscode-charts-orange
    for (let t = t0; t < t0 + n; t++) {
      const s = state.trace.surprisal[t];
      const hgt = s === null || s === undefined ? 0 : (s / surpMax) * (layout.surpH - 2);
      if (hgt > 0) sctx.fillRect(xOf(t) + 1, layout.surpH - hgt, layout.cellW - 2, hgt);
    }
    sctx.fillStyle = withAlpha(theme.muted, 0.8);
    sctx.font = `10px ${theme.fontFamily}`;
    sctx.textBaseline = 'top';
    sctx.fillText(`${surpMax.toFixed(1)} bits`, 2, 1);

    // Characters, whitespace visible.
    const cctx = sizeCanvas(charsCanvas, width, layout.charsH, dpr);
    cctx.fillStyle = surface;
    cctx.fillRect(0, 0, width, layout.charsH);
    cctx.font = `${layout.font}px ${getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-font-family') || 'monospace'}`;
    cctx.textAlign = 'center';
    cctx.textBaseline = 'middle';
    const unknown = new Set(state.trace.unknown);
    for (let t = t0; t < t0 + n; t++) {
      const ch = state.trace.chars[t]!;
      const ws = visible(ch) !== ch;
      cctx.fillStyle = ws || unknown.has(t) ? withAlpha(theme.muted, 0.6) : fg;
      cctx.fillText(visible(ch), xOf(t) + layout.cellW / 2, layout.charsH / 2);
    }

    // Heatmap: one pixel block per (neuron row, character), device pixels written directly.
    const rh = layout.rowH;
    const hh = Math.max(1, state.rows.length * rh);
    heat.style.width = `${width}px`;
    heat.style.height = `${hh}px`;
    heat.width = Math.round(width * dpr);
    heat.height = Math.round(hh * dpr);
    const hctx = heat.getContext('2d')!;
    const img = hctx.createImageData(heat.width, heat.height);
    const data = img.data;
    const bg = bgRgb;
    for (let i = 0; i < data.length; i += 4) {
      data[i] = bg[0];
      data[i + 1] = bg[1];
      data[i + 2] = bg[2];
      data[i + 3] = 255;
    }
    const values = state.matrix!.values;
    const h = state.H;
    for (let r = 0; r < state.rows.length; r++) {
      const j = state.rows[r]!;
      const y0 = Math.round(r * rh * dpr);
      const y1 = Math.round((r + 1) * rh * dpr);
      for (let t = t0; t < t0 + n; t++) {
        const c = colorOf(values[t * h + j]!);
        const xa = Math.max(0, Math.round(xOf(t) * dpr));
        const xb = Math.min(heat.width, Math.round((xOf(t) + layout.cellW) * dpr));
        for (let y = y0; y < y1; y++) {
          let p = (y * heat.width + xa) * 4;
          for (let x = xa; x < xb; x++, p += 4) {
            data[p] = c[0];
            data[p + 1] = c[1];
            data[p + 2] = c[2];
          }
        }
      }
    }
    hctx.putImageData(img, 0, 0);
    const pr = state.picked === null ? -1 : state.rows.indexOf(state.picked);
    if (pr >= 0) {
      hctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      hctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue('--vscode-focusBorder').trim() || fg;
      hctx.lineWidth = 1;
      hctx.strokeRect(0.5, pr * rh + 0.5, width - 1, rh - 1);
    }

    if (keyboardFocus() && state.rows.length) {
      state.cursor = Math.max(0, Math.min(state.rows.length - 1, state.cursor));
      hctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      hctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue('--vscode-focusBorder').trim() || fg;
      hctx.lineWidth = 2;
      hctx.setLineDash([3, 2]);
      hctx.strokeRect(1, state.cursor * rh + 1, width - 2, rh - 2);
      hctx.setLineDash([]);
    }

    // Gutter: neuron indices, as many as fit.
    const top = layout.surpH + layout.charsH;
    const gctx = sizeCanvas(gutter, layout.gutterW, top + hh, dpr);
    gctx.fillStyle = surface;
    gctx.fillRect(0, 0, layout.gutterW, top + hh);
    gctx.font = `10px ${theme.fontFamily}`;
    gctx.textAlign = 'right';
    gctx.textBaseline = 'middle';
    gctx.fillStyle = theme.muted;
    gctx.fillText('bits', layout.gutterW - 6, layout.surpH / 2);
    gctx.fillText('text', layout.gutterW - 6, layout.surpH + layout.charsH / 2);
    const every = Math.max(1, Math.ceil(12 / rh));
    for (let r = 0; r < state.rows.length; r++) {
      const atCursor = r === state.cursor && keyboardFocus();
      if (r % every !== 0 && state.rows[r] !== state.picked && !atCursor) continue;
      gctx.fillStyle = state.rows[r] === state.picked || atCursor ? fg : theme.muted;
      gctx.fillText(String(state.rows[r]), layout.gutterW - 6, top + r * rh + rh / 2);
    }
    renderLegend();
    renderNeuron();
  }

  function renderInfo(): void {
    if (!state.trace) return;
    const qs = QUANTITY_LABEL[state.view.quantity];
    $('info').textContent = `${state.trace.modelName} · ${state.trace.source}, line ${state.trace.firstLine} · ${state.T} characters · layer ${state.view.layer + 1} of ${state.trace.layers}, ${qs} · ${state.rows.length} of ${state.H} neurons`;
    const note = $('note');
    const notes: string[] = [];
    if (state.trace.totalChars > state.T) {
      // Below the view's own cap, the model's window (a gpt's context) is what cut the text.
      const why = state.T < HIDDEN_MAX_CHARS ? `the model reads at most ${state.T.toLocaleString('en-US')} at once (its context)` : `the view traces at most ${state.T.toLocaleString('en-US')}`;
      notes.push(`Showing the first ${state.T.toLocaleString('en-US')} of ${state.trace.totalChars.toLocaleString('en-US')} characters: ${why}.`);
    }
    if (state.patternError && state.view.sort === 'correlation') notes.push(`Pattern: ${state.patternError}.`);
    if (state.trace.unknown.length) notes.push(`${state.trace.unknown.length} character(s) are not in the model's vocabulary (shown dimmed).`);
    note.textContent = notes.join(' ');
    note.hidden = notes.length === 0;
  }

  function renderLegend(): void {
    const lg = $('legend');
    lg.hidden = false;
    const lo = state.scale.center - state.scale.half;
    const hi = state.scale.center + state.scale.half;
    lg.innerHTML = '';
    const bar = document.createElement('span');
    bar.className = 'hs-legend-bar';
    // Built with the same scale the heatmap uses: a canvas gradient would need a style attribute.
    const c = document.createElement('canvas');
    c.width = 120;
    c.height = 10;
    const ctx = c.getContext('2d')!;
    for (let x = 0; x < 120; x++) {
      ctx.fillStyle = css(colorOf(lo + ((hi - lo) * (x + 0.5)) / 120));
      ctx.fillRect(x, 0, 1, 10);
    }
    bar.append(c);
    const hint = document.createElement('span');
    hint.className = 'hs-hint';
    hint.textContent = 'Click a row (or focus the map, ArrowUp/ArrowDown, Enter) to pick a neuron; hover for the next-character guesses.';
    const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : +v.toPrecision(3)).toString();
    lg.append(fmt(lo), ' ', bar, ' ', fmt(hi), state.view.sort === 'correlation' && state.corr ? ' · rows sorted by |r| with the pattern' : '', hint);
  }

  function renderNeuron(): void {
    const sec = $('neuron');
    const col = state.pickedColumn();
    if (col === null || state.picked === null) {
      sec.hidden = true;
      return;
    }
    sec.hidden = false;
    const j = state.picked;
    const extra = state.stats ? ` · mean ${state.stats.mean[j]!.toFixed(3)}, variance ${state.stats.variance[j]!.toFixed(4)}${state.corr ? `, r = ${state.corr[j]!.toFixed(3)}` : ''}` : '';
    $('neuron-title').textContent = `Neuron ${j} · layer ${state.view.layer + 1} · ${state.view.quantity}${extra}`;
    const colored = $('colored');
    colored.replaceChildren();
    const frag = document.createDocumentFragment();
    col.forEach((v, t) => {
      const s = document.createElement('span');
      const ch = state.trace!.chars[t]!;
      s.textContent = ch === '\n' ? '↵\n' : ch;
      s.dataset.t = String(t);
      s.title = `${v.toFixed(4)}`;
      const c = colorOf(v);
      // CSP forbids style attributes from markup, but CSSOM property writes are allowed.
      s.style.backgroundColor = css(c);
      frag.append(s);
    });
    colored.append(frag);
    const topPositions = state.topPositions();
    const list = (el: HTMLElement, ts: number[]) => {
      el.replaceChildren(
        ...ts.map((t) => {
          const li = document.createElement('li');
          const ctx = (a: number, b: number) => state.trace!.chars.slice(Math.max(0, a), Math.max(0, b)).map(visible).join('');
          li.append(`${col[t]!.toFixed(3)} `);
          const code = document.createElement('code');
          code.append(ctx(t - 12, t));
          const mark = document.createElement('mark');
          mark.textContent = visible(state.trace!.chars[t]!);
          code.append(mark, ctx(t + 1, t + 8));
          li.append(code);
          li.dataset.t = String(t);
          return li;
        }),
      );
    };
    list($('most'), topPositions.most);
    list($('least'), topPositions.least);
  }

  function positionAt(clientX: number): number {
    const rect = surpCanvas.getBoundingClientRect();
    const t = Math.floor((clientX - rect.left + scroller.scrollLeft) / layout.cellW);
    return t >= 0 && t < state.T ? t : -1;
  }

  function rowAt(clientY: number): number {
    const rect = heat.getBoundingClientRect();
    const r = Math.floor((clientY - rect.top) / layout.rowH);
    return clientY >= rect.top && r >= 0 && r < state.rows.length ? r : -1;
  }

  /** The tooltip text of position t (and a row, when over the heatmap). */
  function tooltipAt(t: number, r: number): void {
    if (!state.trace) return;
    const K = state.trace.topK;
    tooltip.replaceChildren();
    const head = document.createElement('div');
    const s = state.trace.surprisal[t];
    head.className = 'hs-tip-head';
    head.textContent = `“${visible(state.trace.chars[t]!)}” at ${t}${s === null || s === undefined ? '' : ` · next “${visible(state.trace.chars[t + 1] ?? '')}”: ${s.toFixed(2)} bits`}`;
    tooltip.append(head);
    if (r >= 0 && state.hasMatrix()) {
      const j = state.rows[r]!;
      const v = document.createElement('div');
      v.textContent = `neuron ${j}: ${state.matrix!.values[t * state.H + j]!.toFixed(4)}`;
      tooltip.append(v);
    }
    const table = document.createElement('table');
    table.className = 'hs-tip-next';
    for (let k = 0; k < K; k++) {
      const tr = document.createElement('tr');
      const ch = state.trace.topChars[t * K + k]!;
      const p = state.trace.topProbs[t * K + k]!;
      const a = document.createElement('td');
      a.textContent = visible(ch);
      a.className = 'hs-tip-char';
      const b = document.createElement('td');
      b.textContent = `${(p * 100).toFixed(1)}%`;
      b.className = 'hs-tip-prob';
      tr.dataset.char = ch;
      tr.dataset.prob = String(p);
      tr.append(a, b);
      table.append(tr);
    }
    const cap = document.createElement('div');
    cap.className = 'hs-tip-caption';
    cap.textContent = 'most likely next characters';
    tooltip.append(cap, table);
  }

  function onHover(e: MouseEvent): void {
    const t = positionAt(e.clientX);
    if (t < 0) {
      tooltip.hidden = true;
      return;
    }
    tooltipAt(t, rowAt(e.clientY));
    tooltip.hidden = false;
    const pad = 14;
    const w = tooltip.offsetWidth;
    const h = tooltip.offsetHeight;
    const x = e.clientX + pad + w > window.innerWidth ? e.clientX - pad - w : e.clientX + pad;
    const y = e.clientY + pad + h > window.innerHeight ? e.clientY - pad - h : e.clientY + pad;
    tooltip.style.left = `${Math.max(0, x)}px`;
    tooltip.style.top = `${Math.max(0, y)}px`;
  }

  /** Says which neuron the keyboard cursor is on (screen readers read the canvas's label). */
  function announceCursor(): void {
    const j = state.rows[state.cursor];
    heat.setAttribute('aria-label', j === undefined ? 'Neurons × characters heatmap' : `Neuron ${j}, row ${state.cursor + 1} of ${state.rows.length}${j === state.picked ? ', picked' : ''}: ArrowUp/ArrowDown move, Enter picks`);
  }

  function fillSelects(): void {
    if (!state.trace) return;
    const layers = Array.from({ length: state.trace.layers }, (_, l) => `<vscode-option value="${l}">${l + 1}</vscode-option>`).join('');
    if (layerSel.dataset.n !== String(state.trace.layers)) {
      layerSel.innerHTML = layers;
      layerSel.dataset.n = String(state.trace.layers);
    }
    const key = state.trace.quantities.join(',');
    if (quantitySel.dataset.q !== key) {
      quantitySel.innerHTML = state.trace.quantities.map((q) => `<vscode-option value="${q}">${QUANTITY_LABEL[q]}</vscode-option>`).join('');
      quantitySel.dataset.q = key;
    }
    layerSel.value = String(state.view.layer);
    quantitySel.value = state.view.quantity;
  }

  function syncFields(): void {
    $('pattern-field').hidden = state.view.sort !== 'correlation';
    $('regex-field').hidden = state.view.sort !== 'correlation' || state.view.pattern !== 'regex';
  }

  readColors();
  return {
    attention,
    elements: {
      layerSel, quantitySel, sortSel, patternSel, regexField, topkField, minvarField, searchField, scroller, heat, tooltip, map: $('map'), clear: $('clear'), chars: charsCanvas,
      openEditor: document.getElementById('open-editor'),
    },
    layout,
    positionAt,
    draw,
    fillSelects,
    syncFields,
    announceCursor,
    hover: onHover,
    rowAt,
    xOf,
    surpMax: () => surpMax,
    setTheme(t) {
      theme = t;
      readColors();
    },
  };
}
