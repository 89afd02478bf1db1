/**
 * `rnn-lab demo`: the one-command tour. Trains a small LSTM on RNN Lab's own
 * source code for a minute, saves it, reports validation bits per character
 * and prints what the model writes after "export function ".
 */
import { Option, type Command } from 'commander';

import { DEFAULT_TRAIN, sample, bestKernels, type RunInput } from '../../engine';
import { claimOutput } from '../checkpointFile';
import { demoCorpus } from '../corpus';
import { CLI_RANGES, checkOptional, parseNumber } from '../options';
import { EXIT_OK, keepRunningIfStdoutCloses, writeStdout, type Output } from '../output';
import { resolveSampleOptions, streamSample } from './sample';
import { runTrainCommand } from './train';

/**
 * Chosen by measurement for a one-minute run on the pure-TypeScript kernels
 * (about 6,000 chars/s here): a one-layer LSTM with small batches gets the most
 * updates in, reaching about 2.3 bits/char on held-out code, where a 2-layer
 * LSTM with batch 16 is still at the unigram plateau (about 4.8 bits/char).
 */
export const DEMO_SETTINGS: RunInput = {
  cell: 'lstm',
  hidden: 128,
  layers: 1,
  seq: 64,
  batch: 4,
  optimizer: 'adam',
  lr: 5e-3,
  clip: 5,
  valFraction: 0.05,
  validateEvery: 0,
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
  keepRunningIfStdoutCloses();
  const minutes = checkOptional('--minutes', flags.minutes, CLI_RANGES.minutes) ?? 1;
  const steps = checkOptional('--steps', flags.steps, CLI_RANGES.steps);
  const seed = checkOptional('--seed', flags.seed, CLI_RANGES.seed) ?? DEFAULT_TRAIN.seed;
  claimOutput(flags.out);
  const corpus = demoCorpus(__dirname);
  out.info(`RNN Lab demo: learning to write TypeScript from the project's own ${corpus.files.length} source files.`);
  const { code, result } = await runTrainCommand(
    {
      text: corpus.text,
      input: { ...DEMO_SETTINGS, seed, maxMinutes: minutes, ...(steps !== undefined ? { steps } : {}) },
      init: null,
      out: flags.out,
      files: corpus.files,
    },
    out,
  );
  if (code !== EXIT_OK) return code;

  const model = result.session.model;
  const options = resolveSampleOptions({ length: 400, temperature: 0.7, seed });
  if (out.json) {
    const text = sample(model, bestKernels(), DEMO_PRIME, options);
    out.event('sample', { prime: DEMO_PRIME, temperature: options.temperature, text });
  } else {
    out.info('');
    out.info(`What the model writes after "${DEMO_PRIME}" (temperature ${options.temperature}):`);
    out.info('');
    writeStdout(DEMO_PRIME);
    const text = streamSample(model, DEMO_PRIME, options);
    if (!text.endsWith('\n')) writeStdout('\n');
    out.info('');
    out.info(`Sample more with: rnn-lab sample ${flags.out} --prime "${DEMO_PRIME}" --temperature 0.7`);
  }
  return EXIT_OK;
}
