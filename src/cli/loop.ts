/**
 * The command line's adapter around the engine's run loop (engine/run): it
 * slices the loop so Ctrl-C is seen (~25 ms), saves each checkpoint the loop
 * hands over atomically with the run's history beside it, and reports
 * progress. Also the Node API for scripts and experiments: `trainToFile`.
 */
import { DivergenceError, startRun, type RunOutcome } from '../engine';
import { trainRunToFile, type TrainFileRequest, type TrainFileResult } from '../shared/experiment/runToFile';
import { quotePath, readTextFile, writeFileAtomic } from './files';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USER } from './output';

export type { TrainFileRequest, TrainFileResult } from '../shared/experiment/runToFile';

/**
 * Trains a run to the end of its budget (or until `shouldStop`), saving to
 * `out` and its history file (src/shared/experiment/runToFile.ts).
 */
export function trainToFile(req: TrainFileRequest): Promise<TrainFileResult> {
  return trainRunToFile({ startRun, io: cliFiles }, req);
}

/** The CLI's file operations (errors in plain words, paths quoted its way) for the shared experiment code. */
export const cliFiles = { readText: (file: string) => readTextFile(file), write: writeFileAtomic, quote: quotePath };

/** The divergence message with what was kept: never both "kept" and "nothing written". */
export function divergenceMessage(outcome: RunOutcome, out: string): string {
  const e = outcome.divergence!;
  const kept =
    outcome.savedStep !== null
      ? `the checkpoint saved at step ${outcome.savedStep} in ${quotePath(out)} was kept`
      : `nothing was written to ${quotePath(out)}`;
  return `${e.message}; ${kept}`;
}

/** The exit code of a finished session: diverged throws (exit 3), Ctrl-C is 130, a lost history 2. */
export function exitCodeOf(r: TrainFileResult, out: string): number {
  if (r.outcome.reason === 'diverged') throw new DivergenceError(divergenceMessage(r.outcome, out), r.outcome.divergence!.step);
  if (r.outcome.reason === 'stopped') return EXIT_INTERRUPTED;
  return r.historyError ? EXIT_USER : EXIT_OK;
}
