/** The runner's view of training lives in src/shared/experiment/trainer.ts (the extension's worker uses it too). */
export type { CorpusFacts, RunTrainer, TrainOutcome, TrainRequest } from '../../shared/experiment/trainer';
