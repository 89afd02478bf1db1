/**
 * The channel between the extension host and the Hidden States view: what the host posts
 * and what the page posts back, each a discriminated union on `kind`
 * (noun/verb), carried by the Rpc class (src/shared/rpc.ts) at both ends.
 * Everything the page sends is untrusted: the host checks its size, then
 * validates it, before acting on it.
 *
 * Types only (and constants): the host and the webview bundles import this file.
 */
import type { PanelErrorMessage, PanelReadyMessage } from './panelProtocol';

/** Quantities a trace holds per layer: h always; c and i/f/g/o for LSTM; r/z/n for GRU. */
/** The families' quantities (FamilyInfo.quantities): the cells' h, c and gates; the block models' residual stream x and their mixers' h and gates. */
export type HiddenQuantity = 'h' | 'c' | 'i' | 'f' | 'g' | 'o' | 'r' | 'z' | 'n' | 'x';
export const HIDDEN_QUANTITIES: readonly HiddenQuantity[] = ['h', 'c', 'i', 'f', 'g', 'o', 'r', 'z', 'n', 'x'];

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
  /** Attention heads per layer (gpt); 0: the model has no attention. Rows follow as `hidden/attention` when the page asks. */
  heads: number;
}

/**
 * Host → webview: where position `t` of the trace `seq` attends, in every
 * layer and head: weights[(layer·heads + head)·(t + 1) + s] for s = 0..t
 * (each head's weights over s sum to 1).
 */
export interface HiddenAttentionMessage {
  kind: 'hidden/attention';
  seq: number;
  t: number;
  weights: number[];
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

export type HiddenHostMessage = HiddenTraceMessage | HiddenMatrixMessage | HiddenAttentionMessage | HiddenStatusMessage;

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

/** Webview → host: where does position t attend (answered with `hidden/attention`)? */
export interface HiddenAttendMessage {
  kind: 'hidden/attend';
  t: number;
}

/** Webview → host: the page's options changed (what a page opened next starts from). */
export interface HiddenViewMessage {
  kind: 'hidden/view';
  view: HiddenViewState;
}

/** Webview → host: show this page in an editor column (the side bar's "Open in Editor" button). */
export interface HiddenOpenInEditorMessage {
  kind: 'hidden/openInEditor';
}

export type HiddenWebviewMessage =
  | PanelReadyMessage
  | PanelErrorMessage
  | HiddenSelectMessage
  | HiddenPickMessage
  | HiddenAttendMessage
  | HiddenViewMessage
  | HiddenOpenInEditorMessage;

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
  /** The attention view's query position; absent: the last character. */
  attendAt?: number | null;
}

/** Where the page is shown: the side bar's webview view, or a webview panel in an editor column. */
export type HiddenPageHost = 'view' | 'panel';

/**
 * What a page starts from when it has no saved state of its own (a panel
 * just opened from the side bar): the options and the picked neuron of the
 * page last used. The host writes it into the page's markup.
 */
export interface HiddenHandoff {
  view: HiddenViewState;
  picked: number | null;
}

/** Longest regex and neuron search a page may report. */
export const HIDDEN_MAX_FIELD_CHARS = 500;

/** The hidden-states view traces at most this many characters (the view says when it capped). */
export const HIDDEN_MAX_CHARS = 2000;

/** What the host posts to the hidden-states page. */
export interface HostToHiddenPage {
  requests: never;
  results: Record<never, never>;
  notifications: HiddenHostMessage;
}

/** What the hidden-states page posts to the host. */
export interface HiddenPageToHost {
  requests: never;
  results: Record<never, never>;
  notifications: HiddenWebviewMessage;
}
