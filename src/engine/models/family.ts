/**
 * The extension point of the engine: a model family. Everything outside a
 * family's own folder (trainer, evaluation, sampling, checkpoints,
 * instrumentation, memory estimates, the front ends) reaches a model only
 * through these interfaces, so a new family is its folder, its wasm kernels,
 * and a line in catalog.ts (what it is: pure, also for the extension host)
 * and in registry.ts (how it builds networks).
 */
import type { ModelConfig, TrainConfig } from '../config';
import type { Floats } from '../floats';
import type { Kernels } from '../kernels';
import type { Params } from '../params';
import type { Rng } from '../rng';
import type { StepThroughCell } from './stepThrough';

/** How a parameter tensor starts (drawn from the one seeded generator, tensor by tensor in declaration order). */
export type TensorInit =
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'constant'; readonly value: number };

/** One parameter tensor: its PyTorch state_dict name, shape and initialisation. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: TensorInit;
  /**
   * Whether the optimizer's weight decay applies to it (absent: it does, as
   * for every tensor of the cells; the block families decay 2-D tensors only,
   * as nanoGPT's configure_optimizers).
   */
  readonly decay?: boolean;
}

/**
 * The settings of families beyond hidden/layers, as optional fields of every
 * ModelConfig (so configs stay flat JSON, as 0.1.0 wrote them). A family
 * adds its own from its folder by augmentation:
 *
 *     declare module '../family' { interface FamilySettings { heads?: number } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FamilySettings {}

/** A setting of the family beyond hidden/layers, validated by validateModelConfig (absent: its default). */
export type FamilySetting =
  | { readonly name: Extract<keyof ModelConfig, string>; readonly help: string; readonly choices: readonly string[]; readonly default: string }
  | {
      readonly name: Extract<keyof ModelConfig, string>;
      readonly help: string;
      readonly min: number;
      readonly max: number;
      readonly integer: boolean;
      /** Undefined: the setting stays absent unless given (its meaning then comes from elsewhere, e.g. gpt's context from --seq). */
      readonly default: number | undefined;
    };

/** A tensor the network carries from one window to the next: checkpoints store it as `train.<name>`. */
export interface CarriedTensor {
  /** e.g. `h_l0`, `c_l0` (0.1.0's names). */
  readonly name: string;
  readonly shape: readonly number[];
  /** A view of the network's buffer: reading it reads the carried-in state, writing it sets it. */
  readonly data: Floats;
}

/** A per-character quantity the Hidden States panel can show, per layer. */
export interface QuantitySpec {
  /** Short name (h, c, i, f, …), unique within the family. */
  readonly name: string;
  readonly label: string;
  /** Values per character and layer. */
  readonly width: number;
}

/** Per-step gradient statistics, filled by a backward pass run with `record` set. */
export interface GradientRecord {
  /** [tap][t]: ‖∂E/∂h_t‖ over the batch (for the cells: including what flows back through time). */
  readonly hGradNorm: Float64Array[];
  /** [tap][t]: the size of step t's term in the recurrent weight's gradient (‖δ_t‖·‖h_{t-1}‖ for the cells). */
  readonly wContribution: Float64Array[];
}

/** Sizes a network is built for. */
export interface NetworkShape {
  /** Parallel streams. */
  readonly B: number;
  /** Steps per window. */
  readonly T: number;
  readonly kernels: Kernels;
  /** Dropout probability where the family puts it, training only. */
  readonly dropout?: number;
}

/**
 * A model unrolled over one window of T steps and B streams, every buffer
 * allocated once for its shape, so a training step allocates nothing. Row r
 * of tokens, targets and probs is (t = ⌊r/B⌋, b = r mod B).
 */
export interface Network {
  readonly params: Params;
  readonly B: number;
  readonly T: number;
  /** The kernels the products run on (an arena of the given kernels, when the network has one). */
  readonly kernels: Kernels;
  /** [T·B] input tokens and targets; a target < 0 is not scored. */
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V]: probabilities after forward, then ∂E/∂logits after backward. */
  readonly probs: Floats;
  /** Scored targets in the last forward. */
  readonly scored: number;
  /** Set before a backward pass to collect per-step gradient statistics (`gradientTaps` rows). */
  record: GradientRecord | null;
  /** Rows of a GradientRecord for this network (layers, blocks). */
  readonly gradientTaps: number;
  /** Runs the window forward; returns the mean cross-entropy (nats) over the scored targets. `rng` given means training mode (dropout on). */
  forward(rng?: Rng | null): number;
  /** Adds ∂(mean loss)/∂θ of the last forward into params.grad (the caller zeroes it when a step starts). */
  backward(): void;
  /** Sets the carried-in state to its start (zero). */
  resetState(): void;
  /** Makes the state at the end of the window the carried-in state of the next (truncated BPTT). */
  carryState(): void;
  /** The carried-in state (empty for a family that carries nothing), in a fixed order. */
  readonly carried: readonly CarriedTensor[];
  /**
   * Copies quantity `name` of layer `layer` after the last forward for
   * stream `b` into out[t·width + j], t = 0..T-1 (see Family.quantities).
   */
  readQuantity(name: string, layer: number, b: number, out: Float32Array): void;
  /**
   * For a family with attention (FamilyInfo.attentionHeads): head `head` of
   * layer `layer`'s weights after the last forward for stream `b`,
   * out[t·T + s] = how much position t attends to s (0 for s > t).
   */
  readAttention?(layer: number, b: number, head: number, out: Float32Array): void;
}

