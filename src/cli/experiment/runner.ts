/**
 * The CLI's side of an experiment: the runner itself is UI-free and shared
 * with the extension (src/shared/experiment/runner.ts); this adds the CLI's
 * file operations, its output and the table it prints at the end.
 */
import { rankRows, type ResultRow } from '../../shared/experiment';
import {
  planExperiment as planShared,
  runExperiment as runShared,
  type ExperimentOutcome,
  type Plan,
  type RunOptions as SharedRunOptions,
} from '../../shared/experiment/runner';
import { cliFiles } from '../loop';
import { formatCount, formatDuration, type Output } from '../output';
import type { TrainReporter } from '../progress';
import type { RunTrainer } from './trainer';

export { REPORT_FILE, RESULTS_FILE, STATE_FILE, finishedRows, type ExperimentOutcome, type Plan, type RungRecord } from '../../shared/experiment/runner';

export interface PlanOptions {
  yes: boolean;
  maxMemoryBytes: number;
}

/** Reads and checks everything; nothing trains unless this returns. */
export function planExperiment(file: string, trainer: RunTrainer, opts: PlanOptions): Plan {
  return planShared(file, trainer, { ...opts, io: cliFiles });
}

export interface RunOptions extends Omit<SharedRunOptions, 'output' | 'io' | 'reporter' | 'onFinished'> {
  output: Output;
  /** A fresh progress reporter for each run. */
  reporter: () => TrainReporter;
}

export function runExperiment(plan: Plan, opts: RunOptions): Promise<ExperimentOutcome> {
  return runShared(plan, {
    ...opts,
    io: cliFiles,
    reporter: () => opts.reporter(),
    onFinished: (rows) => {
      opts.output.info('');
      for (const l of formatTable(rows)) opts.output.info(l);
    },
  });
}

/** The runs best first, as a plain table. */
export function formatTable(rows: readonly ResultRow[]): string[] {
  const head = ['#', 'run', 'params', 'steps', 'time', 'chars/s', 'val bpc', 'stopped'];
  const body = rankRows(rows).map((r, i) => [
    String(i + 1),
    r.id,
    formatCount(r.params),
    formatCount(r.steps),
    formatDuration(r.seconds),
    formatCount(r.charsPerSec),
    r.valBpc !== null ? r.valBpc.toFixed(4) : '-',
    r.diverged !== null ? `diverged at step ${r.diverged}` : r.stoppedAt !== null ? `rung ${r.stoppedAt}` : '',
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]): string => cells.map((x, c) => (c === 1 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(head), ...body.map(line)];
}
