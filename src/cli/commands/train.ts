/** `rnn-lab train <file...>`: train a model on text files, or continue a checkpoint with --init. */
import * as path from 'node:path';

import { Command, Option } from 'commander';

import {
  ACTIVATIONS,
  CELLS,
  DEFAULT_MEMORY_LIMIT_BYTES,
  DEFAULT_MODEL,
  DEFAULT_TRAIN,
  OPTIMIZERS,
  RANGES,
  SCHEDULES,
  defaultEps,
  parameterCount,
  validateTrainConfig,
  type Activation,
  type CellType,
  type Checkpoint,
  type ModelConfig,
  type OptimizerName,
  type ScheduleName,
  type TrainConfig,
} from '../../engine';
import { claimOutput, loadCheckpoint } from '../checkpointFile';
import { readCorpus } from '../corpus';
import { quotePath, sameFile } from '../files';
import { runLoop } from '../loop';
import { CLI_RANGES, checkOptional, conflict, dflt, parseNumber } from '../options';
import { formatCount, type Output } from '../output';
import { createReporter, type StartInfo } from '../progress';
import { buildSession, type Session } from '../../engine/session';

/** Steps when neither --steps nor --minutes is given. */
export const DEFAULT_STEPS = 1000;

export interface TrainOptions {
  cell?: CellType;
  activation?: Activation;
  hidden?: number;
  layers?: number;
  seq?: number;
  batch?: number;
  dropout?: number;
  optimizer?: OptimizerName;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  clip?: number;
  schedule?: ScheduleName;
  warmup?: number;
  decaySteps?: number;
  steps?: number;
  minutes?: number;
  valFraction?: number;
  valEvery?: number;
  saveEvery?: number;
  seed?: number;
  init?: string;
  out: string;
  maxMemoryMb: number;
  json?: boolean;
}

export function addTrainCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  const num = (flags: string, description: string): Option => new Option(flags, description).argParser(parseNumber);
  program
    .command('train')
    .description('train a character-level model on text files (several files are concatenated in order)')
    .argument('<file...>', 'UTF-8 text files to train on')
    .addOption(new Option('--cell <type>', `recurrent cell${dflt(DEFAULT_MODEL.cell)}`).choices(CELLS))
    .addOption(new Option('--activation <f>', `nonlinearity of the vanilla RNN (--cell rnn only)${dflt(DEFAULT_MODEL.activation)}`).choices(ACTIVATIONS))
    .addOption(num('--hidden <n>', `hidden units per layer${dflt(DEFAULT_MODEL.hidden)}`))
    .addOption(num('--layers <n>', `stacked layers, 1-4${dflt(DEFAULT_MODEL.layers)}`))
    .addOption(num('--seq <n>', `characters per window (truncated BPTT length)${dflt(DEFAULT_TRAIN.seq)}`))
    .addOption(num('--batch <n>', `parallel streams per step${dflt(DEFAULT_TRAIN.batch)}`))
    .addOption(num('--dropout <p>', `dropout between stacked layers${dflt(DEFAULT_TRAIN.dropout)}`))
    .addOption(new Option('--optimizer <name>', `optimizer${dflt(DEFAULT_TRAIN.optimizer)}`).choices(OPTIMIZERS))
    .addOption(num('--lr <rate>', `learning rate${dflt(DEFAULT_TRAIN.lr)}`))
    .addOption(num('--momentum <m>', `momentum of sgd and rmsprop${dflt(DEFAULT_TRAIN.momentum)}`))
    .addOption(num('--weight-decay <w>', `weight decay${dflt(DEFAULT_TRAIN.weightDecay)}`))
    .addOption(num('--clip <norm>', `global gradient-norm clipping, 0 = off${dflt(DEFAULT_TRAIN.clip)}`))
    .addOption(new Option('--schedule <name>', `learning-rate schedule${dflt(DEFAULT_TRAIN.schedule)}`).choices(SCHEDULES))
    .addOption(num('--warmup <steps>', `linear learning-rate warm-up steps${dflt(DEFAULT_TRAIN.warmupSteps)}`))
    .addOption(num('--decay-steps <n>', 'length of the linear/cosine decay (default: --steps; with --init, the checkpoint\'s)'))
    .addOption(num('--steps <n>', `training steps; 0 writes the freshly initialized model (default: ${DEFAULT_STEPS}, unlimited with --minutes)`))
    .addOption(num('--minutes <m>', 'time budget; training stops at whichever of --steps and --minutes comes first'))
    .addOption(num('--val-fraction <f>', `held-out tail of the text for validation, 0-0.5${dflt(DEFAULT_TRAIN.valFraction)}`))
    .addOption(num('--val-every <steps>', 'validate every this many steps, 0 = only at the end (default: 0)'))
    .addOption(num('--save-every <steps>', 'also save the checkpoint every this many steps, 0 = only at the end (default: 0)'))
    .addOption(num('--seed <n>', `random seed (initialization, dropout)${dflt(DEFAULT_TRAIN.seed)}`))
    .option('--init <checkpoint>', 'continue training exactly where this checkpoint stopped (its model and settings)')
    .option('--out <checkpoint>', 'where to save the model', 'model.safetensors')
    .addOption(num('--max-memory-mb <mb>', 'refuse runs whose buffers would need more than this').default(DEFAULT_MEMORY_LIMIT_BYTES / 1024 ** 2))
    .option('--json', 'one JSON event per line on stdout instead of a progress bar')
    .action(async (files: string[], opts: TrainOptions) => {
      await run(Boolean(opts.json), (out) => train(files, opts, out));
    });
}

