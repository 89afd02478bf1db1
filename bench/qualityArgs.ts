/** The command line of `npm run bench:quality`: which presets, on what text, for how long. */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import { FAMILY_NAMES, type CellType } from '../src/engine';
import { presets } from '../src/shared/presets';
import { defaultCorpus } from './args';

export interface QualityArgs {
  /** The text: its first 90 % is trained on, its last 10 % scored. */
  corpus: string;
  /** Training seconds per preset (validation not counted). */
  seconds: number;
  /** Only the presets of this family. */
  only: CellType | null;
  /** Only these presets (ids), in this order; null = every preset. */
  presets: string[] | null;
  /** Train exactly this many steps instead of calibrating (an equal-steps comparison). */
  steps: number | null;
  /** Seconds of the calibration run that measures each preset's step rate. */
  calibrateSeconds: number;
  /** Training threads; 0 = the engine's automatic choice, as the editor trains. */
  threads: number;
  json: boolean;
}

function positive(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected ${what} above 0.`);
    return n;
  };
}

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

function presetList(value: string): string[] {
  const known = presets().map((p) => p.id);
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !known.includes(id));
  if (ids.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected preset ids from ${known.join(', ')}${unknown.length ? `, got ${unknown.join(', ')}` : ''}.`);
  return ids;
}

function regularFile(value: string): string {
  const file = path.resolve(value);
  if (!existsSync(file) || !statSync(file).isFile()) throw new InvalidArgumentError(`no such file: ${JSON.stringify(value.slice(0, 200))}.`);
  return file;
}

/** Parses argv (without node and the script); --help prints usage and exits 0, a bad option exits 2 with one line. */
export function parseQualityArgs(argv: string[], benchDir: string): QualityArgs {
  const shared = defaultCorpus(benchDir);
  const program = new Command()
    .name('node dist/bench-quality.js')
    .description(
      'Quality at equal wall time: trains each preset of the editor for --seconds of training on the first 90% of ' +
        'the corpus, through the run loop `rnn-lab train` uses, and prints the loss on the last 10% (nats and bits ' +
        'per character), best first. Each preset first trains for --calibrate seconds to measure its step rate; the ' +
        'run is then that many steps (its learning-rate schedule fitted to them), capped at --seconds.',
    )
    .addOption(new Option('--corpus <file>', `the text (default: ${path.relative(process.cwd(), shared) || shared} when it exists)`).argParser(regularFile))
    .addOption(new Option('--seconds <s>', 'training seconds per preset').argParser(positive('a number of seconds')).default(300))
    .addOption(new Option('--only <family>', "only this family's presets").choices(FAMILY_NAMES))
    .addOption(new Option('--presets <ids>', `only these presets, e.g. medium,gpt (${presets().map((p) => p.id).join(', ')})`).argParser(presetList))
    .addOption(new Option('--steps <n>', 'train exactly this many steps (no calibration, no time cap): compare at equal steps').argParser(wholeNumber(1, 1e9)))
    .addOption(new Option('--calibrate <s>', 'seconds of the step-rate calibration (default: a tenth of --seconds, 3 to 20)').argParser(positive('a number of seconds')))
    .addOption(new Option('--threads <n>', 'training threads (0 = automatic, as the editor trains)').argParser(wholeNumber(0, 16)).default(0))
    .option('--json', 'one JSON object per preset')
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
    .configureOutput({ outputError: (str, write) => write(`bench:quality: ${str.replace(/^error: /, '').trim()}\n`) })
    .parse(argv, { from: 'user' });
  const o = program.opts<{ corpus?: string; seconds: number; only?: CellType; presets?: string[]; steps?: number; calibrate?: number; threads: number; json?: boolean }>();
  const corpus = o.corpus ?? (existsSync(shared) ? shared : null);
  if (corpus === null) program.error(`give --corpus FILE (${shared} does not exist)`);
  return {
    corpus: corpus!,
    seconds: o.seconds,
    only: o.only ?? null,
    presets: o.presets ?? null,
    steps: o.steps ?? null,
    calibrateSeconds: o.calibrate ?? Math.min(20, Math.max(3, o.seconds / 10)),
    threads: o.threads,
    json: Boolean(o.json),
  };
}
