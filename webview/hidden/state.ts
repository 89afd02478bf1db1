/**
 * What the hidden-states view knows: the trace and the matrix the host sent,
 * the user's options (saved with vscode.setState), the neuron order they
 * give, the picked neuron and the keyboard cursor. Pure (no DOM): host
 * messages and user actions change it and return the messages the page must
 * send; the drawing reads it.
 */
import type { HiddenAttentionMessage, HiddenHostMessage, HiddenMatrixMessage, HiddenQuantity, HiddenTraceMessage, HiddenViewState, HiddenWebviewMessage } from '../../src/shared/webviewProtocol';
import { assertNever } from '../common/assertNever';
import { correlations, neuronStats, parseSearch, patternMarks, sortNeurons, type NeuronStats, type PatternKind, type SortKind } from './stats';

/** Rows drawn at most (the heatmap of a wide layer stays a few thousand pixels tall). */
export const MAX_ROWS = 512;

/** Sigmoid gates live in [0, 1]: their colour scale is centred at 0.5. */
const GATES: readonly HiddenQuantity[] = ['i', 'f', 'o', 'r', 'z'];

export interface HiddenView {
  layer: number;
  quantity: HiddenQuantity;
  sort: SortKind;
  pattern: PatternKind;
  regex: string;
  topK: number;
  minVariance: number;
  search: string;
  /** The attention view's query position; null follows the last character. */
  attendAt: number | null;
}

/** What a host message asks of the page. */
export interface HiddenEffects {
  post: HiddenWebviewMessage[];
  /** A malformed message to report to the host (panel/error). */
  error?: string;
  /** Whether anything drawn changed. */
  redraw: boolean;
}

export class HiddenState {
  readonly view: HiddenView;
  trace: HiddenTraceMessage | null = null;
  matrix: HiddenMatrixMessage | null = null;
  /** Where the query position attends, per layer and head (a gpt's trace only). */
  attention: HiddenAttentionMessage | null = null;
  /** What the view says when it has no trace to show (the host's status). */
  status = 'Waiting for the host…';
  stats: NeuronStats | null = null;
  corr: Float64Array | null = null;
  patternError = '';
  /** The rows drawn, top to bottom: neuron indices. */
  rows: number[] = [];
  picked: number | null = null;
  /** The keyboard cursor: a row index into `rows` (ArrowUp/ArrowDown move it, Enter/Space pick its neuron). */
  cursor = 0;
  /** The colour scale: `center` is neutral, `center ± half` full colour. */
  scale = { center: 0, half: 1 };

  constructor(saved: Partial<HiddenViewState> = {}) {
    this.view = {
      layer: typeof saved.layer === 'number' ? saved.layer : 0,
      quantity: saved.quantity ?? 'h',
      sort: saved.sort ?? 'variance',
      pattern: saved.pattern ?? 'quotes',
      regex: saved.regex ?? '',
      topK: typeof saved.topK === 'number' ? saved.topK : 0,
      minVariance: typeof saved.minVariance === 'number' ? saved.minVariance : 0,
      search: saved.search ?? '',
      attendAt: typeof saved.attendAt === 'number' ? saved.attendAt : null,
    };
  }

  /** What vscode.setState keeps across reloads. */
  persisted(): HiddenViewState {
    return { ...this.view };
  }

  /** Characters traced. */
  get T(): number {
    return this.trace?.chars.length ?? 0;
  }

  /** Neurons per layer. */
  get H(): number {
    return this.trace?.hidden ?? 0;
  }

  /** Whether the matrix for the chosen layer and quantity of this trace is here. */
  hasMatrix(): boolean {
    const { trace, matrix, view } = this;
    return !!trace && !!matrix && matrix.seq === trace.seq && matrix.layer === view.layer && matrix.quantity === view.quantity;
  }

