/** The benchmark's command line: options, defaults, and where its text comes from. */
import { existsSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import { BACKENDS, type BackendName, type CellType } from '../src/engine';

export interface BenchArgs {
  only: CellType | null;
  seconds: number;
  json: boolean;
  backend: BackendName | null;
  torch: boolean;
  threads: number[];
  /** The text trained on, and given to PyTorch; null: none was given or found (the project's own source is used). */
  corpus: string | null;
  /** Print what would be measured and exit. */
  plan: boolean;
}

/** The corpus the published figures were measured on, beside the project folder when it is there. */
export function defaultCorpus(benchDir: string): string {
  return path.resolve(benchDir, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0.');
  return n;
}

function threadList(value: string): number[] {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) throw new InvalidArgumentError('expected a count or a list like 1,2.');
  return list;
}

function regularFile(value: string): string {
  const file = path.resolve(value);
  if (!existsSync(file) || !statSync(file).isFile()) throw new InvalidArgumentError(`no such file: ${JSON.stringify(value.slice(0, 200))}.`);
  return file;
}

/** Parses argv (without node and the script); --help prints usage and exits, a bad option exits 2 with one line. */
export function parseBenchArgs(argv: string[], benchDir: string): BenchArgs {
  const shared = defaultCorpus(benchDir);
  const program = new Command()
    .name('node dist/bench.js')
    .description(
      'Training throughput (chars/s, GFLOP/s) of RNN, LSTM and GRU, and of the block models (gpt, mingru, minlstm), for each kernel backend and thread count, ' +
        'sampling and inline-completion latency, and, when /usr/bin/python3 can import torch, the same ' +
        'configurations in PyTorch on the same text. Takes minutes; prints numbers, asserts nothing.',
    )
    .addOption(new Option('--only <family>', 'measure one family (a cell, or a block model)').choices(['rnn', 'lstm', 'gru', 'gpt', 'mingru', 'minlstm']))
    .addOption(new Option('--seconds <s>', 'time per configuration').argParser(positiveNumber).default(3))
    .addOption(new Option('--backend <name>', 'one kernel backend (default: every one available)').choices(BACKENDS))
    .addOption(
      new Option('--threads <list>', 'thread counts for training, e.g. 2 or 1,2 (default: 1,2 on a multi-core machine, else 1)').argParser(threadList),
    )
    .addOption(
      new Option('--corpus <file>', `the text to train on and to give PyTorch (default: ${path.relative(process.cwd(), shared) || shared} when it exists)`).argParser(
        regularFile,
      ),
    )
    .option('--no-torch', 'skip the PyTorch comparison')
    .option('--json', 'one JSON object per line')
    .option('--plan', 'print what would be measured (text, backends, threads, PyTorch or why not) and exit')
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
    .configureOutput({ outputError: (str, write) => write(`bench: ${str.replace(/^error: /, '').trim()}\n`) })
    .parse(argv, { from: 'user' });
  const o = program.opts<{ only?: CellType; seconds: number; backend?: BackendName; threads?: number[]; corpus?: string; torch: boolean; json?: boolean; plan?: boolean }>();
  return {
    only: o.only ?? null,
    seconds: o.seconds,
    json: Boolean(o.json),
    backend: o.backend ?? null,
    torch: o.torch,
    // One and two threads by default on a multi-core machine: the extension trains with two there.
    threads: o.threads ?? (os.cpus().length > 1 ? [1, 2] : [1]),
    corpus: o.corpus ?? (existsSync(shared) ? shared : null),
    plan: Boolean(o.plan),
  };
}
