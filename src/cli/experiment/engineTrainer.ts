/** The experiments' RunTrainer (src/shared/experiment/engineTrainer.ts) over the engine, with the CLI's file operations. */
import { Vocab, evaluateStream, splitTokens, startRun, streamLayout } from '../../engine';
import type { RunEngine } from '../../shared/experiment/engineApi';
import { EngineTrainer as SharedEngineTrainer, type EngineTrainerOptions } from '../../shared/experiment/engineTrainer';
import { loadCheckpoint } from '../checkpointFile';
import { cliFiles } from '../loop';

export { engineSizes, runInput, sessionBudget, type EngineTrainerOptions } from '../../shared/experiment/engineTrainer';

export const cliEngine: RunEngine = { startRun, loadCheckpoint: (file) => loadCheckpoint(file), Vocab, splitTokens, streamLayout, evaluateStream };

export class EngineTrainer extends SharedEngineTrainer {
  constructor(opts: EngineTrainerOptions = {}) {
    super(cliEngine, cliFiles, opts);
  }
}
