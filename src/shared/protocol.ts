/**
 * Every message between the extension host and its worker threads, as one
 * discriminated union on `kind` (noun/verb). Requests carry an `id` and get
 * exactly one `response`; events carry none.
 *
 * Types only: host, workers, webviews and the CLI all import this file.
 */
import type { ModelConfig, TrainConfig } from '../engine/config';
import type { GradFlowSnapshot } from './webviewProtocol';

// ---------------------------------------------------------------- requests

/** Start (or resume, with `init`) a training run in a trainer worker. */
export interface TrainStartRequest {
  kind: 'train/start';
  id: number;
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

export interface TrainControlRequest {
  kind: 'train/pause' | 'train/resume' | 'train/stop';
  id: number;
  runId: string;
}

/** Load (or replace) the weights an inference worker uses for a model. */
export interface InferLoadRequest {
  kind: 'infer/load';
  id: number;
  modelId: string;
  checkpoint: Uint8Array;
}

export interface InferUnloadRequest {
  kind: 'infer/unload';
  id: number;
  modelId: string;
}

/** Continue `prefix`; the worker caches the state per `docKey` so a growing prefix costs only its new characters. */
export interface InferCompleteRequest {
  kind: 'infer/complete';
  id: number;
  modelId: string;
  docKey: string;
  prefix: string;
  maxLength: number;
  temperature: number;
  /** Generation ends after any of these (the stop string itself is dropped). */
  stop: string[];
  /** Number of alternatives (distinct seeds). */
  count: number;
  seed: number;
}

/** Generate free text, streamed as `infer/chunk` events tagged with this request's id. */
export interface InferSampleRequest {
  kind: 'infer/sample';
  id: number;
  modelId: string;
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface InferCancelRequest {
  kind: 'infer/cancel';
  id: number;
  /** The id of the request to cancel. */
  target: number;
}

/**
 * Run `text` through a loaded model from a zero state and record every
 * layer's hidden state and gates per character (engine `traceHiddenStates`).
 * The host caps the text (the hidden-states view sends at most a few thousand characters).
 */
export interface InferTraceRequest {
  kind: 'infer/trace';
  id: number;
  modelId: string;
  text: string;
}

export type HostRequest =
  | TrainStartRequest
  | TrainControlRequest
  | InferLoadRequest
  | InferUnloadRequest
  | InferCompleteRequest
  | InferSampleRequest
  | InferCancelRequest
  | InferTraceRequest;

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
}

export interface InferCompleteResult {
  completions: string[];
  /** Characters fed to bring the cached state up to date (0 when fully cached). */
  fed: number;
}

export interface InferSampleResult {
  text: string;
}

/** One layer of a trace: [T, H] arrays laid out t * H + j. */
export interface InferTraceLayer {
  h: Float32Array;
  /** LSTM cell state. */
  c?: Float32Array;
  /** i/f/g/o (LSTM) or r/z/n (GRU), each [T, H]. */
  gates: Record<string, Float32Array>;
}

export interface InferTraceResult {
  cell: 'rnn' | 'lstm' | 'gru';
  hidden: number;
  /** The text as code points, one per traced position. */
  chars: string[];
  /** The model's vocabulary in index order (the columns of nextProbs). */
  vocab: string[];
  /** Positions whose character the model does not know. */
  unknown: number[];
  layers: InferTraceLayer[];
  /** [T, V]: the distribution of the next character after each position. */
  nextProbs: Float32Array;
  /** [T]: surprisal in bits of the character that follows (NaN when unknown / last). */
  surprisalBits: Float32Array;
}

export interface ResultOf {
  'train/start': TrainStartResult;
  'train/pause': null;
  'train/resume': null;
  'train/stop': null;
  'infer/load': { vocabSize: number };
  'infer/unload': null;
  'infer/complete': InferCompleteResult;
  'infer/sample': InferSampleResult;
  'infer/cancel': null;
  'infer/trace': InferTraceResult;
}

// ---------------------------------------------------------------- events

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

export interface InferChunkEvent {
  kind: 'infer/chunk';
  /** The id of the infer/sample request. */
  requestId: number;
  text: string;
}

export interface ResponseMessage {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export type WorkerEvent = TrainProgressEvent | TrainValidationEvent | TrainCheckpointEvent | TrainStateEvent | TrainGradflowEvent | InferChunkEvent;
export type WorkerMessage = WorkerEvent | ResponseMessage;

/** Compile-time exhaustiveness for every `switch (msg.kind)`. */
export function assertNever(x: never, what = 'message'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
