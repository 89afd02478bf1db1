/** `rnn-lab experiment <file> --out <dir>`: run every run of a `*.rnnlab.json` experiment (DESIGN §6b). */
import { Command, Option } from 'commander';

import { DEFAULT_MEMORY_LIMIT_BYTES, RUN_RANGES } from '../../engine';
import { EngineTrainer } from '../experiment/engineTrainer';
import { planExperiment, runExperiment } from '../experiment/runner';
import { checkOptional, parseNumber } from '../options';
import { EXIT_INTERRUPTED, EXIT_OK, type Output } from '../output';
import { createReporter } from '../progress';

/** A running run is checkpointed at least this often (the extension's default too), so a kill loses little. */
const SAVE_SECONDS = 30;

interface ExperimentOptions {
  out: string;
  json?: boolean;
  resume?: boolean;
  yes?: boolean;
  saveEvery?: number;
  maxMemoryMb: number;
}

export function addExperimentCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  const num = (flags: string, description: string): Option => new Option(flags, description).argParser(parseNumber);
  program
    .command('experiment')
    .description('run every run of an experiment file (*.rnnlab.json) and compare them: results.jsonl, report.html, a checkpoint and history per run')
    .argument('<file>', 'the experiment file (text paths in it are relative to it)')
    .requiredOption('--out <dir>', 'folder for the checkpoints, histories, results.jsonl and report.html (created if needed)')
    .option('--resume', 'continue an interrupted experiment in --out: finished runs are kept, the interrupted one continues from its checkpoint')
    .option('--yes', 'run an experiment of more than 100 runs')
    .addOption(num('--save-every <steps>', 'also checkpoint every this many steps (default: 0; a run is checkpointed every 30 seconds and at the end of each rung anyway)'))
    .addOption(num('--max-memory-mb <mb>', 'refuse runs whose buffers would need more than this').default(DEFAULT_MEMORY_LIMIT_BYTES / 1024 ** 2))
    .option('--json', 'one JSON event per line on stdout instead of progress bars')
    .action(async (file: string, opts: ExperimentOptions) => {
      await run(Boolean(opts.json), (out) => experiment(file, opts, out));
    });
}

async function experiment(file: string, opts: ExperimentOptions, out: Output): Promise<number> {
  const saveEvery = checkOptional('--save-every', opts.saveEvery, RUN_RANGES.saveEvery) ?? 0;
  checkOptional('--max-memory-mb', opts.maxMemoryMb, RUN_RANGES.maxMemoryMB);
  const maxMemoryBytes = opts.maxMemoryMb * 1024 ** 2;
  const trainer = new EngineTrainer();
  const plan = planExperiment(file, trainer, { yes: Boolean(opts.yes), maxMemoryBytes });

  let stop = false;
  const onSigint = (): void => {
    if (stop) {
      // A second Ctrl-C: stop at once (writes are atomic, so no file is half written).
      process.stderr.write('\nrnn-lab: interrupted again, exiting without saving\n');
      process.exit(EXIT_INTERRUPTED);
    }
    stop = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runExperiment(plan, {
      out: opts.out,
      resume: Boolean(opts.resume),
      saveEvery,
      saveSeconds: SAVE_SECONDS,
      maxMemoryBytes,
      output: out,
      trainer,
      reporter: () => createReporter(out),
      shouldStop: () => stop,
    });
    return result.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