  receive(m: HiddenHostMessage): HiddenEffects {
    switch (m.kind) {
      case 'hidden/trace':
        this.trace = m;
        this.matrix = null;
        this.attention = null;
        // A new model may have fewer layers, or other quantities.
        if (this.view.layer >= m.layers) this.view.layer = 0;
        if (!m.quantities.includes(this.view.quantity)) this.view.quantity = m.quantities[0] ?? 'h';
        if (this.view.attendAt !== null && this.view.attendAt >= m.chars.length) this.view.attendAt = null;
        this.recompute();
        return { post: [...this.matrixRequest(), ...this.attentionRequest()], redraw: true };
      case 'hidden/attention': {
        const trace = this.trace;
        if (!trace || m.seq !== trace.seq || trace.heads === 0) return { post: [], redraw: false };
        const expected = trace.layers * trace.heads * (m.t + 1);
        if (m.t >= trace.chars.length || m.weights.length !== expected) {
          return { post: [], redraw: false, error: `ignored a message from the host: hidden/attention for position ${m.t} has ${m.weights.length} weights, expected ${expected}` };
        }
        if (m.t !== this.attendQuery()) return { post: [], redraw: false };
        this.attention = m;
        return { post: [], redraw: true };
      }
      case 'hidden/matrix': {
        const trace = this.trace;
        if (!trace || m.seq !== trace.seq) return { post: [], redraw: false }; // for an older trace
        const expected = trace.chars.length * trace.hidden;
        if (m.values.length !== expected) return { post: [], redraw: false, error: `ignored a message from the host: hidden/matrix has ${m.values.length} values, expected ${expected}` };
        if (m.layer !== this.view.layer || m.quantity !== this.view.quantity) return { post: [], redraw: false };
        this.matrix = m;
        this.recompute();
        // The host colours the editor by the picked neuron of the matrix it just sent.
        return { post: this.picked !== null ? [this.pickMessage(this.picked)] : [], redraw: true };
      }
      case 'hidden/status':
        if (m.state === 'loading' && this.trace) return { post: [], redraw: false };
        if (m.state !== 'loading') {
          this.trace = null;
          this.matrix = null;
        }
        this.status = m.message;
        return { post: [], redraw: true };
      default:
        return assertNever(m);
    }
  }

  // ---------------------------------------------------------------- user actions

  /** Picks a neuron (null clears): returns the message that tells the host. */
  pick(neuron: number | null): HiddenWebviewMessage {
    this.picked = neuron;
    return this.pickMessage(neuron);
  }

  /** Layer or quantity changed: the pick is dropped and the new matrix asked for. */
  setLayer(layer: number): HiddenWebviewMessage[] {
    this.view.layer = Math.max(0, layer || 0);
    return this.refetch();
  }

  setQuantity(quantity: HiddenQuantity): HiddenWebviewMessage[] {
    this.view.quantity = quantity;
    return this.refetch();
  }

  /** Options that reorder or filter the rows of the matrix already here. */
  setOrder(change: Partial<Pick<HiddenView, 'sort' | 'pattern' | 'regex' | 'topK' | 'minVariance' | 'search'>>): void {
    const v = this.view;
    if (change.sort !== undefined) v.sort = change.sort;
    if (change.pattern !== undefined) v.pattern = change.pattern;
    if (change.regex !== undefined) v.regex = change.regex;
    if (change.topK !== undefined) v.topK = Math.max(0, Math.floor(change.topK) || 0);
    if (change.minVariance !== undefined) v.minVariance = Math.max(0, change.minVariance || 0);
    if (change.search !== undefined) v.search = change.search;
    this.recompute();
  }

  /** Moves the keyboard cursor by a key (`page` rows for PageUp/PageDown); false for other keys. */
  moveCursor(key: string, page: number): boolean {
    const c = this.cursor;
    const moves: Record<string, number> = { ArrowDown: c + 1, ArrowUp: c - 1, Home: 0, End: this.rows.length - 1, PageDown: c + page, PageUp: c - page };
    if (!(key in moves)) return false;
    this.cursor = this.clampCursor(moves[key]!);
    return true;
  }

  /** The neuron under the keyboard cursor. */
  cursorNeuron(): number | undefined {
    return this.rows[Math.min(this.cursor, this.rows.length - 1)];
  }

  /** Focusing the heatmap puts the cursor on the picked neuron's row. */
  focusPicked(): void {
    const r = this.picked === null ? -1 : this.rows.indexOf(this.picked);
    if (r >= 0) this.cursor = r;
  }

  clampCursor(r: number): number {
    return Math.max(0, Math.min(this.rows.length - 1, r));
  }

  /** Picks the attention view's query position: returns the request for its weights. */
  attendTo(t: number): HiddenWebviewMessage[] {
    if (!this.trace || this.trace.heads === 0) return [];
    const last = this.T - 1;
    const q = Math.max(0, Math.min(last, Math.floor(t) || 0));
    this.view.attendAt = q === last ? null : q;
    return this.hasAttention() ? [] : this.attentionRequest();
  }

