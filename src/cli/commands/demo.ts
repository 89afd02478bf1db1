/**
 * `rnn-lab demo`: the one-command tour. Trains a small LSTM on RNN Lab's own
 * source code for a minute, saves it, reports validation bits per character
 * and prints what the model writes after "export function ".
 */
import { Option, type Command } from 'commander';

import { DEFAULT_MEMORY_LIMIT_BYTES, DEFAULT_TRAIN, sample, bestKernels, validateTrainConfig, type TrainConfig } from '../../engine';
import { demoCorpus } from '../corpus';
import { claimOutput } from '../checkpointFile';
import { runLoop } from '../loop';
import { CLI_RANGES, checkOptional, parseNumber } from '../options';
import { EXIT_OK, type Output } from '../output';
import { createReporter } from '../progress';
import { buildSession } from '../../engine/session';
import { resolveSampleOptions, streamSample } from './sample';
import { describeStart, sourceMetadata } from './train';

/**
 * Chosen by measurement for a one-minute run on the pure-TypeScript kernels
 * (about 6,000 chars/s here): a one-layer LSTM with small batches gets the most
 * updates in, reaching about 2.3 bits/char on held-out code, where a 2-layer
 * LSTM with batch 16 is still at the unigram plateau (about 4.8 bits/char).
 */
export const DEMO_SHAPE = { cell: 'lstm', activation: 'tanh', hidden: 128, layers: 1 } as const;
export const DEMO_TRAIN: TrainConfig = {
  ...DEFAULT_TRAIN,
  seq: 64,
  batch: 4,
  optimizer: 'adam',
  lr: 5e-3,
  clip: 5,
  valFraction: 0.05,
};
export const DEMO_PRIME = 'export function ';

interface DemoFlags {
  minutes?: number;
  steps?: number;
  seed?: number;
  out: string;
  json?: boolean;
}

export function addDemoCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  const num = (flags: string, description: string): Option => new Option(flags, description).argParser(parseNumber);
  program
    .command('demo')
    .description(`train a small LSTM on RNN Lab's own source code, then let it write code after "${DEMO_PRIME}"`)
    .addOption(num('--minutes <m>', 'how long to train (default: 1)'))
    .addOption(num('--steps <n>', 'stop after this many steps, if sooner'))
    .addOption(num('--seed <n>', `random seed (default: ${DEFAULT_TRAIN.seed})`))
    .option('--out <checkpoint>', 'where to save the model', 'demo.safetensors')
    .option('--json', 'one JSON event per line on stdout instead of a progress bar')
    .action(async (flags: DemoFlags) => {
      await run(Boolean(flags.json), (out) => demo(flags, out));
    });
}

async function demo(flags: DemoFlags, out: Output): Promise<number> {
  const minutes = checkOptional('--minutes', flags.minutes, CLI_RANGES.minutes) ?? 1;
  const steps = checkOptional('--steps', flags.steps, CLI_RANGES.steps) ?? Infinity;
  const seed = checkOptional('--seed', flags.seed, CLI_RANGES.seed) ?? DEFAULT_TRAIN.seed;
  claimOutput(flags.out);
  const corpus = demoCorpus(__dirname);
  const train = validateTrainConfig({ ...DEMO_TRAIN, seed });
  const session = buildSession({ text: corpus.text, shape: DEMO_SHAPE, train, init: null, maxMemoryBytes: DEFAULT_MEMORY_LIMIT_BYTES });
  out.info(`RNN Lab demo: learning to write TypeScript from the project's own ${corpus.files.length} source files.`);
  const start = describeStart(session, steps, minutes * 60, { files: corpus.files, out: flags.out, init: null });
  const result = await runLoop(
    session,
    { steps, seconds: minutes * 60, valEvery: 0, saveEvery: 0, out: flags.out, extra: sourceMetadata(corpus.files) },
    createReporter(out),
    start,
  );
  if (result.exitCode !== EXIT_OK) return result.exitCode;

  const options = resolveSampleOptions({ length: 400, temperature: 0.7, seed });
  if (out.json) {
    const text = sample(session.model, bestKernels(), DEMO_PRIME, options);
    out.event('sample', { prime: DEMO_PRIME, temperature: options.temperature, text });
  } else {
    out.info('');
    out.info(`What the model writes after "${DEMO_PRIME}" (temperature ${options.temperature}):`);
    out.info('');
    process.stdout.write(DEMO_PRIME);
    const text = streamSample(session.model, DEMO_PRIME, options);
    if (!text.endsWith('\n')) process.stdout.write('\n');
    out.info('');
    out.info(`Sample more with: rnn-lab sample ${flags.out} --prime "${DEMO_PRIME}" --temperature 0.7`);
  }
  return EXIT_OK;
}

