/**
 * The channel between the extension host and an experiment worker (a trainer
 * thread that runs a whole `*.rnnlab.json` through the shared experiment
 * runner, src/shared/experiment/runner.ts): start, stop, and the runner's
 * events. Types only.
 */
import type { ResultRow } from './experiment/results';
import type { ExperimentReview } from './experiment/review';
import type { PartialSettings } from './experiment/settings';
import type { Budget } from './experiment/spec';
import type { Silent } from './rpc';

// ---------------------------------------------------------------- requests (host → worker)

/** Plan the experiment (refusing bad input before anything trains), then train its runs into `out`. */
export interface ExperimentStartRequest {
  kind: 'experiment/start';
  /** The experiment file (absolute path; its text paths are relative to it). */
  file: string;
  /** The output folder, in the CLI's layout (`rnn-lab experiment --out`). */
  out: string;
  /** Continue what `out` holds (finished runs kept, an interrupted one from its checkpoint). */
  resume: boolean;
  /** More than 100 runs were confirmed. */
  yes: boolean;
  maxMemoryBytes: number;
  /** Threads for the training products; 0 = the engine's default. */
  threads: number;
  /** Checkpoint a running run at least this often (seconds). */
  saveSeconds: number;
  /** Train only if the file and its text still have this fingerprint (what the user confirmed in Restricted Mode). */
  fingerprint?: string;
}

/** Plan the experiment as a start would (refusing the same bad input) and say what it would train; writes nothing. */
export interface ExperimentReviewRequest {
  kind: 'experiment/review';
  file: string;
  maxMemoryBytes: number;
}

/** Stop after the current step: the running run is checkpointed so a resume continues it. */
export interface ExperimentStopRequest {
  kind: 'experiment/stop';
}

export type ExperimentRequest = ExperimentStartRequest | ExperimentReviewRequest | ExperimentStopRequest;

export interface PlannedRunInfo {
  id: string;
  origin: string;
  varied: PartialSettings;
  params: number;
}

export interface ExperimentStartResult {
  name: string;
  runs: PlannedRunInfo[];
  rungs: Budget[];
}

export interface ExperimentResults {
  'experiment/start': ExperimentStartResult;
  'experiment/review': ExperimentReview;
  'experiment/stop': null;
}

// ---------------------------------------------------------------- events (worker → host)

/** A line for the output channel (what the CLI prints). */
export interface ExperimentLogEvent {
  kind: 'experiment/log';
  line: string;
}

/** A run (or its next rung) began. */
export interface ExperimentRunStartEvent {
  kind: 'experiment/runStart';
  runId: string;
  title: string;
  startStep: number;
}

/** Training progress of the running run, at most a few per second. */
export interface ExperimentProgressEvent {
  kind: 'experiment/progress';
  runId: string;
  step: number;
  loss: number;
  charsSeen: number;
  /** Training seconds of the run so far (earlier sessions included). */
  seconds: number;
  charsPerSec: number;
}

export interface ExperimentValidationEvent {
  kind: 'experiment/validation';
  runId: string;
  step: number;
  loss: number;
  bpc: number;
}

/** A run finished (its budget, or halving stopped it): its row of results.jsonl. */
export interface ExperimentResultEvent {
  kind: 'experiment/result';
  row: ResultRow;
}

/** The runner returned: every run finished, or it was stopped (interrupted) and can resume. */
export interface ExperimentDoneEvent {
  kind: 'experiment/done';
  interrupted: boolean;
  finished: number;
}

/** The runner failed after it started (a file it could not write, an engine error): the reason in one line. */
export interface ExperimentFailedEvent {
  kind: 'experiment/failed';
  reason: string;
}

export type ExperimentEvent =
  | ExperimentLogEvent
  | ExperimentRunStartEvent
  | ExperimentProgressEvent
  | ExperimentValidationEvent
  | ExperimentResultEvent
  | ExperimentDoneEvent
  | ExperimentFailedEvent;

// ---------------------------------------------------------------- the channel

export interface HostToExperiment {
  requests: ExperimentRequest;
  results: ExperimentResults;
  notifications: never;
}

export interface ExperimentToHost {
  requests: never;
  results: Silent['results'];
  notifications: ExperimentEvent;
}