  /** Moves the query by a key (ArrowLeft/ArrowRight, Home/End); null for other keys. */
  moveAttend(key: string): HiddenWebviewMessage[] | null {
    const q = this.attendQuery();
    const moves: Record<string, number> = { ArrowLeft: q - 1, ArrowRight: q + 1, Home: 0, End: this.T - 1 };
    if (!(key in moves)) return null;
    return this.attendTo(moves[key]!);
  }

  // ---------------------------------------------------------------- derived

  /** The attention view's query position (the last character unless one was picked). */
  attendQuery(): number {
    const last = Math.max(0, this.T - 1);
    return this.view.attendAt === null ? last : Math.min(this.view.attendAt, last);
  }

  /** Whether the weights of the current query are here. */
  hasAttention(): boolean {
    const { trace, attention } = this;
    return !!trace && trace.heads > 0 && !!attention && attention.seq === trace.seq && attention.t === this.attendQuery();
  }

  /** Head `head` of layer `layer`: the query's weights over positions 0..t. */
  attentionRow(layer: number, head: number): number[] {
    if (!this.hasAttention()) return [];
    const n = this.attention!.t + 1;
    const i = (layer * this.trace!.heads + head) * n;
    return this.attention!.weights.slice(i, i + n);
  }

  /** The picked neuron's activation at each position. */
  pickedColumn(): number[] | null {
    if (this.picked === null || !this.hasMatrix() || !this.trace) return null;
    const j = this.picked;
    const h = this.H;
    const values = this.matrix!.values;
    return this.trace.chars.map((_, t) => values[t * h + j]!);
  }

  /** Positions of the picked neuron's 8 highest and 8 lowest activations (ties by position). */
  topPositions(): { most: number[]; least: number[] } {
    const col = this.pickedColumn();
    if (!col) return { most: [], least: [] };
    const order = col.map((_, t) => t).sort((a, b) => col[b]! - col[a]! || a - b);
    const k = Math.min(8, order.length);
    return { most: order.slice(0, k), least: order.slice(-k).reverse() };
  }

  // ---------------------------------------------------------------- internals

  private pickMessage(neuron: number | null): HiddenWebviewMessage {
    return { kind: 'hidden/pick', layer: this.view.layer, quantity: this.view.quantity, neuron };
  }

  private matrixRequest(): HiddenWebviewMessage[] {
    return this.trace ? [{ kind: 'hidden/select', layer: this.view.layer, quantity: this.view.quantity }] : [];
  }

  private attentionRequest(): HiddenWebviewMessage[] {
    return this.trace && this.trace.heads > 0 && this.T > 0 ? [{ kind: 'hidden/attend', t: this.attendQuery() }] : [];
  }

  private refetch(): HiddenWebviewMessage[] {
    const out: HiddenWebviewMessage[] = [];
    if (this.picked !== null) out.push(this.pickMessage(null));
    this.picked = null;
    out.push(...this.matrixRequest());
    this.recompute();
    return out;
  }

  /** Recomputes statistics, correlation and the row order from the current matrix and options. */
  private recompute(): void {
    if (!this.hasMatrix()) {
      this.rows = [];
      this.stats = null;
      this.corr = null;
      return;
    }
    const { view } = this;
    const values = this.matrix!.values;
    const t = this.T;
    const h = this.H;
    let max = 0;
    for (const v of values) max = Math.max(max, Math.abs(v));
    this.scale = GATES.includes(view.quantity) ? { center: 0.5, half: 0.5 } : { center: 0, half: max > 0 ? max : 1 };
    const stats = neuronStats(values, t, h);
    this.stats = stats;
    this.corr = null;
    this.patternError = '';
    if (view.sort === 'correlation') {
      const p = patternMarks(this.trace!.chars, view.pattern, view.regex);
      if ('error' in p) this.patternError = p.error;
      else this.corr = correlations(values, t, h, p.marks, stats);
    }
    let order = sortNeurons(h, view.sort, stats, this.corr);
    const found = parseSearch(view.search, h);
    if (found) order = order.filter((j) => found.has(j));
    if (view.minVariance > 0) order = order.filter((j) => stats.variance[j]! >= view.minVariance);
    if (view.topK > 0) order = order.slice(0, view.topK);
    this.rows = order.slice(0, MAX_ROWS);
    if (this.picked !== null && this.picked >= h) this.picked = null;
  }
}
