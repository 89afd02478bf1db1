import { ConfigError } from '../../errors';

/** The three block families of DESIGN §2b: nanoGPT's GPT and its blocks with a minGRU or minLSTM mixer. */
export type BlockFamily = 'gpt' | 'mingru' | 'minlstm';
export const BLOCK_FAMILIES: readonly BlockFamily[] = ['gpt', 'mingru', 'minlstm'];

/**
 * The shape of a block model: everything needed to rebuild it from its
 * tensors. `cell` is a string so the engine's ModelConfig (with heads and
 * context) is a BlockConfig as it is; blockFamilyOf narrows it.
 */
export interface BlockConfig {
  /** 'gpt' | 'mingru' | 'minlstm' (the `cell` of a ModelConfig, `--cell`). */
  readonly cell: string;
  /** Width C of the residual stream (`--hidden`). */
  readonly hidden: number;
  /** Number of blocks L (`--layers`). */
  readonly layers: number;
  readonly vocabSize: number;
  /** Attention heads (gpt; must divide C). The recurrent families have none. */
  readonly heads?: number;
  /** Positions of wpe (gpt; at least the training window). The recurrent families have none. */
  readonly context?: number;
}

/** A gpt's heads and context, which its config must have (a programming error otherwise: validation comes first). */
export function gptShape(c: BlockConfig): { heads: number; context: number } {
  if (c.heads === undefined || c.context === undefined) throw new Error('a gpt config needs heads and context');
  return { heads: c.heads, context: c.context };
}

/**
 * The config with gpt's context resolved: 0 (or absent) means "the training
 * window", the default of `--context`. The recurrent families are returned as is.
 */
export function resolveContext<T extends Pick<BlockConfig, 'cell' | 'context'>>(c: T, seq: number): T {
  if (c.cell !== 'gpt' || (c.context !== undefined && c.context > 0)) return c;
  return { ...c, context: seq };
}

/** LayerNorm's ε, as nanoGPT (and torch's default). */
export const LN_EPS = 1e-5;

/** Gate blocks of each recurrent mixer's to_gates: [a_z; a_h] and [a_f; a_i; a_h]. */
export function mixerGates(family: string): number {
  return family === 'mingru' ? 2 : family === 'minlstm' ? 3 : 0;
}

export function isBlockFamily(x: unknown): x is BlockFamily {
  return typeof x === 'string' && (BLOCK_FAMILIES as readonly string[]).includes(x);
}

/** The block family of a config (a programming error for any other cell: the registry routes configs to families). */
export function blockFamilyOf(c: BlockConfig): BlockFamily {
  if (!isBlockFamily(c.cell)) throw new Error(`${JSON.stringify(c.cell)} is not a block family`);
  return c.cell;
}

/**
 * Checks a block model's settings against each other (ranges of the single
 * values are the run's settings' job): throws a ConfigError with a one-line
 * message saying what to change.
 */
export function validateBlockSettings(c: BlockConfig, seq: number): void {
  if (!isBlockFamily(c.cell)) throw new ConfigError(`block family must be one of ${BLOCK_FAMILIES.join(', ')}, got ${JSON.stringify(c.cell)}`);
  const whole = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a whole number of at least 1, got ${v}`);
  };
  whole('hidden', c.hidden);
  whole('layers', c.layers);
  whole('vocabSize', c.vocabSize);
  whole('seq', seq);
  checkBlockWindow(c, seq);
}

/**
 * Checks a block model's settings against each other and the training window
 * (gpt: heads divide the width, the window fits the context), with the CLI's
 * flag names in the one-line message.
 */
export function checkBlockWindow(c: Pick<BlockConfig, 'cell' | 'hidden' | 'heads' | 'context'>, seq: number): void {
  if (c.cell !== 'gpt') return;
  const heads = c.heads ?? NaN;
  const context = c.context ?? NaN;
  if (!Number.isInteger(heads) || heads < 1) throw new ConfigError(`--heads must be a whole number of at least 1, got ${heads}`);
  if (!Number.isInteger(context) || context < 1) throw new ConfigError(`--context must be a whole number of at least 1, got ${context}`);
  if (c.hidden % heads !== 0) {
    throw new ConfigError(`--heads ${heads} must divide the width --hidden ${c.hidden} (try ${divisorsNear(c.hidden, heads)})`);
  }
  if (seq > context) {
    throw new ConfigError(`--seq ${seq} is longer than the gpt's --context ${context}: raise --context to at least ${seq} or lower --seq`);
  }
}

/** The divisors of n closest to k, for a message that proposes a fix. */
function divisorsNear(n: number, k: number): string {
  const ds: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) ds.push(d);
  ds.sort((a, b) => Math.abs(a - k) - Math.abs(b - k) || a - b);
  return ds.slice(0, 2).sort((a, b) => a - b).map((d) => `--heads ${d}`).join(' or ');
}
