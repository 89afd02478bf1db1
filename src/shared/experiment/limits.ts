/** Ranges of the experiment's own keys (the per-run settings' come from the engine, see settings.ts). */
import type { NumberRange } from './settings';

export const BUDGET_RANGES = {
  steps: { min: 1, max: 1e12, integer: true },
  minutes: { min: 0, max: 1e7, exclusiveMin: true },
  chars: { min: 1, max: 1e15, integer: true },
  valEvery: { min: 0, max: 1e12, integer: true },
} satisfies Record<string, NumberRange>;

export const HALVING_RANGES = {
  rungs: { min: 1, max: 20, integer: true },
  keep: { min: 0, max: 1, exclusiveMin: true, exclusiveMax: true },
} satisfies Record<string, NumberRange>;

export const MATCH_PARAMS_RANGE: NumberRange = { min: 1, max: 1e10, integer: true };

/** More runs than this need an explicit yes (`--yes`; the editor asks). */
export const MAX_RUNS_WITHOUT_CONFIRMATION = 100;
