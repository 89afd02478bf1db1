/**
 * Every model family with its networks, one line each (catalog.ts says what
 * each is; the type below fails to compile when a family of the catalog has
 * no line here).
 */
import type { FamilyName } from './catalog';
import type { Family } from './family';
import { gptFamily } from './gpt';
import { gruFamily } from './gru';
import { lstmFamily } from './lstm';
import { minGruFamily } from './mingru';
import { minLstmFamily } from './minlstm';
import { rnnFamily } from './rnn';

export const FAMILIES: { readonly [K in FamilyName]: Family } = {
  rnn: rnnFamily,
  lstm: lstmFamily,
  gru: gruFamily,
  gpt: gptFamily,
  mingru: minGruFamily,
  minlstm: minLstmFamily,
};

/** The family of a model config's `cell`, with its networks. */
export function familyOf(name: FamilyName): Family {
  const f: Family | undefined = FAMILIES[name];
  if (!f) throw new Error(`unknown model family ${String(name)}`);
  return f;
}
