/**
 * Every setting of a training run, in one table: the extension's settings
 * (`rnnLab.<section>.<key>` in package.json) and the CLI's `train` flags
 * (`--<key in kebab-case>`) are both built from it, and a unit test fails if
 * package.json drifts from it.
 */
import { ACTIVATIONS, CELLS, DEFAULT_MODEL, DEFAULT_TRAIN, OPTIMIZERS, RANGES, SCHEDULES } from '../config';

export interface SettingRange {
  min: number;
  max: number;
  integer?: boolean;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/** What a resume may do with a setting (see resolve.ts for the rules in full). */
export type ResumeRule =
  /** Comes from the checkpoint; asking for another value is refused. */
  | 'fixed'
  /** Comes from the checkpoint unless given again; a new value applies from the next step. */
  | 'change'
  /** Belongs to this session only (budgets, cadences, resources): never stored in the checkpoint. */
  | 'session';

export interface SettingSpec {
  /** camelCase name: the extension's `rnnLab.<section>.<key>`, the CLI's `--<kebab(key)>`. */
  readonly key: string;
  readonly section: 'model' | 'training';
  readonly type: 'integer' | 'number' | 'choice';
  readonly choices?: readonly string[];
  readonly range?: SettingRange;
  readonly default: number | string;
  /** One sentence for the settings editor and `--help`. */
  readonly description: string;
  readonly resume: ResumeRule;
  /** Front ends that offer it (both unless said). */
  readonly only?: 'extension' | 'cli';
  /** Older CLI spellings kept working (same meaning). */
  readonly cliAliases?: readonly string[];
  /**
   * It costs the machine resources (model size, run length, memory, threads):
   * in Restricted Mode VS Code ignores a workspace's value for it.
   */
  readonly restricted?: true;
}

/** Ranges of the run's own settings (budgets, cadences, resources); the model and optimizer ones are the engine's RANGES. */
export const RUN_RANGES = {
  maxSteps: { min: 0, max: 1e12, integer: true },
  steps: { min: 0, max: 1e12, integer: true },
  maxMinutes: { min: 0, max: 1e7 },
  maxChars: { min: 0, max: 1e15, integer: true },
  validateEvery: { min: 0, max: 1e12, integer: true },
  saveEvery: { min: 0, max: 1e12, integer: true },
  checkpointSeconds: { min: 5, max: 86_400 },
  maxMemoryMB: { min: 16, max: 1024 * 1024, integer: true },
  threads: { min: 0, max: 16, integer: true },
  maxConcurrentRuns: { min: 1, max: 8, integer: true },
  /** The eps setting: 0 means the optimizer's own default (resolved to RANGES.eps). */
  eps: { min: 0, max: 1 },
} satisfies Record<string, SettingRange>;

/** Defaults of the run's own settings. */
export const RUN_DEFAULTS = {
  maxSteps: 2000,
  maxMinutes: 0,
  maxChars: 0,
  validateEvery: 200,
  saveEvery: 0,
  checkpointSeconds: 30,
  maxMemoryMB: 2048,
  threads: 0,
  maxConcurrentRuns: 1,
} as const;

const T = DEFAULT_TRAIN;
const M = DEFAULT_MODEL;

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'cell', section: 'model', type: 'choice', choices: CELLS, default: M.cell, resume: 'fixed',
    description:
      'Model family of new models: recurrent cells (rnn, lstm, gru) or residual blocks (gpt, mingru, minlstm; these train by default with nanoGPT\'s recipe: ' +
      'AdamW, lr 0.001, beta2 0.99, weight decay 0.1 on 2-D weights only, clip 1, 100 warm-up steps and a cosine decay to lr/10, for every optimizer setting left out).',
  },
  {
    key: 'activation', section: 'model', type: 'choice', choices: ACTIVATIONS, default: M.activation, resume: 'fixed',
    description: 'Nonlinearity f of the vanilla RNN; LSTM and GRU use tanh (relu and sigmoid are for cell rnn only).',
  },
  { key: 'hidden', section: 'model', type: 'integer', range: RANGES.hidden, default: M.hidden, resume: 'fixed', restricted: true, description: 'Hidden units per layer (the width C of a block model).' },
  { key: 'layers', section: 'model', type: 'integer', range: RANGES.layers, default: M.layers, resume: 'fixed', restricted: true, description: 'Stacked layers (blocks of a block model).' },
  {
    key: 'heads', section: 'model', type: 'integer', range: RANGES.heads, default: 4, resume: 'fixed', restricted: true,
    description: 'Attention heads of a gpt (must divide the width).',
  },
  {
    key: 'context', section: 'model', type: 'integer', range: RANGES.context, default: 0, resume: 'fixed', restricted: true,
    description: "Positions a gpt attends over, at least the sequence length (0 = the sequence length).",
  },
  { key: 'seq', section: 'training', type: 'integer', range: RANGES.seq, default: T.seq, resume: 'change', restricted: true, description: 'Truncated BPTT length T: characters per window.' },
  { key: 'batch', section: 'training', type: 'integer', range: RANGES.batch, default: T.batch, resume: 'change', restricted: true, description: 'Parallel streams B per step.' },
  {
    key: 'dropout', section: 'training', type: 'number', range: RANGES.dropout, default: T.dropout, resume: 'change',
    description: 'Dropout between stacked layers (training only; needs 2 layers or more).',
  },
  { key: 'optimizer', section: 'training', type: 'choice', choices: OPTIMIZERS, default: T.optimizer, resume: 'change', description: 'Optimizer (PyTorch update rules).' },
  { key: 'lr', section: 'training', type: 'number', range: RANGES.lr, default: T.lr, resume: 'change', description: 'Learning rate.' },
  { key: 'momentum', section: 'training', type: 'number', range: RANGES.momentum, default: T.momentum, resume: 'change', description: 'Momentum of SGD and RMSProp.' },
  { key: 'beta1', section: 'training', type: 'number', range: RANGES.beta1, default: T.beta1, resume: 'change', description: 'Adam/AdamW β1.' },
  { key: 'beta2', section: 'training', type: 'number', range: RANGES.beta2, default: T.beta2, resume: 'change', description: 'Adam/AdamW β2.' },
  {
    key: 'eps', section: 'training', type: 'number', range: RUN_RANGES.eps, default: 0, resume: 'change',
    description: "Optimizer ε; 0 = the optimizer's PyTorch default (1e-10 for Adagrad, 1e-8 for the others).",
  },
  {
    key: 'weightDecay', section: 'training', type: 'number', range: RANGES.weightDecay, default: T.weightDecay, resume: 'change',
    description: 'Weight decay (decoupled for AdamW, L2 otherwise).',
  },
  { key: 'clip', section: 'training', type: 'number', range: RANGES.clip, default: T.clip, resume: 'change', description: 'Global gradient-norm clipping; 0 turns it off.' },
  { key: 'schedule', section: 'training', type: 'choice', choices: SCHEDULES, default: T.schedule, resume: 'change', description: 'Learning-rate schedule after warm-up.' },
  {
    key: 'warmupSteps', section: 'training', type: 'integer', range: RANGES.warmupSteps, default: T.warmupSteps, resume: 'change',
    description: 'Linear warm-up steps.', cliAliases: ['--warmup'],
  },
  {
    key: 'decaySteps', section: 'training', type: 'integer', range: RANGES.decaySteps, default: T.decaySteps, resume: 'change',
    description: "Step at which linear/cosine decay ends (0 = the run's last step).",
  },
  {
    key: 'lrMinFraction', section: 'training', type: 'number', range: RANGES.lrMinFraction, default: T.lrMinFraction, resume: 'change',
    description: 'Learning rate at the end of decay, as a fraction of the initial one.',
  },
  {
    key: 'valFraction', section: 'training', type: 'number', range: RANGES.valFraction, default: T.valFraction, resume: 'change',
    description: 'Fraction of the text held out (the tail) for validation.',
  },
  {
    key: 'seed', section: 'training', type: 'integer', range: RANGES.seed, default: T.seed, resume: 'fixed',
    description: 'Random seed: the same seed and settings give the same run (a resumed run continues its saved random state).',
  },
  {
    key: 'maxSteps', section: 'training', type: 'integer', range: RUN_RANGES.maxSteps, default: RUN_DEFAULTS.maxSteps, resume: 'session', restricted: true,
    description: 'Stop when the run reaches this step (0 = no step limit).',
  },
  {
    key: 'maxMinutes', section: 'training', type: 'number', range: RUN_RANGES.maxMinutes, default: RUN_DEFAULTS.maxMinutes, resume: 'session', restricted: true,
    description: 'Stop after this many minutes of training in this session (0 = no limit).', cliAliases: ['--minutes'],
  },
  {
    key: 'maxChars', section: 'training', type: 'integer', range: RUN_RANGES.maxChars, default: RUN_DEFAULTS.maxChars, resume: 'session', restricted: true,
    description: 'Stop after this many training characters in this session (0 = no limit).',
  },
  {
    key: 'validateEvery', section: 'training', type: 'integer', range: RUN_RANGES.validateEvery, default: RUN_DEFAULTS.validateEvery, resume: 'session', restricted: true,
    description: 'Validate every this many steps on the first 20,000 held-out characters (0 = only at the end, on all of them).', cliAliases: ['--val-every'],
  },
  {
    key: 'saveEvery', section: 'training', type: 'integer', range: RUN_RANGES.saveEvery, default: RUN_DEFAULTS.saveEvery, resume: 'session', restricted: true,
    description: 'Also save a checkpoint every this many steps (0 = by time only).',
  },
  {
    key: 'checkpointSeconds', section: 'training', type: 'number', range: RUN_RANGES.checkpointSeconds, default: RUN_DEFAULTS.checkpointSeconds, resume: 'session', restricted: true,
    description: 'Save a checkpoint at least this often while training.',
  },
  {
    key: 'maxMemoryMB', section: 'training', type: 'integer', range: RUN_RANGES.maxMemoryMB, default: RUN_DEFAULTS.maxMemoryMB, resume: 'session', restricted: true,
    description: 'Refuse models whose training buffers would need more memory than this.',
  },
  {
    key: 'threads', section: 'training', type: 'integer', range: RUN_RANGES.threads, default: RUN_DEFAULTS.threads, resume: 'session', restricted: true,
    description:
      'Threads one training run uses for its large matrix products; 0 = automatic (2 with two cores or more and a batch of 8 or more, else 1). Results are identical whatever the count.',
  },
  {
    key: 'maxConcurrentRuns', section: 'training', type: 'integer', range: RUN_RANGES.maxConcurrentRuns, default: RUN_DEFAULTS.maxConcurrentRuns, resume: 'session', restricted: true,
    description: 'Runs that train at the same time; more are queued.', only: 'extension',
  },
  {
    key: 'steps', section: 'training', type: 'integer', range: RUN_RANGES.steps, default: 0, resume: 'session', only: 'cli',
    description: 'Train this many steps in this session (with --init: this many more); the same as --max-steps start+N.',
  },
];

/** `maxMemoryMB` → `max-memory-mb`, `lrMinFraction` → `lr-min-fraction`. */
export function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z]+)/g, '$1-$2').toLowerCase();
}

export function cliFlag(spec: Pick<SettingSpec, 'key'>): string {
  return `--${kebab(spec.key)}`;
}

export function extensionSetting(spec: Pick<SettingSpec, 'key' | 'section'>): string {
  return `rnnLab.${spec.section}.${spec.key}`;
}

/** How the front end names a setting in messages: `--lr` on the command line, `rnnLab.training.lr` in the editor. */
export type SettingNamer = (key: string) => string;

export const cliNames: SettingNamer = (key) => cliFlag({ key });
export const extensionNames: SettingNamer = (key) => {
  const s = SETTINGS.find((x) => x.key === key);
  return s ? extensionSetting(s) : key;
};
