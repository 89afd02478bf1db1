import { ConfigError } from './errors';
import type { FamilySettings } from './models/family';
import { FAMILY_NAMES, infoOf, isFamilyName, type FamilyName } from './models/catalog';
import { ACTIVATIONS, type Activation } from './models/rnn/activation';
import { quoteForMessage } from './quote';

export { ACTIVATIONS, type Activation };
/** A model family's name (models/catalog.ts). */
export type CellType = FamilyName;
export type OptimizerName = 'sgd' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';
export type ScheduleName = 'constant' | 'linear' | 'cosine';

/** The shape of a network: everything needed to rebuild it from its tensors. */
export interface ModelConfig extends FamilySettings {
  /** The model family (models/catalog.ts). */
  cell: CellType;
  /**
   * Nonlinearity f of the vanilla RNN (its family setting); every config
   * carries it, as 0.1.0 wrote it, and the other families ignore it.
   */
  activation: Activation;
  hidden: number;
  layers: number;
  vocabSize: number;
}

/** How a network is trained. */
export interface TrainConfig {
  seq: number;
  batch: number;
  /** Dropout between stacked layers, training only (PyTorch's `dropout`). */
  dropout: number;
  optimizer: OptimizerName;
  lr: number;
  /** SGD and RMSProp momentum. */
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global-norm gradient clipping; 0 turns it off. */
  clip: number;
  schedule: ScheduleName;
  warmupSteps: number;
  /** Steps over which linear/cosine decay runs down to `lrMin`·lr. */
  decaySteps: number;
  lrMinFraction: number;
  valFraction: number;
  seed: number;
}

export const CELLS: readonly CellType[] = FAMILY_NAMES;
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw'];
export const SCHEDULES: readonly ScheduleName[] = ['constant', 'linear', 'cosine'];

export const DEFAULT_MODEL: Omit<ModelConfig, 'vocabSize'> = {
  cell: 'lstm',
  activation: 'tanh',
  hidden: 128,
  layers: 2,
};

/** Optimizer defaults per optimizer where they differ (PyTorch's own defaults). */
export function defaultEps(optimizer: OptimizerName): number {
  return optimizer === 'adagrad' ? 1e-10 : 1e-8;
}

export const DEFAULT_TRAIN: TrainConfig = {
  seq: 50,
  batch: 32,
  dropout: 0,
  optimizer: 'adam',
  lr: 2e-3,
  momentum: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  clip: 5,
  schedule: 'constant',
  warmupSteps: 0,
  decaySteps: 0,
  lrMinFraction: 0,
  valFraction: 0.05,
  seed: 42,
};

interface Range {
  min: number;
  max: number;
  integer?: boolean;
  /** The bound itself is not allowed. */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/** Every numeric setting's allowed range, also used by the CLI's help and the extension's settings. */
export const RANGES = {
  hidden: { min: 1, max: 4096, integer: true },
  layers: { min: 1, max: 4, integer: true },
  /** gpt's heads and context (the family's own settings; context 0 = the sequence length). */
  heads: { min: 1, max: 256, integer: true },
  context: { min: 0, max: 16384, integer: true },
  seq: { min: 1, max: 10000, integer: true },
  batch: { min: 1, max: 4096, integer: true },
  dropout: { min: 0, max: 1, exclusiveMax: true },
  lr: { min: 0, max: 10, exclusiveMin: true },
  momentum: { min: 0, max: 1, exclusiveMax: true },
  beta1: { min: 0, max: 1, exclusiveMax: true },
  beta2: { min: 0, max: 1, exclusiveMax: true },
  eps: { min: 0, max: 1, exclusiveMin: true },
  weightDecay: { min: 0, max: 1 },
  clip: { min: 0, max: 1e6 },
  warmupSteps: { min: 0, max: 1e9, integer: true },
  decaySteps: { min: 0, max: 1e9, integer: true },
  lrMinFraction: { min: 0, max: 1 },
  valFraction: { min: 0, max: 0.5 },
  seed: { min: 0, max: 0xffffffff, integer: true },
} satisfies Record<string, Range>;

export function checkRange(name: string, value: unknown, range: Range): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(`${name} must be a number, got ${quoteForMessage(value)}`);
  }
  const lowOk = range.exclusiveMin ? value > range.min : value >= range.min;
  const highOk = range.exclusiveMax ? value < range.max : value <= range.max;
  if (!lowOk || !highOk || (range.integer && !Number.isInteger(value))) {
    const lo = range.exclusiveMin ? `greater than ${range.min}` : `at least ${range.min}`;
    const hi = range.exclusiveMax ? `less than ${range.max}` : `at most ${range.max}`;
    throw new ConfigError(`${name} must be ${range.integer ? 'a whole number ' : ''}${lo} and ${hi}, got ${value}`);
  }
  return value;
}

function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ConfigError(`${name} must be one of ${choices.join(', ')}, got ${quoteForMessage(value)}`);
  }
  return value as T;
}

/** Validates an untrusted model config (from a checkpoint or a settings file). */
export function validateModelConfig(raw: unknown): ModelConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('model config must be an object');
  const r = raw as Record<string, unknown>;
  const cell = isFamilyName(r.cell) ? r.cell : checkChoice('cell', r.cell, CELLS);
  const out: ModelConfig = {
    cell,
    activation: 'tanh',
    hidden: checkRange('hidden', r.hidden, RANGES.hidden),
    layers: checkRange('layers', r.layers, RANGES.layers),
    vocabSize: checkRange('vocabSize', r.vocabSize, { min: 1, max: 1_114_112, integer: true }),
  };
  // The family's own settings, each with its default when absent.
  const settings = out as unknown as Record<string, unknown>;
  for (const s of infoOf(cell).settings) {
    const value = r[s.name] ?? s.default;
    if (value === undefined) continue;
    settings[s.name] = 'choices' in s
      ? checkChoice(s.name, value, s.choices)
      : checkRange(s.name, value, { min: s.min, max: s.max, integer: s.integer });
  }
  if (r.activation !== undefined && !infoOf(cell).settings.some((s) => s.name === 'activation')) {
    // Written for every family by 0.1.0: still checked, so a config says nothing it does not mean.
    settings.activation = checkChoice('activation', r.activation, ACTIVATIONS);
  }
  return out;
}

/** Validates an untrusted training config, filling what is missing from the defaults. */
export function validateTrainConfig(raw: unknown): TrainConfig {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError('training config must be an object');
  const r = { ...DEFAULT_TRAIN, ...(raw as Record<string, unknown>) } as Record<string, unknown>;
  const out = { ...DEFAULT_TRAIN };
  out.optimizer = checkChoice('optimizer', r.optimizer, OPTIMIZERS);
  out.schedule = checkChoice('schedule', r.schedule, SCHEDULES);
  for (const key of Object.keys(RANGES) as (keyof typeof RANGES)[]) {
    if (key === 'hidden' || key === 'layers' || key === 'heads' || key === 'context') continue;
    (out as unknown as Record<string, number>)[key] = checkRange(key, r[key], RANGES[key]);
  }
  return out;
}
