/**
 * Reading an experiment file: JSON → schema check (ajv, against the schema
 * the extension ships) → the checks a schema cannot express. Every problem
 * names the JSON path of the bad key (`grid.lr[1]: must be > 0`). Pure: the
 * caller reads the file and checks that the text files exist.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

import { ConfigError } from '../../engine/errors';
import { buildExperimentSchema } from './schema';
import { FAMILIES, SETTING_NAMES, type PartialSettings, type SettingName } from './settings';

export type Budget = { steps: number } | { minutes: number } | { chars: number };

export interface Halving {
  rungs: number;
  keep: number;
}

export interface ExperimentSpec {
  name: string;
  /** Text files as written (relative to the experiment file). */
  text: string[];
  valFraction: number;
  budget: Budget;
  base: PartialSettings;
  /** Grid settings in file order, each with its values in file order. */
  grid: [SettingName, (string | number)[]][];
  runs: PartialSettings[];
  /** null: each run once, with its own seed setting. */
  seeds: number[] | null;
  matchParams: number | null;
  halving: Halving | null;
  valEvery: number;
}

export interface Problem {
  /** JSON path of the bad key, e.g. `grid.lr[1]` (`(top level)` for the root). */
  path: string;
  message: string;
}

/** A refused experiment file: every problem found, the first in the message. */
export class ExperimentError extends ConfigError {
  constructor(readonly problems: Problem[], where = '') {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(`${where}${first.path}: ${first.message}${more}`);
    this.name = 'ExperimentError';
  }
}

let compiled: ValidateFunction | null = null;
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, allowUnionTypes: true, strict: true }).compile(buildExperimentSchema());
  return compiled;
}

/** `/grid/lr/1` → `grid.lr[1]`. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out === '' ? '(top level)' : out;
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

function suggestion(name: string, known: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(name, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

const TOP_KEYS = ['$schema', 'name', 'text', 'valFraction', 'budget', 'base', 'grid', 'runs', 'seeds', 'matchParams', 'halving', 'valEvery'];

/** One ajv error in our words, at its JSON path. */
function describeAjvError(e: ErrorObject): Problem {
  const segs = pointerSegments(e.instancePath);
  const where = segs[0];
  const isSettings = where === 'base' || where === 'grid' || (where === 'runs' && segs.length === 2);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const path = jsonPath([...segs, key]);
      if (where === 'grid' && segs.length === 1 && key === 'seed') return { path, message: 'seeds are not a grid setting: list them in the top-level "seeds"' };
      if (isSettings) return { path, message: `unknown setting "${key}"${suggestion(key, SETTING_NAMES)}; settings are ${SETTING_NAMES.join(', ')}` };
      if (segs.length === 0 && (SETTING_NAMES as readonly string[]).includes(key)) return { path, message: `"${key}" is a run setting: put it in base, grid or runs` };
      if (segs.length === 0) return { path, message: `unknown key "${key}"${suggestion(key, TOP_KEYS)}` };
      if (where === 'budget') return { path, message: `unknown budget "${key}": give one of steps, minutes or chars` };
      return { path, message: `unknown key "${key}"` };
    }
    case 'required':
      return { path: jsonPath([...segs, (e.params as { missingProperty: string }).missingProperty]), message: 'is required' };
    case 'enum':
      return { path: jsonPath(segs), message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minProperties':
    case 'maxProperties':
      if (where === 'budget') return { path: jsonPath(segs), message: 'give exactly one of steps, minutes or chars' };
      break;
    case 'type':
      if (where === 'text' && segs.length === 1) return { path: 'text', message: 'must be a file name or a list of file names' };
      break;
  }
  return { path: jsonPath(segs), message: e.message ?? 'is not valid' };
}

