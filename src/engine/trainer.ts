import type { TrainConfig } from './config';
import { DataError, DivergenceError } from './errors';
import type { Floats } from './floats';
import type { Kernels } from './kernels';
import type { Model } from './model';
import { createNetwork } from './models/build';
import type { EvalWindow, Network } from './models/family';
import { familyOf } from './models/registry';
import { createOptimizer, type Optimizer } from './optim';
import { Rng, type RngState } from './rng';
import { learningRate } from './schedule';
import { hashTokens, type TokenArray } from './text';

/** Where a run is, so that a saved run resumes bit for bit. */
export interface TrainState {
  /** Updates applied so far. */
  step: number;
  epoch: number;
  /** Index of the next window within the epoch. */
  position: number;
  rng: RngState;
  /** Identifies the training tokens; a resume on other data restarts the epoch. */
  dataHash: string;
  charsSeen: number;
}

export interface StepResult {
  step: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipped: boolean;
  lr: number;
  epoch: number;
  /** Fraction of the current epoch done, in [0, 1). */
  epochProgress: number;
}

export interface EvalResult {
  /** Mean cross-entropy in nats per predicted character. */
  loss: number;
  /** The same in bits. */
  bpc: number;
  chars: number;
}

/** Train/validation split by fraction: the validation set is the held-out tail. */
export function splitTokens<T extends TokenArray>(tokens: T, valFraction: number): { train: T; val: T } {
  const nVal = Math.floor(tokens.length * valFraction);
  return { train: tokens.subarray(0, tokens.length - nVal) as T, val: tokens.subarray(tokens.length - nVal) as T };
}

/**
 * B contiguous streams over the training tokens (char-rnn style): stream b
 * reads from b·L, and window k of an epoch covers [b·L + kT, b·L + (k+1)T)
 * predicting the next character of each.
 */
export function streamLayout(nTokens: number, batch: number, seq: number): { streamLength: number; stepsPerEpoch: number } {
  const streamLength = Math.floor((nTokens - 1) / batch);
  return { streamLength, stepsPerEpoch: Math.floor(streamLength / seq) };
}

export class Trainer {
  /** The model family's network for the training window. */
  readonly graph: Network;
  readonly optimizer: Optimizer;
  readonly stepsPerEpoch: number;
  private readonly streamLength: number;
  private rng: Rng;
  private readonly dataHash: string;
  state: TrainState;

  constructor(
    readonly model: Model,
    readonly config: TrainConfig,
    private readonly train: TokenArray,
    readonly kernels: Kernels,
    rng: Rng,
  ) {
    const { batch: B, seq: T } = config;
    const layout = streamLayout(train.length, B, T);
    if (layout.stepsPerEpoch < 1) {
      throw new DataError(
        `the training text has ${train.length} characters but one batch needs at least ${B * T + 1} ` +
          `(batch ${B} × sequence ${T} + 1): use a longer text or lower the batch size or sequence length`,
      );
    }
    this.streamLength = layout.streamLength;
    this.stepsPerEpoch = layout.stepsPerEpoch;
    this.graph = createNetwork(model.params, { B, T, kernels, dropout: config.dropout });
    this.optimizer = createOptimizer(model.params, config, kernels);
    this.rng = rng;
    this.dataHash = hashTokens(train);
    this.state = { step: 0, epoch: 0, position: 0, rng: rng.getState(), dataHash: this.dataHash, charsSeen: 0 };
  }

  /** The network's carried state, for checkpoints: `train.<name>` (e.g. `train.h_l0`, `train.c_l0`). */
  carriedState(): { name: string; shape: number[]; data: Floats }[] {
    return this.graph.carried.map((c) => ({ name: `train.${c.name}`, shape: [...c.shape], data: c.data }));
  }

  /**
   * Restores a saved run: optimizer moments, counters, RNG and carried state.
   * On different data the epoch restarts from a zero state.
   */
  restore(state: TrainState, tensors: ReadonlyMap<string, ArrayLike<number>>): void {
    this.optimizer.setSteps(state.step);
    for (const [slot, buf] of this.optimizer.slots) {
      for (const t of this.model.params.tensors) {
        const saved = tensors.get(`optim.${slot}.${t.name}`);
        // A tensor of the wrong size (hostile or foreign file) is not applied.
        if (saved && saved.length === t.size) buf.set(saved, t.offset);
      }
    }
    this.rng = Rng.fromState(state.rng);
    const sameData = state.dataHash === this.dataHash && state.position < this.stepsPerEpoch;
    this.state = { ...state, rng: [...state.rng], dataHash: this.dataHash, position: sameData ? state.position : 0 };
    this.graph.resetState();
    if (!sameData) return;
    for (const { name, data } of this.carriedState()) {
      const saved = tensors.get(name);
      if (saved && saved.length === data.length) data.set(saved);
    }
  }

