/**
 * The settings an experiment may set per run: the engine's settings table
 * (engine/run/settings.ts, the one `rnn-lab train` and the extension use)
 * less what belongs to a session or to the whole experiment, plus the
 * settings the model families declare in their catalog. Same names, ranges
 * and defaults as the CLI's flags (in camelCase), so the schema, the checks
 * and the trainer cannot disagree.
 */
import type { ModelConfig, TrainConfig } from '../../engine/config';
import { FAMILY_NAMES, infoOf, isFamilyName, takesSetting } from '../../engine/models/catalog';
import type { FamilySetting } from '../../engine/models/family';
import { resolveRun, type RunInput } from '../../engine/run/resolve';
import { SETTINGS as RUN_SETTINGS, type SettingSpec as RunSettingSpec } from '../../engine/run/settings';
import type { Budget } from './spec';

/**
 * Families an experiment file may name before this build can train them (the
 * block models of DESIGN §2b): the schema completes them, the checks refuse
 * them with "not available yet". One drops out of the list as soon as the
 * engine's catalog has it.
 */
const PLANNED_FAMILIES = ['gpt', 'mingru', 'minlstm'] as const;
export type ComingFamily = (typeof PLANNED_FAMILIES)[number];
export const COMING_FAMILIES: readonly string[] = PLANNED_FAMILIES.filter((f) => !isFamilyName(f));
export type FamilyName = (typeof FAMILY_NAMES)[number] | ComingFamily;
export const FAMILIES: readonly string[] = [...FAMILY_NAMES, ...COMING_FAMILIES];

/**
 * The settings of families not in the catalog yet, so a file naming them
 * reads "not available yet" rather than "unknown setting". A family's own
 * declaration (FamilyInfo.settings) replaces these once it is registered.
 */
const COMING_SETTINGS: readonly (FamilySetting & { families: readonly string[] })[] = [
  { name: 'heads' as FamilySetting['name'], help: 'Attention heads (cell gpt only); hidden must be a multiple of it.', min: 1, max: 256, integer: true, default: 4, families: ['gpt'] },
  { name: 'context' as FamilySetting['name'], help: 'Positions of the position embedding (cell gpt only), at least seq; default: seq.', min: 1, max: 16384, integer: true, default: undefined, families: ['gpt'] },
];

