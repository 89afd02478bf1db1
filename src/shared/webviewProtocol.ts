/**
 * Messages between the extension host and its webview panels, as
 * discriminated unions on `kind` (noun/verb, like src/shared/protocol.ts).
 *
 * Types only: the host (src/extension/panels) and the webview bundles
 * (webview/**) both import this file. Every message that comes FROM a webview
 * is untrusted input: the host checks it with src/extension/panels/validate.ts
 * before it acts on it. The webview checks what the host sends as well (a
 * cheap guard against a protocol mismatch after an update).
 */
import type { GradFlowWindow } from '../engine/gradflowSnapshot';

// ---------------------------------------------------------------- loss panel

/** What the loss panel shows of a model in its legend and settings table. */
export interface LossModelInfo {
  id: string;
  name: string;
  cell: string;
  hidden: number;
  layers: number;
  params: number;
  vocabSize: number;
  state: string;
  steps: number;
  /** Optimizer, learning rate, batch × seq, as trained (absent for imported models). */
  optimizer?: string;
  lr?: number;
  batch?: number;
  seq?: number;
  bestValLoss: number | null;
}

/**
 * Points of one model's run as parallel arrays (one entry per progress event),
 * never an object per point: compact to post and cheap to append.
 */
export interface LossSeriesChunk {
  step: number[];
  /** Fractional epoch: epoch + epochProgress. */
  epoch: number[];
  /** Characters seen so far. */
  chars: number[];
  /** Training loss in nats per character. */
  loss: number[];
  lr: number[];
  charsPerSec: number[];
}

/** Validation results as parallel arrays (loss in nats per character). */
export interface LossValidationChunk {
  step: number[];
  loss: number[];
}

/** Host → webview: the models that can be shown, and which ones are. */
export interface LossInitMessage {
  kind: 'loss/init';
  /** Every model in the library (for the compare picker). */
  models: LossModelInfo[];
  /** The model this panel belongs to. */
  primary: string;
  /** Models overlaid for comparison. */
  compare: string[];
}

/** Host → webview: the library changed (names, states, steps). */
export interface LossModelsMessage {
  kind: 'loss/models';
  models: LossModelInfo[];
}

/**
 * Host → webview: points of one model. With `reset` the chunk is the whole
 * history (opened late, restored, or the host thinned its history); without,
 * the chunk holds only the points since the previous message.
 */
export interface LossDataMessage {
  kind: 'loss/data';
  modelId: string;
  reset: boolean;
  progress: LossSeriesChunk;
  validation: LossValidationChunk;
}

/** Host → webview: a model is no longer overlaid (or was deleted). */
export interface LossRemoveMessage {
  kind: 'loss/remove';
  modelId: string;
}

export type LossHostMessage = LossInitMessage | LossModelsMessage | LossDataMessage | LossRemoveMessage;

/** Webview → host: the page has loaded (or reloaded) and wants everything. */
export interface PanelReadyMessage {
  kind: 'panel/ready';
}

/** Webview → host: something went wrong in the page (e.g. a malformed message); the host logs it. */
export interface PanelErrorMessage {
  kind: 'panel/error';
  message: string;
}

/** Webview → host: overlay these models (the primary model is always shown). */
export interface LossCompareMessage {
  kind: 'loss/compare';
  modelIds: string[];
}

/** Webview → host: save the chart as PNG (a data: URL from canvas.toDataURL) or the data as CSV. */
export interface PanelExportMessage {
  kind: 'panel/export';
  format: 'png' | 'csv';
  /** Suggested file name without folder, e.g. "loss.png". */
  fileName: string;
  /** `data:image/png;base64,...` for png, the CSV text for csv. */
  data: string;
}

export type LossWebviewMessage = PanelReadyMessage | PanelErrorMessage | LossCompareMessage | PanelExportMessage;

/** What the loss webview keeps with vscode.setState; the serializer restores the panel from it. */
export interface LossPanelState {
  modelId: string;
  compare?: string[];
  units?: 'nats' | 'bits';
  x?: 'step' | 'epoch' | 'chars';
  yScale?: 'linear' | 'logarithmic';
  smoothing?: number;
  showRaw?: boolean;
  tab?: number;
}

// ---------------------------------------------------------------- gradient-flow panel

/**
 * One gradient-flow snapshot taken during training (or by `rnn-lab report`):
 * a window of the training text traced with traceGradientFlow, plus the
 * training step's own gradient norms. Plain number arrays (JSON-ready). The
 * window's fields (text, T, loss, the norms by step and by traced error) are
 * declared once, in the engine's GradFlowWindow.
 */
export interface GradFlowSnapshot extends GradFlowWindow {
  step: number;
  /** Global gradient norm of the training step, before and after clipping. */
  gradNorm: number;
  clippedNorm: number;
  clipped: boolean;
  /** The clipping threshold (0 = off). */
  clip: number;
  /** Per-parameter gradient norms of the training step (before clipping), by state_dict name. */
  paramGradNorms: Record<string, number>;
}

export interface GradFlowModelInfo {
  id: string;
  name: string;
  cell: string;
  hidden: number;
  layers: number;
}

