/**
 * Every model family by what it is (pure metadata and shape arithmetic), one
 * line each. The engine, the CLI and the extension host look a family's
 * settings, parameters and costs up here; registry.ts adds how each builds
 * its networks (numeric code the extension host never loads).
 */
import type { FamilyInfo } from './family';
import { gptInfo } from './gpt/info';
import { gruInfo } from './gru/info';
import { lstmInfo } from './lstm/info';
import { minGruInfo } from './mingru/info';
import { minLstmInfo } from './minlstm/info';
import { rnnInfo } from './rnn/info';

export const FAMILY_INFO = {
  rnn: rnnInfo,
  lstm: lstmInfo,
  gru: gruInfo,
  gpt: gptInfo,
  mingru: minGruInfo,
  minlstm: minLstmInfo,
} as const satisfies Record<string, FamilyInfo>;

/** A family's name: the `cell` of a ModelConfig, `--cell` of the CLI. */
export type FamilyName = keyof typeof FAMILY_INFO;

export const FAMILY_NAMES = Object.keys(FAMILY_INFO) as FamilyName[];

export function isFamilyName(name: unknown): name is FamilyName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(FAMILY_INFO, name);
}

/** Whether the family of `cell` has the setting `setting` (e.g. the vanilla RNN's activation, gpt's heads). */
export function takesSetting(cell: string, setting: string): boolean {
  return isFamilyName(cell) && FAMILY_INFO[cell].settings.some((s) => s.name === setting);
}

/** The families that have the setting `setting`. */
export function familiesTaking(setting: string): FamilyName[] {
  return FAMILY_NAMES.filter((f) => takesSetting(f, setting));
}

/** What the family of a model config's `cell` is. */
export function infoOf(name: FamilyName): FamilyInfo {
  const f: FamilyInfo | undefined = FAMILY_INFO[name];
  if (!f) throw new Error(`unknown model family ${String(name)}`);
  return f;
}
