/**
 * The settings an experiment may set per run, named as the CLI's flags in
 * camelCase, with their types, defaults and ranges taken from the engine's
 * own tables (RANGES, CELLS, ...) so the schema, the checks and the trainer
 * cannot disagree.
 */
import {
  ACTIVATIONS,
  CELLS,
  DEFAULT_MODEL,
  DEFAULT_TRAIN,
  OPTIMIZERS,
  RANGES,
  SCHEDULES,
  defaultEps,
  type Activation,
  type OptimizerName,
  type ScheduleName,
} from '../../engine/config';
import { infoOf } from '../../engine/models/catalog';

/** Every model family an experiment file may name (the engine's catalog). */
export type FamilyName = (typeof CELLS)[number];
export const FAMILIES: readonly FamilyName[] = CELLS;

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

/** Every per-run setting, in the order the CLI's help lists them. */
export const SETTINGS = {
  cell: { kind: 'choice', choices: FAMILIES, default: DEFAULT_MODEL.cell, description: 'Model family: the recurrent cells rnn, lstm, gru (PyTorch nn.RNN/LSTM/GRU) or the block models gpt, mingru, minlstm (nanoGPT\'s blocks).' },
  activation: { kind: 'choice', choices: ACTIVATIONS, default: DEFAULT_MODEL.activation, description: 'Nonlinearity f of the vanilla RNN (cell rnn only).' },
  hidden: { kind: 'number', range: RANGES.hidden, default: DEFAULT_MODEL.hidden, description: 'Hidden units per layer (the width). With matchParams the experiment chooses it.' },
  layers: { kind: 'number', range: RANGES.layers, default: DEFAULT_MODEL.layers, description: 'Stacked layers (blocks for the block models).' },
  heads: { kind: 'number', range: RANGES.heads, default: 4, description: 'Attention heads (cell gpt only); hidden must be a multiple of it.' },
  context: { kind: 'number', range: { ...RANGES.context, min: 1 }, default: null, description: 'Positions of the position embedding (cell gpt only), at least seq; default: seq.' },
  seq: { kind: 'number', range: RANGES.seq, default: DEFAULT_TRAIN.seq, description: 'Characters per window (truncated BPTT length).' },
  batch: { kind: 'number', range: RANGES.batch, default: DEFAULT_TRAIN.batch, description: 'Parallel streams per step.' },
  dropout: { kind: 'number', range: RANGES.dropout, default: DEFAULT_TRAIN.dropout, description: 'Dropout between stacked layers (training only).' },
  optimizer: { kind: 'choice', choices: OPTIMIZERS, default: DEFAULT_TRAIN.optimizer, description: 'Optimizer (PyTorch update rules).' },
  lr: { kind: 'number', range: RANGES.lr, default: DEFAULT_TRAIN.lr, description: 'Learning rate.' },
  momentum: { kind: 'number', range: RANGES.momentum, default: DEFAULT_TRAIN.momentum, description: 'Momentum of sgd and rmsprop.' },
  beta1: { kind: 'number', range: RANGES.beta1, default: DEFAULT_TRAIN.beta1, description: 'Adam/AdamW β1.' },
  beta2: { kind: 'number', range: RANGES.beta2, default: DEFAULT_TRAIN.beta2, description: 'Adam/AdamW β2.' },
  eps: { kind: 'number', range: RANGES.eps, default: null, description: "Optimizer ε; default: PyTorch's for the optimizer (1e-10 for adagrad, else 1e-8)." },
  weightDecay: { kind: 'number', range: RANGES.weightDecay, default: DEFAULT_TRAIN.weightDecay, description: 'Weight decay (decoupled for adamw, L2 otherwise).' },
  clip: { kind: 'number', range: RANGES.clip, default: DEFAULT_TRAIN.clip, description: 'Global gradient-norm clipping; 0 turns it off.' },
  schedule: { kind: 'choice', choices: SCHEDULES, default: DEFAULT_TRAIN.schedule, description: 'Learning-rate schedule after warm-up.' },
  warmup: { kind: 'number', range: RANGES.warmupSteps, default: DEFAULT_TRAIN.warmupSteps, description: 'Linear learning-rate warm-up steps.' },
  decaySteps: { kind: 'number', range: RANGES.decaySteps, default: null, description: "Steps of the linear/cosine decay; default: the run's whole budget in steps." },
  lrMinFraction: { kind: 'number', range: RANGES.lrMinFraction, default: DEFAULT_TRAIN.lrMinFraction, description: 'Learning rate at the end of the decay, as a fraction of lr.' },
  seed: { kind: 'number', range: RANGES.seed, default: DEFAULT_TRAIN.seed, description: 'Random seed (initialization, dropout); the experiment\'s "seeds" list overrides it.' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** Settings as written in the file: any subset. */
export type PartialSettings = Partial<Record<SettingName, string | number>>;

/** Every setting of one run, resolved (defaults filled in, width chosen). */
export interface RunSettings {
  cell: FamilyName;
  activation: Activation;
  hidden: number;
  layers: number;
  /** Block models only. */
  heads?: number;
  context?: number;
  seq: number;
  batch: number;
  dropout: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number;
  schedule: ScheduleName;
  warmup: number;
  decaySteps: number;
  lrMinFraction: number;
  seed: number;
}

/** The experiment-wide validation fraction: the engine's range, but a held-out tail is required. */
export const VAL_FRACTION_RANGE: NumberRange = { ...RANGES.valFraction, exclusiveMin: true };
export const DEFAULT_VAL_FRACTION = DEFAULT_TRAIN.valFraction;

/** Fills the settings a run does not set; `decaySteps` falls back to `budgetSteps` (0 when unknown). */
export function resolveSettings(given: PartialSettings, budgetSteps: number): RunSettings {
  const pick = <K extends SettingName>(k: K): string | number | null => (given[k] !== undefined ? given[k]! : SETTINGS[k].default);
  const optimizer = pick('optimizer') as OptimizerName;
  const cell = pick('cell') as FamilyName;
  const s: RunSettings = {
    cell,
    activation: pick('activation') as Activation,
    hidden: pick('hidden') as number,
    layers: pick('layers') as number,
    seq: pick('seq') as number,
    batch: pick('batch') as number,
    dropout: pick('dropout') as number,
    optimizer,
    lr: pick('lr') as number,
    momentum: pick('momentum') as number,
    beta1: pick('beta1') as number,
    beta2: pick('beta2') as number,
    eps: (given.eps as number | undefined) ?? defaultEps(optimizer),
    weightDecay: pick('weightDecay') as number,
    clip: pick('clip') as number,
    schedule: pick('schedule') as ScheduleName,
    warmup: pick('warmup') as number,
    decaySteps: (given.decaySteps as number | undefined) ?? budgetSteps,
    lrMinFraction: pick('lrMinFraction') as number,
    seed: pick('seed') as number,
  };
  const own = new Set<string>(infoOf(cell).settings.map((x) => x.name));
  if (own.has('heads')) s.heads = pick('heads') as number;
  if (own.has('context')) s.context = (given.context as number | undefined) ?? s.seq;
  return s;
}
