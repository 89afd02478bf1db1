import type { Floats } from '../../../src/engine/floats';

/** Relative error as DESIGN.md defines it: |a - n| / max(|a|, |n|, 1e-8). */
export function relErr(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), 1e-8);
}

/**
 * ∂loss/∂data[i] by central differences; data[i] is restored afterwards.
 * 1e-5 balances truncation error (eps²) against float64 round-off (1e-16/eps).
 */
export function centralDifference(data: Floats, i: number, loss: () => number, eps = 1e-5): number {
  const keep = data[i]!;
  data[i] = keep + eps;
  const up = loss();
  data[i] = keep - eps;
  const down = loss();
  data[i] = keep;
  return (up - down) / (2 * eps);
}