/** The model-shape options that --init refuses to change. */
const SHAPE_FLAGS = [
  ['cell', '--cell'],
  ['activation', '--activation'],
  ['hidden', '--hidden'],
  ['layers', '--layers'],
] as const;

/** Checks every number against its range and resolves the run's settings. */
export function resolveTrainSettings(
  opts: TrainOptions,
  init: Checkpoint | null,
): { shape: Omit<ModelConfig, 'vocabSize'>; train: TrainConfig; steps: number; seconds: number; valEvery: number; saveEvery: number } {
  const hidden = checkOptional('--hidden', opts.hidden, RANGES.hidden);
  const layers = checkOptional('--layers', opts.layers, RANGES.layers);
  const steps = checkOptional('--steps', opts.steps, CLI_RANGES.steps);
  const minutes = checkOptional('--minutes', opts.minutes, CLI_RANGES.minutes);
  const valEvery = checkOptional('--val-every', opts.valEvery, CLI_RANGES.every) ?? 0;
  const saveEvery = checkOptional('--save-every', opts.saveEvery, CLI_RANGES.every) ?? 0;
  checkOptional('--max-memory-mb', opts.maxMemoryMb, CLI_RANGES.maxMemoryMb);

  // Training settings given on the command line (they override the checkpoint's with --init).
  const given: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(key: K, value: TrainConfig[K] | undefined): void => {
    if (value !== undefined) given[key] = value;
  };
  set('seq', checkOptional('--seq', opts.seq, RANGES.seq));
  set('batch', checkOptional('--batch', opts.batch, RANGES.batch));
  set('dropout', checkOptional('--dropout', opts.dropout, RANGES.dropout));
  set('optimizer', opts.optimizer);
  set('lr', checkOptional('--lr', opts.lr, RANGES.lr));
  set('momentum', checkOptional('--momentum', opts.momentum, RANGES.momentum));
  set('weightDecay', checkOptional('--weight-decay', opts.weightDecay, RANGES.weightDecay));
  set('clip', checkOptional('--clip', opts.clip, RANGES.clip));
  set('schedule', opts.schedule);
  set('warmupSteps', checkOptional('--warmup', opts.warmup, RANGES.warmupSteps));
  set('decaySteps', checkOptional('--decay-steps', opts.decaySteps, RANGES.decaySteps));
  set('valFraction', checkOptional('--val-fraction', opts.valFraction, RANGES.valFraction));
  set('seed', checkOptional('--seed', opts.seed, RANGES.seed));

  const runSteps = steps ?? (minutes !== undefined ? Infinity : DEFAULT_STEPS);
  let shape: Omit<ModelConfig, 'vocabSize'>;
  let train: TrainConfig;
  if (init) {
    const m = init.model.config;
    for (const [key, flag] of SHAPE_FLAGS) {
      const value = opts[key];
      if (value !== undefined && value !== m[key]) {
        conflict(
          `${flag} ${value} does not match the checkpoint given to --init (${key} ${m[key]}): a continued run keeps ` +
            `the checkpoint's model; leave out ${flag} or train a new model without --init`,
        );
      }
    }
    shape = { cell: m.cell, activation: m.activation, hidden: m.hidden, layers: m.layers };
    // A different optimizer brings its own default epsilon (PyTorch's), as in a fresh run.
    const eps = given.optimizer !== undefined && given.optimizer !== init.train.optimizer ? defaultEps(given.optimizer) : init.train.eps;
    train = validateTrainConfig({ ...init.train, eps, ...given });
  } else {
    shape = {
      cell: opts.cell ?? DEFAULT_MODEL.cell,
      activation: opts.activation ?? DEFAULT_MODEL.activation,
      hidden: hidden ?? DEFAULT_MODEL.hidden,
      layers: layers ?? DEFAULT_MODEL.layers,
    };
    const decaySteps = given.decaySteps ?? (Number.isFinite(runSteps) ? runSteps : 0);
    const eps = defaultEps(given.optimizer ?? DEFAULT_TRAIN.optimizer);
    train = validateTrainConfig({ ...DEFAULT_TRAIN, eps, ...given, decaySteps });
    if (train.schedule !== 'constant' && given.decaySteps === undefined && !Number.isFinite(runSteps)) {
      conflict(`--schedule ${train.schedule} needs to know how long to decay: give --steps or --decay-steps`);
    }
  }
  if (valEvery > 0 && train.valFraction === 0) conflict('--val-every needs a validation set: set --val-fraction above 0');
  if (opts.activation !== undefined && shape.cell !== 'rnn') {
    conflict(`--activation applies to the vanilla RNN only (--cell rnn), not to --cell ${shape.cell}`);
  }
  if (given.momentum !== undefined && given.momentum > 0 && train.optimizer !== 'sgd' && train.optimizer !== 'rmsprop') {
    conflict(`--momentum applies to --optimizer sgd and rmsprop only, not to ${train.optimizer}`);
  }
  return { shape, train, steps: runSteps, seconds: minutes !== undefined ? minutes * 60 : Infinity, valEvery, saveEvery };
}

