/**
 * `matchParams`: the width whose parameter count is closest to a target. The
 * count is any family's own function of the width (DESIGN §3: a family
 * declares its parameters), assumed non-decreasing in the width, which holds
 * for every family (more units, more weights).
 */

export interface WidthRange {
  min: number;
  max: number;
  /** Allowed widths are multiples of this (a gpt's width is a multiple of its heads). */
  step: number;
}

/**
 * The allowed width whose count is closest to `target` (the smaller width on
 * a tie). Binary search for the first width at or above the target, then the
 * closer of it and its lower neighbour.
 */
export function closestWidth(count: (width: number) => number, target: number, range: WidthRange): number {
  const first = Math.ceil(range.min / range.step);
  const last = Math.floor(range.max / range.step);
  if (first > last) throw new RangeError(`no width between ${range.min} and ${range.max} is a multiple of ${range.step}`);
  let lo = first;
  let hi = last;
  // Invariant: every k < lo counts below the target; the answer is lo or lo - 1.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(mid * range.step) >= target) hi = mid;
    else lo = mid + 1;
  }
  const above = lo;
  if (above === first) return above * range.step;
  const below = above - 1;
  const dAbove = Math.abs(count(above * range.step) - target);
  const dBelow = Math.abs(count(below * range.step) - target);
  return (dBelow <= dAbove ? below : above) * range.step;
}
