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

/** Limits the host enforces on webview messages (and the webview respects). */
export const WEBVIEW_LIMITS = {
  /** Largest export payload accepted (PNG data URL or CSV text), in characters. */
  maxExportChars: 64 * 1024 * 1024,
  maxCompare: 16,
  maxErrorChars: 2000,
} as const;
