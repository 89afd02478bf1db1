/** The numbers the gradient-flow panel draws, as pure functions (the tests recompute them independently). */
import type { GradFlowSnapshot } from '../../src/shared/webviewProtocol';

/** Log-scale mapping of [lo, hi] onto [y0 (bottom), y1 (top)]; values ≤ lo sit at the bottom. */
export function logY(v: number, lo: number, hi: number, y0: number, y1: number): number {
  const f = v > lo ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : 0;
  return y0 + (y1 - y0) * Math.min(f, 1);
}

/** Whole decades around the positive values (at least one decade). */
export function decadeRange(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = 0;
  for (const v of values) {
    if (v > 0 && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi > 0)) return [1e-6, 1];
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(Math.ceil(Math.log10(hi)), a + 1);
  return [10 ** a, 10 ** b];
}

/** ‖∂·/∂h_k‖ of one layer: the row of error t, or the whole window's E when t is null (or not kept). */
export function hNorms(s: GradFlowSnapshot, layer: number, t: number | null): { values: number[]; row: number | null } {
  const i = t === null ? -1 : s.rowTs.indexOf(t);
  return i >= 0 ? { values: s.rowH[layer]![i]!, row: t } : { values: s.hGradNorm[layer]!, row: null };
}

export function wNorms(s: GradFlowSnapshot, layer: number, t: number | null): number[] {
  const i = t === null ? -1 : s.rowTs.indexOf(t);
  return i >= 0 ? s.rowW[layer]![i]! : s.wContribution[layer]!;
}

/**
 * How the gradient of an error decays with distance: for d = 0..T-1 the
 * geometric mean over the traced errors e_t (t ≥ d) of ‖∂e_t/∂h_{t-d}‖ / ‖∂e_t/∂h_t‖.
 */
export function decayCurve(s: GradFlowSnapshot, layer: number): { d: number; v: number }[] {
  const out: { d: number; v: number }[] = [];
  const rows = s.rowH[layer] ?? [];
  for (let d = 0; d < s.T; d++) {
    let sum = 0;
    let n = 0;
    s.rowTs.forEach((t, i) => {
      const row = rows[i]!;
      const base = row[t]!;
      const v = t - d >= 0 ? row[t - d]! : 0;
      if (base > 0 && v > 0) {
        sum += Math.log(v / base);
        n++;
      }
    });
    if (n > 0) out.push({ d, v: Math.exp(sum / n) });
  }
  return out;
}

/** A printable glyph for a character of the window. */
export function glyph(ch: string): string {
  if (ch === ' ') return '␣';
  if (ch === '\n') return '↵';
  if (ch === '\t') return '⇥';
  if (ch === '\r') return '␍';
  return ch;
}

export function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : +v.toPrecision(3) + '';
}
