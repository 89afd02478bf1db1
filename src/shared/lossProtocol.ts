/**
 * The channel between the extension host and the loss panel: what the host posts
 * and what the page posts back, each a discriminated union on `kind`
 * (noun/verb), carried by the Rpc class (src/shared/rpc.ts) at both ends.
 * Everything the page sends is untrusted: the host checks its size, then
 * validates it, before acting on it.
 *
 * Types only (and constants): the host and the webview bundles import this file.
 */
import type { PanelErrorMessage, PanelExportMessage, PanelReadyMessage } from './panelProtocol';

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

/** Webview → host: overlay these models (the primary model is always shown). */
export interface LossCompareMessage {
  kind: 'loss/compare';
  modelIds: string[];
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


/** What the host posts to the loss page. */
export interface HostToLossPage {
  requests: never;
  results: Record<never, never>;
  notifications: LossHostMessage;
}

/** What the loss page posts to the host. */
export interface LossPageToHost {
  requests: never;
  results: Record<never, never>;
  notifications: LossWebviewMessage;
}
