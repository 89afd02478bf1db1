/**
 * The channel between the extension host and the gradient-flow panel: what the host posts
 * and what the page posts back, each a discriminated union on `kind`
 * (noun/verb), carried by the Rpc class (src/shared/rpc.ts) at both ends.
 * Everything the page sends is untrusted: the host checks its size, then
 * validates it, before acting on it.
 *
 * Types only (and constants): the host and the webview bundles import this file.
 */
import type { GradFlowWindow } from '../engine/gradflowSnapshot';
import type { PanelErrorMessage, PanelReadyMessage } from './panelProtocol';
import type { GradFlowStepThroughRequestMessage, GradFlowStepThroughResultMessage } from './stepThroughProtocol';

export type * from './stepThroughProtocol';

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
  /** The family's title (FamilyInfo.title), e.g. "LSTM", "GPT", "minGRU". */
  family?: string;
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

export type GradFlowHostMessage = GradFlowInitMessage | GradFlowModelsMessage | GradFlowDataMessage | GradFlowStepThroughResultMessage;

/** Webview → host: compare with this model (null: none). */
export interface GradFlowCompareMessage {
  kind: 'gradflow/compare';
  modelId: string | null;
}

export type GradFlowWebviewMessage = PanelReadyMessage | PanelErrorMessage | GradFlowCompareMessage | GradFlowStepThroughRequestMessage;

/** What the gradient-flow webview keeps with vscode.setState. */
export interface GradFlowPanelState {
  modelId: string;
  compare?: string | null;
  layer?: number;
  errorAt?: number | null;
  /** Index of the shown snapshot; null follows the newest. */
  snapshot?: number | null;
}

/** What the host posts to the gradient-flow page. */
export interface HostToGradFlowPage {
  requests: never;
  results: Record<never, never>;
  notifications: GradFlowHostMessage;
}

/** What the gradient-flow page posts to the host. */
export interface GradFlowPageToHost {
  requests: never;
  results: Record<never, never>;
  notifications: GradFlowWebviewMessage;
}