/** Schema problems of a parsed JSON value, in document order, one per path and keyword. */
export function schemaProblems(value: unknown): Problem[] {
  const validate = validator();
  if (validate(value)) return [];
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const e of validate.errors ?? []) {
    const p = describeAjvError(e);
    const key = `${p.path}\u0000${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

export interface ParseOptions {
  /** Families this build can train; the others of the schema are refused as "not available yet". */
  families: readonly string[];
  /** Prefix of the error message, e.g. the file name and a colon. */
  where?: string;
}

/** Parses and checks an experiment file's text; throws ExperimentError listing every problem. */
export function parseExperiment(source: string, opts: ParseOptions): ExperimentSpec {
  const where = opts.where ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (e) {
    throw new ExperimentError([{ path: '(top level)', message: `not valid JSON: ${(e as Error).message}` }], where);
  }
  const problems = schemaProblems(raw);
  if (problems.length > 0) throw new ExperimentError(problems, where);
  const r = raw as Record<string, unknown>;
  const spec: ExperimentSpec = {
    name: typeof r.name === 'string' ? r.name : '',
    text: typeof r.text === 'string' ? [r.text] : (r.text as string[]),
    valFraction: (r.valFraction as number | undefined) ?? 0.05,
    budget: r.budget as Budget,
    base: (r.base as PartialSettings | undefined) ?? {},
    grid: Object.entries((r.grid as Record<string, (string | number)[]> | undefined) ?? {}) as [SettingName, (string | number)[]][],
    runs: (r.runs as PartialSettings[] | undefined) ?? [],
    seeds: (r.seeds as number[] | undefined) ?? null,
    matchParams: (r.matchParams as number | undefined) ?? null,
    halving: r.halving ? { rungs: 3, keep: 0.5, ...(r.halving as Partial<Halving>) } : null,
    valEvery: (r.valEvery as number | undefined) ?? 0,
  };
  const semantic = semanticProblems(spec, opts.families);
  if (semantic.length > 0) throw new ExperimentError(semantic, where);
  return spec;
}

/** Every place a setting is given: its path and value. */
export function settingSites(spec: ExperimentSpec): { path: string; name: SettingName; value: string | number }[] {
  const out: { path: string; name: SettingName; value: string | number }[] = [];
  for (const [name, value] of Object.entries(spec.base)) out.push({ path: `base.${name}`, name: name as SettingName, value: value! });
  for (const [name, values] of spec.grid) values.forEach((value, i) => out.push({ path: `grid.${name}[${i}]`, name, value }));
  spec.runs.forEach((run, i) => {
    for (const [name, value] of Object.entries(run)) out.push({ path: `runs[${i}].${name}`, name: name as SettingName, value: value! });
  });
  return out;
}

/** What the schema cannot say: families not built yet, settings that exclude each other. */
function semanticProblems(spec: ExperimentSpec, families: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const site of settingSites(spec)) {
    if (site.name === 'cell' && !families.includes(site.value as string)) {
      // A family of the schema that this trainer cannot train (e.g. a runner restricted to some families).
      const coming = (FAMILIES as readonly string[]).includes(site.value as string);
      problems.push({
        path: site.path,
        message: coming
          ? `cell "${site.value}" is not available yet in this version of rnn-lab (it can train ${families.join(', ')})`
          : `must be one of ${families.join(', ')}`,
      });
    }
    if (site.name === 'hidden' && spec.matchParams !== null) {
      problems.push({ path: site.path, message: 'matchParams chooses each run\'s hidden width: leave hidden out, or drop matchParams' });
    }
    if (site.name === 'seed' && spec.seeds !== null && !site.path.startsWith('base.')) {
      problems.push({ path: site.path, message: 'the top-level "seeds" list sets every run\'s seed: leave seed out of the runs, or drop "seeds"' });
    }
  }
  if (spec.halving && 'steps' in spec.budget) {
    const first = Math.round(spec.budget.steps * spec.halving.keep ** (spec.halving.rungs - 1));
    if (first < 1) problems.push({ path: 'halving.rungs', message: `the first rung would get less than one of the ${spec.budget.steps} steps: use fewer rungs or a larger budget` });
  }
  return problems;
}
