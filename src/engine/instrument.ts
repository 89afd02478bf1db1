import type { Kernels } from './kernels';
import type { Model } from './model';
import { createNetwork, newGradientRecord } from './models/build';
import { infoOf } from './models/catalog';

export interface LayerTrace {
  /** [T, H] hidden state after each character. */
  h: Float32Array;
  /** [T, H] cell state, for a family that has one (quantity `c`). */
  c?: Float32Array;
  /** The family's other quantities (the gates: i/f/g/o for LSTM, r/z/n for GRU), each [T, width]. */
  gates: Record<string, Float32Array>;
}

export interface HiddenStateTrace {
  chars: string[];
  /** Positions whose character the model does not know (fed as its fallback). */
  unknown: number[];
  hidden: number;
  layers: LayerTrace[];
  /** [T, V]: distribution of the next character after each position. */
  nextProbs: Float32Array;
  /** [T]: surprisal in bits of the character that actually follows (NaN for the last / unknown). */
  surprisalBits: Float32Array;
  /** For a family with attention: heads per layer, and [layer][head][t·T + s] how much position t attends to s (0 for s > t). */
  attention?: { heads: number; weights: Float32Array[][] };
}

/**
 * Runs a text through the model from a zero state and records, per
 * character, every layer's hidden state and gates, and what the model
 * expected next.
 */
/** The text cut to the longest window the model's network can take (a gpt's context), counted in characters. */
export function fitWindow(model: Model, text: string, extra = 0): string {
  const max = infoOf(model.config.cell).maxWindow?.(model.config);
  if (max === undefined) return text;
  const chars = [...text];
  return chars.length > max + extra ? chars.slice(0, max + extra).join('') : text;
}

export function traceHiddenStates(model: Model, whole: string, kernels: Kernels): HiddenStateTrace {
  const text = fitWindow(model, whole);
  const chars = [...text];
  const T = chars.length;
  const { tokens } = model.vocab.encode(text);
  const unknown: number[] = [];
  chars.forEach((ch, i) => {
    if (!model.vocab.has(ch)) unknown.push(i);
  });
  const H = model.config.hidden;
  const V = model.config.vocabSize;
  const surprisalBits = new Float32Array(T).fill(NaN);
  if (T === 0) return { chars, unknown, hidden: H, layers: [], nextProbs: new Float32Array(0), surprisalBits };
  const graph = createNetwork(model.params, { B: 1, T, kernels });
  graph.resetState();
  graph.tokens.set(tokens);
  graph.targets.fill(-1);
  graph.forward(null);
  const quantities = infoOf(model.config.cell).quantities(model.config);
  const layers: LayerTrace[] = [];
  for (let l = 0; l < model.config.layers; l++) {
    const trace: LayerTrace = { h: new Float32Array(0), gates: {} };
    for (const q of quantities) {
      const out = new Float32Array(T * q.width);
      graph.readQuantity(q.name, l, 0, out);
      if (q.name === 'h') trace.h = out;
      else if (q.name === 'c') trace.c = out;
      else trace.gates[q.name] = out;
    }
    layers.push(trace);
  }
  const nextProbs = Float32Array.from(graph.probs);
  for (let t = 0; t + 1 < T; t++) {
    if (model.vocab.has(chars[t + 1]!)) surprisalBits[t] = -Math.log2(nextProbs[t * V + tokens[t + 1]!]!);
  }
  const heads = infoOf(model.config.cell).attentionHeads?.(model.config) ?? 0;
  const trace: HiddenStateTrace = { chars, unknown, hidden: H, layers, nextProbs, surprisalBits };
  if (heads > 0 && graph.readAttention) {
    const read = graph.readAttention.bind(graph);
    const weights = Array.from({ length: model.config.layers }, (_, l) =>
      Array.from({ length: heads }, (_, h) => {
        const out = new Float32Array(T * T);
        read(l, 0, h, out);
        return out;
      }),
    );
    trace.attention = { heads, weights };
  }
  return trace;
}

export interface GradientFlow {
  /** Mean loss over the scored positions of the window. */
  loss: number;
  /** The error e_t whose gradient is traced, or null for the whole window's E. */
  errorAt: number | null;
  /** [layer][k]: ‖∂E/∂h_k‖ (or ‖∂e_t/∂h_k‖). */
  hGradNorm: Float64Array[];
  /** [layer][k]: ‖δ_k h_{k-1}ᵀ‖, step k's term in ∇W_hh (∂e_t/∂W when errorAt is set). */
  wContribution: Float64Array[];
  /** Frobenius norm of each parameter tensor's gradient, by state_dict name. */
  paramGradNorms: Record<string, number>;
}

/**
 * Backpropagates through one window of text (one stream, zero initial state)
 * and records how the gradient flows back in time. With `errorAt`, only the
 * error of the prediction made at step t is used: the design's ∂e_t/∂W
 * decomposition, where vanishing and exploding gradients show.
 * Leaves the model's weights and params.grad as they were (it uses params.grad and restores it).
 */
export function traceGradientFlow(model: Model, whole: string, kernels: Kernels, errorAt: number | null = null): GradientFlow {
  // T = characters - 1 predictions: one character more than the window.
  const { tokens } = model.vocab.encode(fitWindow(model, whole, 1));
  const T = tokens.length - 1;
  if (T < 1) throw new Error('gradient flow needs a window of at least two characters');
  if (errorAt !== null && (!Number.isInteger(errorAt) || errorAt < 0 || errorAt >= T)) {
    throw new Error(`errorAt must be a step from 0 to ${T - 1}`);
  }
  const graph = createNetwork(model.params, { B: 1, T, kernels });
  graph.resetState();
  for (let t = 0; t < T; t++) {
    graph.tokens[t] = tokens[t]!;
    graph.targets[t] = errorAt === null || errorAt === t ? tokens[t + 1]! : -1;
  }
  const params = model.params;
  // Same precision as the buffer, so a float64 model gets its gradients back exactly.
  const savedGrad = params.grad.slice();
  params.grad.fill(0);
  graph.record = newGradientRecord(graph);
  const loss = graph.forward(null);
  graph.backward();
  const paramGradNorms: Record<string, number> = {};
  for (const t of params.tensors) {
    let ss = 0;
    for (let i = t.offset; i < t.offset + t.size; i++) ss += params.grad[i]! * params.grad[i]!;
    paramGradNorms[t.name] = Math.sqrt(ss);
  }
  params.grad.set(savedGrad);
  return { loss, errorAt, ...graph.record, paramGradNorms };
}
