/**
 * The channel between the extension host and the inference worker, which
 * holds the weights of the models in use and does every piece of engine work
 * the host needs: completions, samples, traces, decoding and checking an
 * imported checkpoint, and the kernel benchmark behind the time estimates.
 * Each message a discriminated union on `kind` (noun/verb), carried by the
 * Rpc class (src/shared/rpc.ts), which adds request ids, responses and
 * cancellation (a cancelled `infer/complete` or `infer/sample` stops within a
 * character).
 *
 * Types only: the host, the worker and the tests import this file.
 */
import type { Activation, CellType } from '../engine/config';
import type { Silent } from './rpc';
import type { StepThroughView } from './stepThroughProtocol';

// ---------------------------------------------------------------- requests (host → worker)

/** Load (or replace) the weights the worker uses for a model. */
export interface InferLoadRequest {
  kind: 'infer/load';
  modelId: string;
  checkpoint: Uint8Array;
}

export interface InferUnloadRequest {
  kind: 'infer/unload';
  modelId: string;
}

/**
 * Continue `prefix`; the worker caches the state per `docKey` so a growing
 * prefix costs only its new characters. Cancellable: a cancelled request
 * answers with what it generated so far.
 */
export interface InferCompleteRequest {
  kind: 'infer/complete';
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

/**
 * Generate free text, streamed as `infer/chunk` events tagged with
 * `streamId` (chosen by the host). Cancellable: a cancelled sample answers
 * with the text so far.
 */
export interface InferSampleRequest {
  kind: 'infer/sample';
  modelId: string;
  streamId: number;
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/**
 * Run `text` through a loaded model from a zero state and record every
 * layer's hidden state and gates per character (engine `traceHiddenStates`).
 * The host caps the text (the hidden-states view sends at most a few thousand characters).
 */
export interface InferTraceRequest {
  kind: 'infer/trace';
  modelId: string;
  text: string;
}

/**
 * Step through backpropagation through time on `text` (a gradient-flow
 * snapshot's window) with the model's loaded weights, with the chain of the
 * error e_τ at step `errorAt` (engine `stepThroughView`).
 */
export interface InferStepThroughRequest {
  kind: 'infer/stepThrough';
  modelId: string;
  text: string;
  errorAt: number;
}

/**
 * Decode and check a checkpoint from outside (an import) with the engine's
 * hostile-file checks, off the host thread; answers what the model library
 * records of it.
 */
export interface CheckpointInspectRequest {
  kind: 'checkpoint/inspect';
  bytes: Uint8Array;
}

/** Measure this machine's matrix-product speed with the kernels training uses (about 50 ms). */
export interface KernelsBenchmarkRequest {
  kind: 'kernels/benchmark';
}

export type InferenceRequest =
  | InferLoadRequest
  | InferUnloadRequest
  | InferCompleteRequest
  | InferSampleRequest
  | InferTraceRequest
  | InferStepThroughRequest
  | CheckpointInspectRequest
  | KernelsBenchmarkRequest;

// ---------------------------------------------------------------- results

export interface InferLoadResult {
  vocabSize: number;
}

export interface InferCompleteResult {
  completions: string[];
  /** Characters fed to bring the cached state up to date (0 when fully cached). */
  fed: number;
  /** The request was cancelled: `completions` hold what was generated until then. */
  cancelled: boolean;
}

export interface InferSampleResult {
  text: string;
}

/** One layer of a trace: [T, H] arrays laid out t * H + j. */
export interface InferTraceLayer {
  h: Float32Array;
  /** The cell state, for a family that has one. */
  c?: Float32Array;
  /** The family's other quantities in its order (i/f/g/o for the LSTM, r/z/n for the GRU), each [T, H]. */
  gates: Record<string, Float32Array>;
}

export interface InferTraceResult {
  cell: CellType;
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
  /** For a family with attention: heads per layer and [layer][head][t·T + s], how much position t attends to s. */
  attention?: { heads: number; weights: Float32Array[][] };
}

/** What the model library records of a checkpoint that passed the decoder's checks. */
export interface CheckpointSummary {
  cell: CellType;
  activation: Activation;
  hidden: number;
  layers: number;
  vocabSize: number;
  params: number;
  /** Training steps it has seen (0 without a train state). */
  steps: number;
  /** The name stored in its metadata, capped (absent when it has none). */
  name?: string;
}

export interface KernelsBenchmarkResult {
  /** Sustained GFLOP/s of training, overheads included, on 1 thread and (two cores or more) 2 threads. */
  gflops: number[];
}

export interface InferenceResults {
  'infer/load': InferLoadResult;
  'infer/unload': null;
  'infer/complete': InferCompleteResult;
  'infer/sample': InferSampleResult;
  'infer/trace': InferTraceResult;
  'infer/stepThrough': StepThroughView;
  'checkpoint/inspect': CheckpointSummary;
  'kernels/benchmark': KernelsBenchmarkResult;
}

// ---------------------------------------------------------------- events (worker → host)

/** A piece of an `infer/sample` stream, in order. */
export interface InferChunkEvent {
  kind: 'infer/chunk';
  streamId: number;
  text: string;
}

export type InferenceEvent = InferChunkEvent;

// ---------------------------------------------------------------- the channel

/** What the host sends the inference worker. */
export interface HostToInference {
  requests: InferenceRequest;
  results: InferenceResults;
  notifications: never;
}

/** What the inference worker sends the host: events only. */
export interface InferenceToHost {
  requests: never;
  results: Silent['results'];
  notifications: InferenceEvent;
}