/** Host → webview: the models (for the compare picker), whose panel this is, and the compared model. */
export interface GradFlowInitMessage {
  kind: 'gradflow/init';
  models: GradFlowModelInfo[];
  primary: string;
  compare: string | null;
}

/** Host → webview: the library changed. */
export interface GradFlowModelsMessage {
  kind: 'gradflow/models';
  models: GradFlowModelInfo[];
}

/** Host → webview: snapshots of a model; with `reset` they replace what the page has. */
export interface GradFlowDataMessage {
  kind: 'gradflow/data';
  modelId: string;
  reset: boolean;
  snapshots: GradFlowSnapshot[];
}

export type GradFlowHostMessage = GradFlowInitMessage | GradFlowModelsMessage | GradFlowDataMessage;

/** Webview → host: compare with this model (null: none). */
export interface GradFlowCompareMessage {
  kind: 'gradflow/compare';
  modelId: string | null;
}

export type GradFlowWebviewMessage = PanelReadyMessage | PanelErrorMessage | GradFlowCompareMessage;

/** What the gradient-flow webview keeps with vscode.setState. */
export interface GradFlowPanelState {
  modelId: string;
  compare?: string | null;
  layer?: number;
  errorAt?: number | null;
  /** Index of the shown snapshot; null follows the newest. */
  snapshot?: number | null;
}

// ---------------------------------------------------------------- hidden-states view

/** Quantities a trace holds per layer: h always; c and i/f/g/o for LSTM; r/z/n for GRU. */
export type HiddenQuantity = 'h' | 'c' | 'i' | 'f' | 'g' | 'o' | 'r' | 'z' | 'n';
export const HIDDEN_QUANTITIES: readonly HiddenQuantity[] = ['h', 'c', 'i', 'f', 'g', 'o', 'r', 'z', 'n'];

/**
 * Host → webview: a new trace of the text around the cursor (or the
 * selection). Per position arrays only; the [T, H] matrices follow one at a
 * time as `hidden/matrix` when the page asks for a layer and quantity.
 */
export interface HiddenTraceMessage {
  kind: 'hidden/trace';
  /** Increases with every trace; matrices name the trace they belong to. */
  seq: number;
  modelId: string;
  modelName: string;
  /** The model family (a ModelConfig's `cell`). */
  cell: string;
  layers: number;
  hidden: number;
  /** Which quantities each layer has (the same for every layer). */
  quantities: HiddenQuantity[];
  /** File name (no folder) and the 1-based first line of the traced text. */
  source: string;
  firstLine: number;
  /** The traced text as code points (T of them). */
  chars: string[];
  /** Characters in the selection / lines before capping; > chars.length when capped. */
  totalChars: number;
  /** Positions whose character the model does not know. */
  unknown: number[];
  /** [T]: surprisal in bits of the character that follows; null for the last / unknown ones. */
  surprisal: (number | null)[];
  /** Top-K next characters per position: [T * K] vocabulary characters and probabilities, most likely first. */
  topK: number;
  topChars: string[];
  topProbs: number[];
}

/** Host → webview: one [T, H] matrix (values[t * H + j]) of the trace `seq`. */
export interface HiddenMatrixMessage {
  kind: 'hidden/matrix';
  seq: number;
  layer: number;
  quantity: HiddenQuantity;
  values: number[];
}

/** Host → webview: nothing to trace (and why), or a trace is on its way. */
export interface HiddenStatusMessage {
  kind: 'hidden/status';
  state: 'noEditor' | 'noModel' | 'empty' | 'loading' | 'error';
  message: string;
}

export type HiddenHostMessage = HiddenTraceMessage | HiddenMatrixMessage | HiddenStatusMessage;

/** Webview → host: show this layer and quantity (answered with `hidden/matrix`). */
export interface HiddenSelectMessage {
  kind: 'hidden/select';
  layer: number;
  quantity: HiddenQuantity;
}

/** Webview → host: colour the editor by this neuron of the shown layer/quantity; null clears it. */
export interface HiddenPickMessage {
  kind: 'hidden/pick';
  layer: number;
  quantity: HiddenQuantity;
  neuron: number | null;
}

export type HiddenWebviewMessage = PanelReadyMessage | PanelErrorMessage | HiddenSelectMessage | HiddenPickMessage;

/** What the hidden-states webview keeps with vscode.setState. */
export interface HiddenViewState {
  layer?: number;
  quantity?: HiddenQuantity;
  sort?: 'index' | 'variance' | 'mean' | 'correlation';
  pattern?: 'quotes' | 'newline' | 'regex';
  regex?: string;
  topK?: number;
  minVariance?: number;
  search?: string;
}

/** The hidden-states view traces at most this many characters (the view says when it capped). */
export const HIDDEN_MAX_CHARS = 2000;

/** Limits the host enforces on webview messages (and the webview respects). */
export const WEBVIEW_LIMITS = {
  /** Largest export payload accepted (PNG data URL or CSV text), in characters. */
  maxExportChars: 64 * 1024 * 1024,
  maxCompare: 16,
  maxErrorChars: 2000,
  /** Layers and units a model can have (settings allow 4 × 4096). */
  maxLayers: 8,
  maxHidden: 65536,
} as const;