async function train(files: string[], opts: TrainOptions, out: Output): Promise<number> {
  const initCheckpoint = opts.init !== undefined ? loadCheckpoint(opts.init) : null;
  const settings = resolveTrainSettings(opts, initCheckpoint);
  claimOutput(opts.out);
  for (const f of files) {
    if (sameFile(f, opts.out)) conflict(`--out ${quotePath(opts.out)} is one of the training files: choose another name for the checkpoint`);
  }
  const corpus = readCorpus(files);
  const session = buildSession({
    text: corpus.source,
    shape: settings.shape,
    train: settings.train,
    init: initCheckpoint && opts.init !== undefined ? { label: `the checkpoint ${quotePath(opts.init)}`, checkpoint: initCheckpoint } : null,
    maxMemoryBytes: opts.maxMemoryMb * 1024 ** 2,
    memoryHint: 'raise --max-memory-mb',
  });
  const start = describeStart(session, settings.steps, settings.seconds, {
    files: corpus.files,
    out: opts.out,
    init: opts.init ?? null,
  });
  const result = await runLoop(
    session,
    { steps: settings.steps, seconds: settings.seconds, valEvery: settings.valEvery, saveEvery: settings.saveEvery, out: opts.out, extra: sourceMetadata(corpus.files) },
    createReporter(out),
    start,
  );
  return result.exitCode;
}

/** Checkpoint metadata naming the training files (base names only: no local paths leak into a shared model). */
export function sourceMetadata(files: readonly string[]): Record<string, string> {
  return { sources: JSON.stringify(files.map((f) => path.basename(f))) };
}

/** The start event and the human header lines. */
export function describeStart(
  session: Session,
  steps: number,
  seconds: number,
  where: { files: string[]; out: string; init: string | null },
): StartInfo {
  const { model, train, trainTokens, valTokens, startStep } = session;
  const c = model.config;
  const params = parameterCount(c);
  const lines: string[] = [];
  const shape =
    `${c.layers}-layer ${c.cell === 'rnn' ? `RNN (${c.activation})` : c.cell.toUpperCase()}, hidden ${c.hidden}`;
  if (where.init) lines.push(`Continuing ${quotePath(where.init)} at step ${startStep}.`);
  lines.push(
    `Training a ${shape}: ${formatCount(params)} parameters, ${c.vocabSize} distinct characters, ` +
      `${formatCount(trainTokens.length)} training characters` +
      (valTokens.length > 0 ? ` + ${formatCount(valTokens.length)} held out for validation.` : '.'),
  );
  const limit = [
    Number.isFinite(steps) ? `${formatCount(steps)} step${steps === 1 ? '' : 's'}` : '',
    Number.isFinite(seconds) ? `${+(seconds / 60).toFixed(2)} minute${seconds === 60 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(' or ');
  lines.push(
    `${train.optimizer} lr ${train.lr}${train.schedule !== 'constant' ? ` (${train.schedule})` : ''}, ` +
      `batch ${train.batch} × sequence ${train.seq}, ${limit}, saving to ${where.out}`,
  );
  return {
    lines,
    steps,
    seconds,
    startStep,
    fields: {
      ...c,
      ...train,
      params,
      vocab: c.vocabSize,
      trainChars: trainTokens.length,
      valChars: valTokens.length,
      steps: Number.isFinite(steps) ? steps : null,
      minutes: Number.isFinite(seconds) ? seconds / 60 : null,
      startStep,
      stepsPerEpoch: session.trainer.stepsPerEpoch,
      files: where.files,
      init: where.init,
      out: where.out,
    },
  };
}
