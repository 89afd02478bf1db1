/**
 * What the experiment runner needs from training, and nothing more: train one
 * run, fresh or from its checkpoint, until a cumulative budget; say what a run
 * would cost before anything trains. The runner depends only on this
 * interface; engineTrainer.ts implements it over the run module (for the CLI
 * and the extension's experiment worker alike).
 */
import type { Budget } from './spec';
import type { FamilySizes } from './expand';
import type { RunSettings } from './settings';
import type { RunReporter } from './reporter';

export interface TrainRequest {
  id: string;
  settings: RunSettings;
  /** The experiment's whole text; every run splits it the same way. */
  text: string;
  valFraction: number;
  /** Train until the run has seen this much in all (steps, characters or training minutes), counting earlier rungs and resumes. */
  until: Budget;
  /** Continue exactly where this checkpoint stopped; null starts the run fresh. */
  checkpointIn: string | null;
  /** Where the checkpoint is written (periodically and at the end); its history goes beside it (historyPathFor). */
  out: string;
  /** Also save every this many steps (0: only at the end). */
  saveEvery: number;
  /** And at least this often, in seconds of wall time (Infinity: never by time). */
  saveSeconds: number;
  /** Also validate every this many steps for the curves (0: only at the end). */
  valEvery: number;
  maxMemoryBytes: number;
  /** Polled between steps: true stops the run cleanly (its checkpoint saved). */
  shouldStop: () => boolean;
  reporter: RunReporter;
  /** Header line of the progress output. */
  title: string;
}

export interface TrainOutcome {
  /** Totals of the run so far (all rungs and resumes). */
  steps: number;
  chars: number;
  /** Training seconds, validation excluded. */
  seconds: number;
  charsPerSec: number;
  /** On the held-out tail at the end of this call; null without a validation set. */
  valLoss: number | null;
  valBpc: number | null;
  params: number;
  /** The run stopped because shouldStop() said so, before reaching `until`. */
  interrupted: boolean;
  /** The step at which the loss became NaN or infinite (the run ends there; `out` keeps its last checkpoint, if any); null if it did not. */
  diverged: number | null;
  /** `out` holds a checkpoint of the run (false only when it diverged before its first save). */
  saved: boolean;
}

export interface CorpusFacts {
  vocabSize: number;
  /** Characters of the training part (before the validation tail). */
  trainChars: number;
  valChars: number;
}

export interface RunTrainer {
  /** Parameter counts and widths of the families it can train (for matchParams and the table). */
  readonly sizes: FamilySizes;
  /** Families it can train. */
  readonly families: readonly string[];
  /** Facts about the text as every run will see it. */
  corpus(text: string, valFraction: number): CorpusFacts;
  /** A one-line reason this run cannot train (its settings, memory, text too short), or null. Called for every run before any trains. */
  refusal(settings: RunSettings, corpus: CorpusFacts, maxMemoryBytes: number): string | null;
  train(req: TrainRequest): Promise<TrainOutcome>;
}
