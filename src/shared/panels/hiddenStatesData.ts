/**
 * The pure part of the hidden-states view's host (no `vscode`, so Node tests
 * run it): which text to trace, how a worker trace becomes compact webview
 * messages, and how a neuron's activations become editor colours.
 */
import type { InferTraceResult } from '../protocol';
import {
  HIDDEN_MAX_CHARS,
  type HiddenAttentionMessage,
  type HiddenMatrixMessage,
  type HiddenQuantity,
  type HiddenTraceMessage,
} from '../webviewProtocol';

/** Next characters listed per position (the hover tooltip). */
export const TOP_K = 5;

/** Lines above and below the cursor traced when nothing is selected. */
export const CONTEXT_LINES = 6;

/** The quantities a trace holds (its family's, in the family's order), in the order the view offers them. */
export function quantitiesOf(trace: Pick<InferTraceResult, 'layers'>): HiddenQuantity[] {
  const l = trace.layers[0];
  if (!l) return ['h'];
  // A family without a hidden state (gpt) has an empty h: its quantities start with the residual stream.
  return [...(l.h.length > 0 ? ['h' as const] : []), ...(l.c ? ['c' as const] : []), ...(Object.keys(l.gates) as HiddenQuantity[])];
}

/** The text to trace, capped at `max` code points (never splitting a surrogate pair). */
export function capText(text: string, max = HIDDEN_MAX_CHARS): { text: string; totalChars: number } {
  const cps = [...text];
  return { text: cps.length > max ? cps.slice(0, max).join('') : text, totalChars: cps.length };
}

/** UTF-16 offset (from the start of the traced text) of each code point, plus the end: T + 1 entries. */
export function charOffsets(chars: readonly string[]): Int32Array {
  const out = new Int32Array(chars.length + 1);
  for (let t = 0; t < chars.length; t++) out[t + 1] = out[t]! + chars[t]!.length;
  return out;
}

/** The [T, H] array of one layer and quantity, or undefined when the trace has none. */
export function matrixOf(trace: InferTraceResult, layer: number, quantity: HiddenQuantity): Float32Array | undefined {
  const l = trace.layers[layer];
  if (!l) return undefined;
  if (quantity === 'h') return l.h;
  if (quantity === 'c') return l.c;
  return l.gates[quantity];
}

/** Rounds to float32-ish precision for JSON (6 significant digits). */
function round(v: number): number {
  return Number.isFinite(v) ? +v.toPrecision(6) : 0;
}

export function traceMessage(
  trace: InferTraceResult,
  seq: number,
  info: { modelId: string; modelName: string; source: string; firstLine: number; totalChars: number },
): HiddenTraceMessage {
  const T = trace.chars.length;
  const V = trace.vocab.length;
  const K = Math.min(TOP_K, V);
  const topChars: string[] = new Array<string>(T * K);
  const topProbs: number[] = new Array<number>(T * K);
  const idx = new Int32Array(V);
  for (let t = 0; t < T; t++) {
    const row = trace.nextProbs.subarray(t * V, (t + 1) * V);
    for (let v = 0; v < V; v++) idx[v] = v;
    // Partial selection of the K largest (V is small: a few hundred at most).
    for (let k = 0; k < K; k++) {
      let best = k;
      for (let v = k + 1; v < V; v++) if (row[idx[v]!]! > row[idx[best]!]!) best = v;
      const tmp = idx[k]!;
      idx[k] = idx[best]!;
      idx[best] = tmp;
      topChars[t * K + k] = trace.vocab[idx[k]!]!;
      topProbs[t * K + k] = round(row[idx[k]!]!);
    }
  }
  const surprisal: (number | null)[] = new Array<number | null>(T);
  for (let t = 0; t < T; t++) {
    const s = trace.surprisalBits[t]!;
    surprisal[t] = Number.isFinite(s) ? round(s) : null;
  }
  return {
    kind: 'hidden/trace',
    seq,
    modelId: info.modelId,
    modelName: info.modelName,
    cell: trace.cell,
    layers: trace.layers.length,
    hidden: trace.hidden,
    quantities: quantitiesOf(trace),
    source: info.source,
    firstLine: info.firstLine,
    chars: trace.chars,
    totalChars: info.totalChars,
    unknown: trace.unknown,
    surprisal,
    topK: K,
    topChars,
    topProbs,
    heads: trace.attention?.heads ?? 0,
  };
}

/**
 * Where position t attends in every layer and head (one row of each head's
 * T×T weights, positions 0..t), or undefined when the trace has no attention
 * or no position t.
 */
export function attentionMessage(trace: InferTraceResult, seq: number, t: number): HiddenAttentionMessage | undefined {
  const a = trace.attention;
  const T = trace.chars.length;
  if (!a || !Number.isInteger(t) || t < 0 || t >= T) return undefined;
  const weights: number[] = [];
  for (const layer of a.weights) {
    for (const head of layer) for (let s = 0; s <= t; s++) weights.push(round(head[t * T + s]!));
  }
  return { kind: 'hidden/attention', seq, t, weights };
}

export function matrixMessage(trace: InferTraceResult, seq: number, layer: number, quantity: HiddenQuantity): HiddenMatrixMessage | undefined {
  const m = matrixOf(trace, layer, quantity);
  if (!m) return undefined;
  const values = new Array<number>(m.length);
  for (let i = 0; i < m.length; i++) values[i] = round(m[i]!);
  return { kind: 'hidden/matrix', seq, layer, quantity, values };
}

/** Sigmoid gates live in [0, 1] and are centred at 0.5; the rest are centred at 0 and scaled by their largest magnitude. */
export function scaleOf(quantity: HiddenQuantity, values: ArrayLike<number>): { center: number; half: number } {
  if (quantity === 'i' || quantity === 'f' || quantity === 'o' || quantity === 'r' || quantity === 'z') return { center: 0.5, half: 0.5 };
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > max && Number.isFinite(a)) max = a;
  }
  return { center: 0, half: max > 0 ? max : 1 };
}

/** Colour levels per sign in the editor (one decoration type each). */
export const DECORATION_LEVELS = 8;

/**
 * Level of each character for one neuron: 0 = neutral, 1..L above the
 * centre, -1..-L below (the editor colours each level once).
 */
export function neuronLevels(trace: InferTraceResult, layer: number, quantity: HiddenQuantity, neuron: number): Int8Array | undefined {
  const m = matrixOf(trace, layer, quantity);
  const H = trace.hidden;
  if (!m || neuron < 0 || neuron >= H) return undefined;
  const T = trace.chars.length;
  const column = new Float32Array(T);
  for (let t = 0; t < T; t++) column[t] = m[t * H + neuron]!;
  const { center, half } = scaleOf(quantity, m);
  const out = new Int8Array(T);
  for (let t = 0; t < T; t++) {
    const x = Math.max(-1, Math.min(1, (column[t]! - center) / half));
    out[t] = Math.sign(x) * Math.min(DECORATION_LEVELS, Math.round(Math.abs(x) * DECORATION_LEVELS));
  }
  return out;
}

/** Runs of equal level as [start, end) code-point ranges, grouped by level (0 omitted). */
export function levelRuns(levels: Int8Array): Map<number, [number, number][]> {
  const runs = new Map<number, [number, number][]>();
  let t = 0;
  while (t < levels.length) {
    const l = levels[t]!;
    let e = t + 1;
    while (e < levels.length && levels[e] === l) e++;
    if (l !== 0) {
      let list = runs.get(l);
      if (!list) runs.set(l, (list = []));
      list.push([t, e]);
    }
    t = e;
  }
  return runs;
}
