/**
 * The comparison charts of an experiment as inline SVG, and the series they
 * draw: pure, and free of Node and engine code, so report.html and the
 * Experiment panel's page draw the same runs, colours and points.
 */
import type { ResultRow } from './results';

/** Colour-blind-safe palette (Okabe–Ito, then Tableau), cycled. */
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#f0e442', '#000000', '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1'];

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Round, human tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v: number, digits = 3): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(digits)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(digits)}k`;
  return String(+v.toPrecision(digits));
}

/** Labels for ticks, with as many digits as it takes for neighbours to read differently (849.5 beside 849). */
export function tickLabels(ticks: readonly number[]): string[] {
  for (let digits = 3; digits < 12; digits++) {
    const labels = ticks.map((t) => fmt(t, digits));
    if (new Set(labels).size === labels.length) return labels;
  }
  return ticks.map((t) => String(t));
}

/**
 * The range drawn for data from lo to hi: a single value gets room around it
 * (a tenth of itself, or ±1 at 0), never below 0 for data that is not negative
 * (parameters, seconds, characters).
 */
export function axisRange(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const d = Math.abs(lo) * 0.1 || 1;
  return [lo >= 0 ? Math.max(0, lo - d) : lo - d, hi + d];
}

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Lines or dots. */
  mode: 'line' | 'dots';
  width?: number;
  height?: number;
}

/** One chart as an SVG element: axes with ticks, one polyline (or dots) per series, a title per dot. */
export function svgChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 300;
  const m = { l: 58, r: 12, t: 26, b: 42 };
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(o.title)}">` +
    `<text x="${W / 2}" y="16" text-anchor="middle" class="title">${escapeHtml(o.title)}</text>`;
  if (pts.length === 0) return `${head}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no data yet</text></svg>`;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of pts) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  [x0, x1] = axisRange(x0, x1);
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  // Dots on the frame would be cut in half.
  if (o.mode === 'dots') [x0, x1] = [x0 - (x1 - x0) * 0.04, x1 + (x1 - x0) * 0.04];
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number): number => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [head];
  const xTicks = niceTicks(x0, x1);
  const xLabels = tickLabels(xTicks);
  xTicks.forEach((t, i) => parts.push(`<line class="grid" x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${m.t}" y2="${H - m.b}"/><text class="tick" x="${sx(t).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${xLabels[i]}</text>`));
  const yTicks = niceTicks(y0, y1);
  const yLabels = tickLabels(yTicks);
  yTicks.forEach((t, i) => parts.push(`<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/><text class="tick" x="${m.l - 5}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${yLabels[i]}</text>`));
  parts.push(`<rect class="frame" x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}"/>`);
  parts.push(`<text class="axis" x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  parts.push(`<text class="axis" transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`);
  for (const s of series) {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (ok.length === 0) continue;
    if (o.mode === 'line' && ok.length > 1) {
      const d = ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${d}"><title>${escapeHtml(s.label)}</title></polyline>`);
    } else {
      for (const [x, y] of ok) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="4" fill="${s.color}"><title>${escapeHtml(`${s.label}: ${fmt(x)}, ${y.toFixed(4)}`)}</title></circle>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** At most `n` points of a curve, evenly spaced (the last one kept), so the page stays small. */
export function thin<T>(points: readonly T[], n = 400): T[] {
  if (points.length <= n) return [...points];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(points[Math.round((i * (points.length - 1)) / (n - 1))]!);
  return out;
}

/** The points of a loss curve (a history's step records, or the live ones the editor has). */
export interface CurvePoint {
  step: number;
  charsSeen: number;
  /** Training seconds since the run began. */
  seconds: number;
  loss: number;
}

export type CurveAxis = 'step' | 'chars' | 'seconds';
export type DotAxis = 'params' | 'seconds';

/** The three loss charts and two validation charts, as the report and the Experiment panel title them. */
export const CURVE_CHARTS: Record<CurveAxis, ChartOptions> = {
  step: { title: 'Training loss by step', xLabel: 'step', yLabel: 'loss (nats/char)', mode: 'line' },
  chars: { title: 'Training loss by characters', xLabel: 'characters trained on', yLabel: 'loss (nats/char)', mode: 'line' },
  seconds: { title: 'Training loss by time', xLabel: 'training seconds', yLabel: 'loss (nats/char)', mode: 'line' },
};
export const DOT_CHARTS: Record<DotAxis, ChartOptions> = {
  params: { title: 'Validation loss by parameters', xLabel: 'parameters', yLabel: 'validation loss (nats/char)', mode: 'dots' },
  seconds: { title: 'Validation loss by training time', xLabel: 'training seconds', yLabel: 'validation loss (nats/char)', mode: 'dots' },
};

/** One colour per run, in the order given (the report: best first). */
export function runColors(ids: readonly string[]): Map<string, string> {
  return new Map(ids.map((id, i) => [id, COLORS[i % COLORS.length]!]));
}

const curveX: Record<CurveAxis, (p: CurvePoint) => number> = { step: (p) => p.step, chars: (p) => p.charsSeen, seconds: (p) => p.seconds };

/** The training-loss curve of each run against `axis`, thinned. */
export function lossCurves(ids: readonly string[], curves: Readonly<Record<string, readonly CurvePoint[]>>, axis: CurveAxis, color: ReadonlyMap<string, string>): Series[] {
  const x = curveX[axis];
  return ids.map((id) => ({ label: id, color: color.get(id) ?? COLORS[0]!, points: thin(curves[id] ?? []).map((p) => [x(p), p.loss] as [number, number]) }));
}

/** Each finished run's validation loss as one dot against its parameters or its training time. */
export function validationDots(rows: readonly ResultRow[], axis: DotAxis, color: ReadonlyMap<string, string>): Series[] {
  return rows.map((r) => ({ label: r.id, color: color.get(r.id) ?? COLORS[0]!, points: r.valLoss !== null ? [[axis === 'params' ? r.params : r.seconds, r.valLoss]] : [] }));
}

