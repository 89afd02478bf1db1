/**
 * The channel between the extension host and a trainer worker: the host's
 * requests (start a run, pause, resume, stop) and the worker's events
 * (progress, validation, checkpoints, state, gradient-flow snapshots), each a
 * discriminated union on `kind` (noun/verb), carried by the Rpc class
 * (src/shared/rpc.ts), which adds the request ids and the responses.
 *
 * Types only: the host, the worker and the tests import this file.
 */
import type { ModelConfig, TrainConfig } from '../engine/config';
import type { Silent } from './rpc';
import type { GradFlowSnapshot } from './gradFlowProtocol';

// ---------------------------------------------------------------- requests (host → worker)

/** Start (or resume, with `init`) a training run in a trainer worker. */
export interface TrainStartRequest {
  kind: 'train/start';
  runId: string;
  /** The training text (unsaved editor edits included). */
  text: string;
  model: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  /** A checkpoint to continue from exactly (its config wins over `model`/`train`). */
  init?: Uint8Array;
  /** Stop after this many updates in total (0 = no limit). */
  maxSteps: number;
  /** Stop after this many minutes of this session's training (0 = no limit). */
  maxMinutes: number;
  /** Validate every this many steps (0 = only at the end). */
  valEvery: number;
  /** Send a checkpoint at least this often. */
  checkpointSeconds: number;
  /** Refuse models whose training buffers would exceed this. */
  maxMemoryBytes: number;
  /** Threads for the training products (rnnLab.training.threads); 0 or absent = the engine's default. */
  threads?: number;
  /** Extra metadata written into every checkpoint (e.g. the source files). */
  metadata: Record<string, string>;
  /** Gradient-flow snapshot every this many steps (also after 10 s); 0 = none; default 50. */
  gradflowEvery?: number;
  /** Stop after this many training characters in this session (0 or absent = no limit). */
  maxChars?: number;
  /** Also send a checkpoint every this many steps (0 or absent = by time only). */
  saveEvery?: number;
  /** On resume: stretch a linear/cosine decay to end at maxSteps (engine/run/resolve.ts). */
  extendSchedule?: boolean;
  /** Training seconds of the run's earlier sessions (from its history), so progress `seconds` counts on. */
  secondsBefore?: number;
}

/** Pause, resume or stop the run `runId`. */
export interface TrainControlRequest {
  kind: 'train/pause' | 'train/resume' | 'train/stop';
  runId: string;
}

export type TrainerRequest = TrainStartRequest | TrainControlRequest;

// ---------------------------------------------------------------- results

export interface TrainStartResult {
  params: number;
  vocabSize: number;
  memoryBytes: number;
  stepsPerEpoch: number;
  /** Step the run starts from (non-zero when resumed). */
  startStep: number;
  /** What the settings resolver decided that the user should hear (one line each). */
  notes?: string[];
  /** What the products run on (describeKernels): "native (avx512), 2 threads". */
  kernels?: string;
}

export interface TrainerResults {
  'train/start': TrainStartResult;
  'train/pause': null;
  'train/resume': null;
  'train/stop': null;
}

// ---------------------------------------------------------------- events (worker → host)

export interface TrainProgressEvent {
  kind: 'train/progress';
  runId: string;
  step: number;
  epoch: number;
  epochProgress: number;
  loss: number;
  gradNorm: number;
  clipped: boolean;
  lr: number;
  charsPerSec: number;
  charsSeen: number;
  /** Training seconds since the run began (earlier sessions included). */
  seconds?: number;
}

export interface TrainValidationEvent {
  kind: 'train/validation';
  runId: string;
  step: number;
  loss: number;
  bpc: number;
  /** Characters scored (periodic validations read at most 20,000). */
  chars?: number;
}

/** A full checkpoint (weights, optimizer, train state); the host saves it atomically. */
export interface TrainCheckpointEvent {
  kind: 'train/checkpoint';
  runId: string;
  step: number;
  bytes: Uint8Array;
  final: boolean;
}

export type RunState = 'queued' | 'training' | 'paused' | 'done' | 'stopped' | 'failed';

export interface TrainStateEvent {
  kind: 'train/state';
  runId: string;
  state: RunState;
  /** Why a run failed, in words for the user. */
  reason?: string;
}

/**
 * A gradient-flow snapshot of the current batch's first stream (at most 64
 * steps), taken every `gradflowEvery` steps or 10 s, its cost bounded.
 */
export interface TrainGradflowEvent extends GradFlowSnapshot {
  kind: 'train/gradflow';
  runId: string;
}

export type TrainerEvent = TrainProgressEvent | TrainValidationEvent | TrainCheckpointEvent | TrainStateEvent | TrainGradflowEvent;

// ---------------------------------------------------------------- the channel

/** What the host sends a trainer worker. */
export interface HostToTrainer {
  requests: TrainerRequest;
  results: TrainerResults;
  notifications: never;
}

/** What a trainer worker sends the host: events only. */
export interface TrainerToHost {
  requests: never;
  results: Silent['results'];
  notifications: TrainerEvent;
}