/**
 * What a model family is: its settings, parameters, state, quantities and
 * costs. Pure shape arithmetic, so the extension host can describe and size a
 * model without holding any numeric code.
 */
export interface FamilyInfo {
  /** The `cell` value of a ModelConfig (`--cell`). */
  readonly name: string;
  /** Recurrent cells stacked as in PyTorch (one-hot input, decoder), or residual blocks (DESIGN §2b). */
  readonly kind: 'cells' | 'blocks';
  /** Shown in pickers and messages, e.g. "LSTM". */
  readonly title: string;
  /** One line for a picker, e.g. "Long short-term memory (PyTorch nn.LSTM)". */
  readonly description: string;
  /** Settings beyond hidden/layers, validated by validateModelConfig. */
  readonly settings: readonly FamilySetting[];
  /** "LSTM", "RNN (relu)": the model's kind with the settings that matter. */
  label(c: ModelConfig): string;
  /** Every parameter tensor, in checkpoint order. */
  tensors(c: ModelConfig): TensorSpec[];
  /** Names and shapes of the carried state for B streams (what `Network.carried` will hold). */
  carries(c: ModelConfig, B: number): { name: string; shape: number[] }[];
  /** What the Hidden States panel can show, per layer, in the order it offers them. */
  quantities(c: ModelConfig): QuantitySpec[];
  /**
   * Attention heads per layer whose weights the Hidden States panel shows
   * (Network.readAttention); absent: the family has no attention.
   */
  attentionHeads?(c: ModelConfig): number;
  /**
   * The rows of a GradientRecord, labelled for the Gradient Flow panel: where
   * ‖∂E/∂h_t‖ is read (each layer's h for the cells; each block's residual
   * stream for the block models). Network.gradientTaps is their number.
   */
  gradientTaps(c: ModelConfig): string[];
  /** Bytes of a training network's buffers (activations, gradients, scratch; not the parameters). */
  networkBytes(c: ModelConfig, t: Pick<TrainConfig, 'batch' | 'seq'> & { dropout?: number }): number;
  /** Floating-point operations of one character's forward and backward pass (matrix products only). */
  flopsPerChar(c: ModelConfig): number;
  /**
   * The config for training windows of `seq` steps: settings whose default
   * comes from the window filled in (gpt's context), and the settings checked
   * against each other and the window (a ConfigError with a one-line message
   * naming the CLI flags). Absent: the config as it is.
   */
  forWindow?<C extends Omit<ModelConfig, 'vocabSize'>>(c: C, seq: number): C;
  /**
   * Training defaults a user of this family expects, in place of the settings
   * table's defaults for the settings a fresh run leaves out (see resolve.ts).
   */
  readonly trainDefaults?: Partial<TrainConfig>;
  /** The longest window a network of this model can take (gpt: its context); absent: any. */
  maxWindow?(c: ModelConfig): number;
  /** Checkpoint tensors written besides the parameters, each equal to the parameter it names (a tied weight's second name); a loader ignores them. */
  readonly tiedAliases?: Readonly<Record<string, string>>;
  /** What to say, after the estimate, when a run needs more memory than allowed (default: use a smaller model, batch or sequence). */
  memoryAdvice?(c: ModelConfig, t: Pick<TrainConfig, 'batch' | 'seq' | 'dropout'>, neededBytes: number): string;
}

/**
 * A model run one token at a time (sampling, completions): feed tokens, read
 * the next token's distribution; its state can be saved and restored (one
 * cache per document).
 */
export interface TokenStepper {
  /** [V]: the distribution of the next token after the last feed. */
  readonly probs: Floats;
  reset(): void;
  feed(token: number): void;
  saveState(): Float32Array;
  loadState(state: Float32Array): void;
}

/** One evaluation window: positions [start, start + length) of the stream, of which [scoreFrom, start + length) are scored. */
export interface EvalWindow {
  readonly start: number;
  readonly length: number;
  readonly scoreFrom: number;
}

/** A model family with its networks. */
export interface Family extends FamilyInfo {
  createNetwork(params: Params, shape: NetworkShape): Network;
  /** Absent: a network of one step and one stream, carrying its state from token to token. */
  createStepper?(params: Params, kernels: Kernels): TokenStepper;
  /**
   * How `predictions` next-token predictions of one stream are scored, for a
   * family that does not read a stream from a carried state (gpt: windows of
   * its context). Absent: one stream, carried state, from zero.
   */
  evaluationWindows?(c: ModelConfig, predictions: number): EvalWindow[];
  /** Its cell for the backpropagation-through-time step-through (engine/bptt.ts); absent: the family has none. */
  stepThrough?(c: ModelConfig): StepThroughCell;
}