  /** Loads the next window's inputs and targets into the graph. */
  private fillWindow(): void {
    const { graph, config } = this;
    const { batch: B, seq: T } = config;
    const L = this.streamLength;
    const base = this.state.position * T;
    const train = this.train;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const i = b * L + base + t;
        graph.tokens[t * B + b] = train[i]!;
        graph.targets[t * B + b] = train[i + 1]!;
      }
    }
  }

  /**
   * Whether the weights as they are now can be kept: every weight finite and a
   * finite loss on the next window (forward only, dropout off, from the carried
   * state, which stays as it is). Returns that loss, NaN when a weight is not
   * finite. A step's own check sees only the weights before its update; this
   * one sees the update's result, so a checkpoint is never written with weights
   * that already diverged. Changes nothing the next step reads (the RNG is not drawn).
   */
  checkWeights(): number {
    const data = this.model.params.data;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i]! * 0;
    if (sum !== 0) return NaN;
    this.fillWindow();
    return this.graph.forward(null);
  }

  /** One update: forward and backward over the next window, clip, step. */
  step(): StepResult {
    const { graph, config } = this;
    const { batch: B, seq: T } = config;
    this.fillWindow();
    const params = this.model.params;
    params.grad.fill(0);
    const loss = graph.forward(config.dropout > 0 ? this.rng : null);
    graph.backward();
    const gradNorm = this.optimizer.clip(config.clip);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      throw new DivergenceError(
        `training diverged at step ${this.state.step + 1} (loss ${loss}, gradient norm ${gradNorm}): ` +
          `lower the learning rate or set gradient clipping`,
        this.state.step + 1,
      );
    }
    const lr = learningRate(config, this.state.step);
    this.optimizer.step(lr);
    graph.carryState();
    const s = this.state;
    s.step++;
    s.position++;
    s.charsSeen += B * T;
    if (s.position >= this.stepsPerEpoch) {
      s.position = 0;
      s.epoch++;
      graph.resetState();
    }
    this.rng.writeState(s.rng);
    return {
      step: s.step,
      loss,
      gradNorm,
      clipped: config.clip > 0 && gradNorm > config.clip,
      lr,
      epoch: s.epoch,
      epochProgress: s.position / this.stepsPerEpoch,
    };
  }
}

/**
 * Mean loss per predicted character over `tokens` as one continuous stream
 * from a zero state (the validation protocol, and the CLI's `eval`).
 * Tokens outside the vocabulary (< 0, or the unsigned arrays' marker; see
 * TokenArray) are characters the model does not know: they are not scored
 * as targets and are fed as the vocabulary's fallback character as inputs.
 */
export function evaluateStream(model: Model, tokens: TokenArray, kernels: Kernels, chunk = 128): EvalResult {
  const predictions = tokens.length - 1;
  if (predictions < 1) return { loss: NaN, bpc: NaN, chars: 0 };
  const windows = familyOf(model.config.cell).evaluationWindows?.(model.config, predictions);
  if (windows) return evaluateWindows(model, tokens, kernels, windows);
  const T = Math.min(chunk, predictions);
  const graph = createNetwork(model.params, { B: 1, T, kernels });
  graph.resetState();
  const fallback = model.vocab.fallback;
  const V = model.vocab.size;
  let total = 0;
  let scored = 0;
  for (let start = 0; start < predictions; start += T) {
    const n = Math.min(T, predictions - start);
    for (let t = 0; t < T; t++) {
      // A short last chunk is padded with unscored positions after the real ones;
      // an unknown character (< 0) is fed as the fallback, as inference does.
      const input = t < n ? tokens[start + t]! : 0;
      graph.tokens[t] = input < 0 || input >= V ? fallback : input;
      const target = t < n ? tokens[start + t + 1]! : -1;
      graph.targets[t] = target >= V ? -1 : target;
    }
    const loss = graph.forward();
    total += loss * graph.scored;
    scored += graph.scored;
    graph.carryState();
  }
  const loss = scored > 0 ? total / scored : NaN;
  return { loss, bpc: loss / Math.LN2, chars: scored };
}

/** The stream scored window by window from a zero state each (the family's evaluationWindows), each prediction once. */
function evaluateWindows(model: Model, tokens: TokenArray, kernels: Kernels, windows: readonly EvalWindow[]): EvalResult {
  const T = windows.reduce((m, w) => Math.max(m, w.length), 1);
  const graph = createNetwork(model.params, { B: 1, T, kernels });
  const fallback = model.vocab.fallback;
  const V = model.vocab.size;
  let total = 0;
  let scored = 0;
  for (const w of windows) {
    graph.resetState();
    for (let t = 0; t < T; t++) {
      const p = w.start + t;
      // Unknown characters (< 0, or the unsigned arrays' marker >= V) as in evaluateStream.
      const input = t < w.length ? tokens[p]! : 0;
      graph.tokens[t] = input < 0 || input >= V ? fallback : input;
      const target = t < w.length && p >= w.scoreFrom ? tokens[p + 1]! : -1;
      graph.targets[t] = target >= V ? -1 : target;
    }
    const loss = graph.forward();
    total += loss * graph.scored;
    scored += graph.scored;
  }
  const loss = scored > 0 ? total / scored : NaN;
  return { loss, bpc: loss / Math.LN2, chars: scored };
}
