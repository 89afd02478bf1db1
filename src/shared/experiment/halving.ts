/**
 * Successive halving: rung r of R ends at the cumulative budget
 * total · keep^(R − r), so the last rung is the whole budget and each rung
 * before it a `keep` share of the next; after every rung but the last the
 * best ⌈n · keep⌉ runs by validation loss continue where they stopped.
 */
import type { Budget, Halving } from './spec';

/** The cumulative budget at the end of each rung (one rung without halving). */
export function rungBudgets(budget: Budget, halving: Halving | null): Budget[] {
  const rungs = halving ? halving.rungs : 1;
  const keep = halving ? halving.keep : 1;
  const out: Budget[] = [];
  for (let r = 1; r <= rungs; r++) {
    const share = keep ** (rungs - r);
    if ('steps' in budget) out.push({ steps: r === rungs ? budget.steps : Math.max(1, Math.round(budget.steps * share)) });
    else if ('chars' in budget) out.push({ chars: r === rungs ? budget.chars : Math.max(1, Math.round(budget.chars * share)) });
    else out.push({ minutes: r === rungs ? budget.minutes : budget.minutes * share });
  }
  return out;
}

/** How many of `n` runs continue after a rung. */
export function survivorCount(n: number, keep: number): number {
  return Math.min(n, Math.max(1, Math.ceil(n * keep - 1e-9)));
}

/**
 * The runs that continue: the best `survivorCount` by validation loss, a
 * missing or non-finite loss last, ties in the given order. Returned in the
 * given order (the order the experiment runs them).
 */
export function selectSurvivors<T extends { id: string; valLoss: number | null }>(results: readonly T[], keep: number): T[] {
  const n = survivorCount(results.length, keep);
  const score = (x: T): number => (x.valLoss !== null && Number.isFinite(x.valLoss) ? x.valLoss : Infinity);
  const ranked = results.map((x, i) => ({ x, i })).sort((a, b) => score(a.x) - score(b.x) || a.i - b.i);
  const kept = new Set(ranked.slice(0, n).map((r) => r.i));
  return results.filter((_, i) => kept.has(i));
}

export function budgetLabel(b: Budget): string {
  if ('steps' in b) return `${b.steps} steps`;
  if ('chars' in b) return `${b.chars} characters`;
  return `${+b.minutes.toFixed(3)} minutes`;
}