export interface NumberRange {
  min: number;
  max: number;
  integer?: boolean;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

export type SettingSpec =
  | { kind: 'choice'; choices: readonly string[]; default: string; description: string }
  | { kind: 'number'; range: NumberRange; default: number | null; description: string };

/** A setting name as written in the file (the table's key). */
export type SettingName = string;

/** What an experiment adds to the table's description of a setting. */
const EXPERIMENT_NOTES: Record<string, string> = {
  hidden: 'With matchParams the experiment chooses it.',
  decaySteps: "In an experiment the run's last step is that of its whole budget (with halving, of the last rung).",
  seed: 'The experiment\'s "seeds" list overrides it.',
};

function fromTable(spec: RunSettingSpec): SettingSpec {
  const note = EXPERIMENT_NOTES[spec.key];
  const description = note ? `${spec.description} ${note}` : spec.description;
  if (spec.key === 'cell') {
    const coming = COMING_FAMILIES.length > 0 ? `; ${COMING_FAMILIES.join(', ')} are not available yet` : '';
    return { kind: 'choice', choices: FAMILIES, default: spec.default as string, description: `Model family: ${FAMILY_NAMES.join(', ')}${coming}.` };
  }
  if (spec.type === 'choice') return { kind: 'choice', choices: spec.choices!, default: spec.default as string, description };
  return { kind: 'number', range: spec.range!, default: spec.default as number, description };
}

function fromFamily(s: FamilySetting, families: readonly string[]): SettingSpec {
  const description = /\(cell /.test(s.help) ? s.help : `${s.help[0]!.toUpperCase()}${s.help.slice(1).replace(/\.?$/, '')} (cell ${families.join(', ')} only).`;
  if ('choices' in s) return { kind: 'choice', choices: s.choices, default: s.default, description };
  return { kind: 'number', range: { min: s.min, max: s.max, ...(s.integer ? { integer: true } : {}) }, default: s.default ?? null, description };
}

/** The table's per-run settings: not a session's (budgets, cadences, resources), not the experiment's own (valFraction). */
const perRun = RUN_SETTINGS.filter((s) => s.resume !== 'session' && s.only !== 'extension' && s.key !== 'valFraction');

/** Family settings the table does not have, with the families that take each (the catalog's, then the coming ones'). */
function familySettings(): Map<string, { setting: FamilySetting; families: string[] }> {
  const out = new Map<string, { setting: FamilySetting; families: string[] }>();
  for (const f of FAMILY_NAMES) {
    for (const s of infoOf(f).settings) {
      if (perRun.some((t) => t.key === s.name)) continue;
      const entry = out.get(s.name) ?? { setting: s, families: [] };
      entry.families.push(f);
      out.set(s.name, entry);
    }
  }
  for (const c of COMING_SETTINGS) {
    const families = c.families.filter((f) => COMING_FAMILIES.includes(f));
    if (out.has(c.name) || families.length === 0) continue;
    out.set(c.name, { setting: c, families });
  }
  return out;
}

const FAMILY_ONLY = familySettings();

/** Every per-run setting, in the order the CLI's help lists them (family settings after the model's width and depth). */
export const SETTINGS: Readonly<Record<SettingName, SettingSpec>> = (() => {
  const out: Record<string, SettingSpec> = {};
  for (const spec of perRun) {
    out[spec.key] = fromTable(spec);
    if (spec.key === 'layers') for (const [name, f] of FAMILY_ONLY) out[name] = fromFamily(f.setting, f.families);
  }
  return out;
})();

export const SETTING_NAMES: readonly SettingName[] = Object.keys(SETTINGS);

/** Older spellings of a setting (the table's CLI aliases, e.g. `warmup`) → its name, for "did you mean". */
export const SETTING_ALIASES: Readonly<Record<string, SettingName>> = Object.fromEntries(
  perRun.flatMap((s) => (s.cliAliases ?? []).map((a) => [a.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()), s.key])),
);

/** Settings as written in the file: any subset. */
export type PartialSettings = Partial<Record<SettingName, string | number>>;

/**
 * Every setting of one run, resolved: the model and training config the run
 * module resolves for it (the experiment's validation fraction aside), plus
 * the settings of its family.
 */
export type RunSettings = Omit<ModelConfig, 'vocabSize'> & Omit<TrainConfig, 'valFraction'> & { heads?: number; context?: number };

/** Every setting some family declares (the catalog's, then the coming families'), with the families that take it. */
const BY_FAMILY: ReadonlyMap<string, readonly string[]> = (() => {
  const out = new Map<string, string[]>();
  for (const f of FAMILY_NAMES) for (const s of infoOf(f).settings) out.set(s.name, [...(out.get(s.name) ?? []), f]);
  for (const [name, f] of FAMILY_ONLY) if (!out.has(name)) out.set(name, [...f.families]);
  return out;
})();

/** Whether the family of `cell` has setting `name` (the catalog's declaration, or a coming family's). */
export function familyTakes(cell: string, name: string): boolean {
  return isFamilyName(cell) ? takesSetting(cell, name) : (BY_FAMILY.get(name)?.includes(cell) ?? false);
}

/** The settings that belong to some families only (activation, heads, context, …), and the families that take each. */
export function familyOnlySettings(): { name: SettingName; families: readonly string[] }[] {
  return [...BY_FAMILY].filter(([name]) => name in SETTINGS).map(([name, families]) => ({ name, families }));
}

/** Whether an optimizer has momentum (sgd and rmsprop; the others ignore it). */
export function hasMomentum(optimizer: string): boolean {
  return optimizer === 'sgd' || optimizer === 'rmsprop';
}

/**
 * A run's settings as the run module resolves them for a fresh run (the
 * resolver of `rnn-lab train`: its defaults, ε per optimizer, the decay's end,
 * its checks), from what the file gives for it. A setting that does not apply
 * to this run (activation of an LSTM, momentum of Adam, dropout of one layer,
 * heads of a recurrent cell) is left out, so the run records the value it
 * trains with; expand.ts decides where giving one is an error. The budget is
 * the run's whole one: a linear or cosine decay without decaySteps ends at
 * its last step. Throws the resolver's ConfigError (settings named as in the file).
 */
export function resolveSettings(given: PartialSettings, budget: Budget): RunSettings {
  const value = (k: SettingName): string | number | null => given[k] ?? SETTINGS[k]!.default;
  const cell = String(value('cell'));
  const optimizer = String(value('optimizer'));
  const layers = Number(value('layers'));
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (BY_FAMILY.has(k) && !familyTakes(cell, k)) continue;
    if (k === 'momentum' && !hasMomentum(optimizer)) continue;
    if (k === 'dropout' && layers < 2) continue;
    input[k] = v;
  }
  if ('steps' in budget) input.maxSteps = budget.steps;
  else if ('chars' in budget) input.maxSteps = Math.ceil(budget.chars / (Number(value('batch')) * Number(value('seq'))));
  else input.maxMinutes = budget.minutes;
  const r = resolveRun(input as RunInput, null, (key) => key);
  const { valFraction: _experimentWide, ...train } = r.train;
  const s: RunSettings = { ...r.model, ...train };
  for (const [name] of BY_FAMILY) {
    if (name in s || !familyTakes(cell, name)) continue;
    // A setting without a default (gpt's context) means the run's seq.
    (s as Record<string, unknown>)[name] = value(name) ?? (name === 'context' ? s.seq : undefined);
  }
  return s;
}

/** The experiment-wide validation fraction: the table's range, but a held-out tail is required. */
const VAL = RUN_SETTINGS.find((s) => s.key === 'valFraction')!;
export const VAL_FRACTION_RANGE: NumberRange = { ...VAL.range!, exclusiveMin: true };
export const DEFAULT_VAL_FRACTION = VAL.default as number;
