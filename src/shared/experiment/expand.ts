/**
 * From an experiment to its runs: every combination of `grid` over `base`,
 * then each entry of `runs` over `base`, each once per seed; readable unique
 * ids; widths chosen by `matchParams`; the checks that need the resolved
 * settings of each run (an activation on an LSTM, a decay with no length).
 */
import { RANGES } from '../../engine/config';
import { familiesTaking, infoOf, takesSetting as takes } from '../../engine/models/catalog';
import { closestWidth } from './matchParams';
import { SETTINGS, resolveSettings, type PartialSettings, type RunSettings, type SettingName } from './settings';
import { ExperimentError, type ExperimentSpec, type Problem } from './spec';

export interface PlannedRun {
  id: string;
  /** Where the run comes from: `grid`, `runs[i]`, or `base` (an experiment of one run). */
  origin: string;
  /** The settings the grid combination or the runs entry gives (what sets this run apart), in file order. */
  varied: PartialSettings;
  settings: RunSettings;
  /** Parameter count of the resolved model. */
  params: number;
}

/**
 * A family's parameter count for resolved settings and a vocabulary size,
 * and the widths it allows. Supplied by the caller from the engine's model
 * families, so a new family plugs in here without this module changing.
 */
export interface FamilySizes {
  count(settings: RunSettings, vocabSize: number): number;
  /** Widths are multiples of this (default 1). */
  widthStep?(settings: RunSettings): number;
}

export interface ExpandOptions {
  vocabSize: number;
  sizes: FamilySizes;
}

/** Every combination of the grid, in odometer order (the last setting varies fastest). */
export function gridCombinations(grid: ExperimentSpec['grid']): PartialSettings[] {
  let combos: PartialSettings[] = [{}];
  for (const [name, values] of grid) {
    const next: PartialSettings[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [name]: v });
    combos = next;
  }
  return combos;
}

/** The setting lists of the experiment before seeds: grid combinations, then the runs entries. */
function variants(spec: ExperimentSpec): { origin: string; varied: PartialSettings }[] {
  const out: { origin: string; varied: PartialSettings }[] = [];
  if (spec.grid.length > 0 || spec.runs.length === 0) {
    for (const varied of gridCombinations(spec.grid)) out.push({ origin: spec.grid.length > 0 ? 'grid' : 'base', varied });
  }
  spec.runs.forEach((varied, i) => out.push({ origin: `runs[${i}]`, varied }));
  return out;
}

/** Runs the experiment will have, without resolving them (for the "more than 100 runs" question). */
export function countRuns(spec: ExperimentSpec): number {
  return variants(spec).length * (spec.seeds?.length ?? 1);
}

function formatValue(v: string | number): string {
  return String(v);
}

/** `lstm-lr0.003-s1`: the family, the settings that set the run apart, the seed; safe as a file name. */
export function runId(cell: string, varied: PartialSettings, seed: number): string {
  const parts = [cell];
  for (const [k, v] of Object.entries(varied)) if (k !== 'cell' && k !== 'seed' && v !== undefined) parts.push(`${k}${formatValue(v)}`);
  parts.push(`s${seed}`);
  return parts.join('-').replace(/[^A-Za-z0-9._+-]/g, '_');
}

function budgetSteps(spec: ExperimentSpec, batch: number, seq: number): number {
  if ('steps' in spec.budget) return spec.budget.steps;
  if ('chars' in spec.budget) return Math.ceil(spec.budget.chars / (batch * seq));
  return 0;
}

/** Where a setting of this run was given: its own entry, else base. */
function sourceOf(origin: string, varied: PartialSettings, name: SettingName): string | null {
  if (varied[name] !== undefined) return origin === 'grid' ? `grid.${name}` : `${origin}.${name}`;
  return null;
}

