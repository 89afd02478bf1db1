/**
 * Every model family, one line each: the only place that knows them all.
 * The rest of the engine, the CLI and the extension look a family up here
 * by the `cell` of a ModelConfig and use its metadata and its networks.
 */
import type { Family } from './family';
import { gruFamily } from './gru';
import { lstmFamily } from './lstm';
import { rnnFamily } from './rnn';

export const FAMILIES = {
  rnn: rnnFamily,
  lstm: lstmFamily,
  gru: gruFamily,
} as const satisfies Record<string, Family>;

/** A family's name: the `cell` of a ModelConfig, `--cell` of the CLI. */
export type FamilyName = keyof typeof FAMILIES;

export const FAMILY_NAMES = Object.keys(FAMILIES) as FamilyName[];

export function isFamilyName(name: unknown): name is FamilyName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(FAMILIES, name);
}

/** The family of a model config's `cell`. */
export function familyOf(name: FamilyName): Family {
  const f: Family | undefined = FAMILIES[name];
  if (!f) throw new Error(`unknown model family ${String(name)}`);
  return f;
}
