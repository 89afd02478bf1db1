/** `rnn-lab sample <checkpoint>`: generate text, streamed to stdout as it is produced. */
import { Option, type Command } from 'commander';

import { DEFAULT_SAMPLE, sample, bestKernels, tsKernels, type Kernels, type Model, type SampleOptions } from '../../engine';
import { loadCheckpoint } from '../checkpointFile';
import { CLI_RANGES, checkOptional, dflt, parseNumber } from '../options';
import { EXIT_OK, type Output } from '../output';

interface SampleFlags {
  prime: string;
  length?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

export function addSampleCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  const num = (flags: string, description: string): Option => new Option(flags, description).argParser(parseNumber);
  program
    .command('sample')
    .description('generate text from a model, streaming it to stdout')
    .argument('<checkpoint>', 'a model saved by rnn-lab')
    .option('--prime <text>', 'text the model reads before generating (not printed)', '')
    .addOption(num('--length <n>', `characters to generate at most${dflt(DEFAULT_SAMPLE.length)}`))
    .addOption(num('--temperature <t>', `sampling temperature, 0 = greedy${dflt(DEFAULT_SAMPLE.temperature)}`))
    .addOption(num('--top-k <k>', 'sample only among the k most likely characters, 0 = all (default: 0)'))
    .addOption(num('--top-p <p>', 'sample only from the smallest set of characters reaching probability p (default: 1)'))
    .addOption(num('--seed <n>', `random seed${dflt(DEFAULT_SAMPLE.seed)}`))
    .option('--stop <string>', 'stop after generating this string (kept in the output); repeat for several', collect, [] as string[])
    .action(async (checkpoint: string, flags: SampleFlags) => {
      await run(false, async () => {
        const options = resolveSampleOptions(flags);
        const { model } = loadCheckpoint(checkpoint, { weightsOnly: true });
        streamSample(model, flags.prime, options);
        return EXIT_OK;
      });
    });
}

/** A repeatable option: a variadic one would swallow the checkpoint argument that follows it. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function resolveSampleOptions(f: Omit<SampleFlags, 'prime'>): SampleOptions {
  return {
    length: checkOptional('--length', f.length, CLI_RANGES.length) ?? DEFAULT_SAMPLE.length,
    temperature: checkOptional('--temperature', f.temperature, CLI_RANGES.temperature) ?? DEFAULT_SAMPLE.temperature,
    topK: checkOptional('--top-k', f.topK, CLI_RANGES.topK) ?? DEFAULT_SAMPLE.topK,
    topP: checkOptional('--top-p', f.topP, CLI_RANGES.topP) ?? DEFAULT_SAMPLE.topP,
    seed: checkOptional('--seed', f.seed, CLI_RANGES.seed) ?? DEFAULT_SAMPLE.seed,
    stop: (f.stop ?? []).map(unescapeStop),
  };
}

/** `--stop '\n\n'` from a shell arrives as backslash-n: accept the common escapes. */
function unescapeStop(s: string): string {
  return s.replace(/\\([nrt\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c]!);
}

/**
 * Above this many bytes of weights, generation runs on the TypeScript
 * kernels: the wasm backend copies a product's operands into its own memory
 * on every call, which for one character at a time means copying the whole
 * recurrent matrix per character. That doubles the peak memory (a second
 * copy of the model) and takes about as long as the product itself.
 */
export const LARGE_MODEL_BYTES = 64 * 1024 * 1024;

export function generationKernels(model: Model): Kernels {
  return model.params.count * 4 > LARGE_MODEL_BYTES ? tsKernels : bestKernels();
}

/** Generates and writes each character to stdout as soon as it is chosen; returns the text. */
export function streamSample(model: Model, prime: string, options: SampleOptions): string {
  let pending = '';
  let lastFlush = performance.now();
  const text = sample(model, generationKernels(model), prime, options, (ch) => {
    pending += ch;
    // Batch tiny writes a little; a person still sees the text appear as it is generated.
    const now = performance.now();
    if (now - lastFlush >= 30 || pending.length >= 256) {
      process.stdout.write(pending);
      pending = '';
      lastFlush = now;
    }
  });
  if (pending) process.stdout.write(pending);
  if (process.stdout.isTTY && !text.endsWith('\n')) process.stdout.write('\n');
  return text;
}