export function expandExperiment(spec: ExperimentSpec, opts: ExpandOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const problems: Problem[] = [];
  const used = new Map<string, number>();
  const note = (p: Problem): void => {
    if (!problems.some((q) => q.path === p.path)) problems.push(p);
  };
  const all = variants(spec);
  const resolvedCells = all.map(({ varied }) => (varied.cell ?? spec.base.cell ?? 'lstm') as string);
  const resolvedOptimizers = all.map(({ varied }) => (varied.optimizer ?? spec.base.optimizer ?? 'adam') as string);

  all.forEach(({ origin, varied }) => {
    const given: PartialSettings = { ...spec.base, ...varied };
    const seeds = spec.seeds ?? [(given.seed as number | undefined) ?? SETTINGS.seed.default];
    const probe = resolveSettings(given, 0);
    const steps = budgetSteps(spec, probe.batch, probe.seq);
    for (const seed of seeds) {
      const settings = resolveSettings({ ...given, seed }, steps);
      // Settings that do not apply: refused where the run gives them, and in base only when they apply to no run at all.
      const rule = (name: SettingName, applies: boolean, anyApplies: boolean, message: string): void => {
        if (applies || given[name] === undefined) return;
        const src = sourceOf(origin, varied, name);
        if (src) note({ path: src, message });
        else if (!anyApplies) note({ path: `base.${name}`, message });
      };
      for (const name of FAMILY_SETTINGS) {
        const takers = familiesTaking(name);
        rule(name, takes(settings.cell, name), resolvedCells.some((c) => takes(c, name)), `applies to cell ${takers.join(', ')} only, not to ${settings.cell}`);
      }
      const momentumOk = settings.momentum === 0 || settings.optimizer === 'sgd' || settings.optimizer === 'rmsprop';
      rule('momentum', momentumOk, resolvedOptimizers.some((o) => o === 'sgd' || o === 'rmsprop'), `applies to optimizer sgd and rmsprop only, not to ${settings.optimizer}`);
      if (settings.schedule !== 'constant' && settings.decaySteps === 0) {
        note({ path: sourceOf(origin, varied, 'schedule') ?? 'base.schedule', message: `schedule ${settings.schedule} needs to know how long to decay: with a minutes budget, set decaySteps` });
      }
      const windowed = windowProblem(settings);
      if (windowed && settings.context !== undefined && settings.context < settings.seq) {
        note({ path: sourceOf(origin, varied, 'context') ?? 'base.context', message: `must be at least seq (${settings.seq})` });
      }

      if (spec.matchParams !== null) {
        const step = opts.sizes.widthStep?.(settings) ?? 1;
        try {
          settings.hidden = closestWidth((w) => opts.sizes.count({ ...settings, hidden: w }, opts.vocabSize), spec.matchParams, { min: RANGES.hidden.min, max: RANGES.hidden.max, step });
        } catch (e) {
          note({ path: 'matchParams', message: (e as Error).message });
        }
      } else if (windowProblem(settings) && settings.heads !== undefined && settings.hidden % settings.heads !== 0) {
        note({ path: sourceOf(origin, varied, 'hidden') ?? 'base.hidden', message: `must be a multiple of heads (${settings.heads})` });
      }

      let id = runId(settings.cell, varied, seed);
      const n = (used.get(id) ?? 0) + 1;
      used.set(id, n);
      if (n > 1) id = `${id}-${n}`;
      runs.push({ id, origin, varied, settings, params: problems.length === 0 ? opts.sizes.count(settings, opts.vocabSize) : 0 });
    }
  });
  if (problems.length > 0) throw new ExperimentError(problems);
  return runs;
}

/** Settings that belong to some model families only (the families' own settings). */
const FAMILY_SETTINGS: readonly SettingName[] = (['activation', 'heads', 'context'] as const).filter((n) => n in SETTINGS);

/** The family's own check of its settings against each other and the window (FamilyInfo.forWindow), as a message or null. */
function windowProblem(s: RunSettings): string | null {
  try {
    infoOf(s.cell).forWindow?.({ cell: s.cell, activation: s.activation, hidden: s.hidden, layers: s.layers, heads: s.heads, context: s.context }, s.seq);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
