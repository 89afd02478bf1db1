/**
 * Draws the attention section of the hidden-states view (a model with
 * attention only): one row per layer and head over the traced characters,
 * each cell coloured by how much the query character attends to that
 * earlier character; the query's column is outlined and later positions
 * (masked by causality) are drawn as empty. Below, each head's strongest
 * positions as text.
 */
import type { Theme } from '../common/theme';
import type { HiddenState } from './state';
import { sizeCanvas } from './canvas';

/** What the grid is sized by (the heatmap's layout: cells as wide as the heatmap's). */
export interface AttentionSizes {
  readonly cellW: number;
  readonly attRowH: number;
  readonly font: number;
}

/** Fixed parts of the grid's layout, in CSS pixels. */
const FIXED = { charsH: 18, gutterW: 68 };

type RGB = [number, number, number];

export interface AttentionElements {
  section: HTMLElement;
  scroller: HTMLDivElement;
  chars: HTMLCanvasElement;
  grid: HTMLCanvasElement;
}

export interface AttentionDrawing {
  readonly elements: AttentionElements;
  draw(theme: Theme, colors: { surface: string; bg: RGB; to: RGB }): void;
  /** The position under a client x in the grid or its characters, or -1. */
  positionAt(clientX: number): number;
  /** CSS x (inside the canvases) of the left edge of position t. */
  xOf(t: number): number;
  /** Scrolls so that position t is in view. */
  reveal(t: number): void;
}

/** The markup of the section (inserted once by mountHidden). */
export const ATTENTION_HTML = `
    <section id="attention" class="hs-attention" hidden>
      <div class="toolbar"><strong id="att-title"></strong></div>
      <div class="hs-att-body">
      <div class="hs-att-map">
        <canvas id="att-gutter" class="hs-gutter" aria-hidden="true"></canvas>
        <div id="att-scroller" class="hs-scroller">
          <div id="att-track" class="hs-track">
            <div class="hs-stick">
              <canvas id="att-chars" role="img" aria-label="Characters: click one to see where it attends"></canvas>
              <canvas id="att-grid" tabindex="0" role="img" aria-label="Attention: ArrowLeft/ArrowRight move the query character"></canvas>
            </div>
          </div>
        </div>
      </div>
      <p class="hs-att-help">Each row is one head of one layer; a cell's colour is the weight the query character (outlined) gives to that character, scaled to the row's largest weight (shown at the left). Click a character, or focus the grid and use ArrowLeft/ArrowRight, to move the query.</p>
      <div id="att-top-box" class="hs-att-top-box" role="region" aria-label="Each head's strongest positions"><table id="att-top" class="hs-att-top"></table></div>
      </div>
    </section>`;

function glyph(ch: string): string {
  return ch === ' ' ? '␣' : ch === '\n' ? '↵' : ch === '\t' ? '⇥' : ch === '\r' ? '␍' : ch;
}

