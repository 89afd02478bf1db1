/** Pure helpers of the loss panel (no DOM): smoothing, unit and axis conversion, CSV. */

export const LN2 = Math.LN2;

/**
 * Exponential moving average with bias correction, as TensorBoard's scalar
 * dashboard smooths: s_k = w·s_{k-1} + (1-w)·v_k, shown as s_k / (1 - w^n)
 * with n the finite values so far, so the curve starts at the first value
 * instead of at 0. Gaps (null / non-finite) stay gaps and do not reset it.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const out = new Array<number | null>(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = w === 0 ? v : last / (1 - Math.pow(w, n));
  }
  return out;
}

/** Value of `ys` at `x` by linear interpolation over ascending `xs` (clamped at the ends). */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0) return x;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[n - 1]!) return ys[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const t = (x - xs[lo]!) / (xs[hi]! - xs[lo]! || 1);
  return ys[lo]! + t * (ys[hi]! - ys[lo]!);
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: (string | number | null)[]): string {
  return fields.map(csvField).join(',');
}

/** 1234567 → "1.23M" for axis ticks. */
export function compact(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e9) return `${+(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(x / 1e3).toPrecision(3)}k`;
  return `${+x.toPrecision(4)}`;
}