export function mountAttention(state: HiddenState, sizes: AttentionSizes): AttentionDrawing {
  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  const section = $<HTMLElement>('attention');
  const scroller = $<HTMLDivElement>('att-scroller');
  const track = $<HTMLDivElement>('att-track');
  const gutter = $<HTMLCanvasElement>('att-gutter');
  const chars = $<HTMLCanvasElement>('att-chars');
  const grid = $<HTMLCanvasElement>('att-grid');
  // Read at each use: the sizes change with the page's width.
  const L = {
    get cellW() { return sizes.cellW; },
    get rowH() { return sizes.attRowH; },
    ...FIXED,
  };

  const xOf = (t: number): number => t * L.cellW - scroller.scrollLeft;

  function positionAt(clientX: number): number {
    const rect = grid.getBoundingClientRect();
    const t = Math.floor((clientX - rect.left + scroller.scrollLeft) / L.cellW);
    return t >= 0 && t < state.T ? t : -1;
  }

  function reveal(t: number): void {
    const x = t * L.cellW;
    if (x < scroller.scrollLeft) scroller.scrollLeft = x;
    else if (x + L.cellW > scroller.scrollLeft + scroller.clientWidth) scroller.scrollLeft = x + L.cellW - scroller.clientWidth;
  }

  function draw(theme: Theme, colors: { surface: string; bg: RGB; to: RGB }): void {
    const trace = state.trace;
    const heads = trace?.heads ?? 0;
    section.hidden = !trace || heads === 0;
    if (!trace || heads === 0) return;
    const rows = trace.layers * heads;
    const T = state.T;
    const q = state.attendQuery();
    const ready = state.hasAttention();
    const ch = trace.chars[q] ?? '';
    $('att-title').textContent = `Attention of “${glyph(ch)}” at position ${q}: ${trace.layers} layer${trace.layers > 1 ? 's' : ''} × ${heads} head${heads > 1 ? 's' : ''}${ready ? '' : ' (loading…)'}`;
    const dpr = window.devicePixelRatio || 1;
    track.style.width = `${T * L.cellW}px`;
    const width = Math.max(1, Math.min(scroller.clientWidth || 600, T * L.cellW));
    const t0 = Math.floor(scroller.scrollLeft / L.cellW);
    const n = Math.min(T - t0, Math.ceil(width / L.cellW) + 1);
    const focus = getComputedStyle(document.documentElement).getPropertyValue('--vscode-focusBorder').trim() || theme.foreground;

    const cctx = sizeCanvas(chars, width, L.charsH, dpr);
    cctx.fillStyle = colors.surface;
    cctx.fillRect(0, 0, width, L.charsH);
    cctx.font = `${sizes.font}px ${getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-font-family') || 'monospace'}`;
    cctx.textAlign = 'center';
    cctx.textBaseline = 'middle';
    for (let t = t0; t < t0 + n; t++) {
      const c = trace.chars[t]!;
      cctx.fillStyle = t > q || glyph(c) !== c ? theme.muted : theme.foreground;
      cctx.fillText(glyph(c), xOf(t) + L.cellW / 2, L.charsH / 2);
    }
    cctx.strokeStyle = focus;
    cctx.lineWidth = 1;
    cctx.strokeRect(xOf(q) + 0.5, 0.5, L.cellW - 1, L.charsH - 1);

    const gh = rows * L.rowH;
    const gctx = sizeCanvas(grid, width, gh, dpr);
    gctx.fillStyle = colors.surface;
    gctx.fillRect(0, 0, width, gh);
    const maxes: number[] = [];
    for (let l = 0; l < trace.layers; l++) {
      for (let h = 0; h < heads; h++) {
        const r = l * heads + h;
        const w = state.attentionRow(l, h);
        const max = Math.max(0, ...w);
        maxes.push(max);
        for (let t = t0; t < t0 + n; t++) {
          const x = xOf(t);
          if (t > q || !ready) {
            gctx.fillStyle = `rgba(128, 128, 128, ${t > q ? 0.06 : 0.12})`;
          } else {
            const a = max > 0 ? w[t]! / max : 0;
            const c = colors.bg.map((b, i) => Math.round(b + (colors.to[i]! - b) * a));
            gctx.fillStyle = `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
          }
          gctx.fillRect(x, r * L.rowH, L.cellW, L.rowH - 1);
        }
      }
    }
    gctx.strokeStyle = focus;
    gctx.lineWidth = document.activeElement === grid ? 2 : 1;
    gctx.strokeRect(xOf(q) + 0.5, 0.5, L.cellW - 1, gh - 1);

    const top = L.charsH;
    const uctx = sizeCanvas(gutter, L.gutterW, top + gh, dpr);
    uctx.fillStyle = colors.surface;
    uctx.fillRect(0, 0, L.gutterW, top + gh);
    uctx.font = `10px ${theme.fontFamily}`;
    uctx.textAlign = 'right';
    uctx.textBaseline = 'middle';
    uctx.fillStyle = theme.muted;
    uctx.fillText('text', L.gutterW - 6, L.charsH / 2);
    for (let r = 0; r < rows; r++) {
      const label = `L${Math.floor(r / heads) + 1}H${(r % heads) + 1}${ready ? ` ${maxes[r]!.toFixed(2)}` : ''}`;
      uctx.fillText(label, L.gutterW - 4, top + r * L.rowH + L.rowH / 2);
    }
    grid.dataset.query = String(q);
    renderTop(ready, heads);
  }

  /** Each head's three strongest positions, as text (what a screen reader reads of the grid). */
  function renderTop(ready: boolean, heads: number): void {
    const table = $<HTMLTableElement>('att-top');
    table.replaceChildren();
    if (!ready || !state.trace) return;
    for (let l = 0; l < state.trace.layers; l++) {
      for (let h = 0; h < heads; h++) {
        const w = state.attentionRow(l, h);
        const best = w.map((_, s) => s).sort((a, b) => w[b]! - w[a]! || b - a).slice(0, 3);
        const tr = document.createElement('tr');
        const name = document.createElement('th');
        name.textContent = `layer ${l + 1} head ${h + 1}`;
        tr.append(name);
        for (const s of best) {
          const td = document.createElement('td');
          const code = document.createElement('code');
          code.textContent = glyph(state.trace.chars[s]!);
          td.append(code, ` ${s} · ${w[s]!.toFixed(2)}`);
          td.dataset.s = String(s);
          tr.append(td);
        }
        tr.dataset.layer = String(l);
        tr.dataset.head = String(h);
        table.append(tr);
      }
    }
  }

  return { elements: { section, scroller, chars, grid }, draw, positionAt, xOf, reveal };
}
