/**
 * The step-through as the Gradient Flow panel shows it: traceBptt's terms
 * as plain arrays (JSON-ready, 4 significant digits), each vector by its
 * norm and its first few components.
 */
import { traceBptt, type BpttChain, type BpttTrace, type StepThroughOptions } from './bptt';
import { round4 } from './gradflowSnapshot';
import { infoOf } from './models/catalog';
import type { Model } from './model';

/** One vector of the equations: its name in TeX, ‖·‖ and its first components. */
export interface StepThroughTerm {
  key: string;
  tex: string;
  norm: number;
  head: number[];
}

/** The factor sizes and bounds a bounded chain may leave uncomputed (null; see BpttChain.factorsFrom). */
type MaybeCut = 'jacobianNorm' | 'stateBound' | 'weightBound';

export type StepThroughChain = { [K in keyof BpttChain]: BpttChain[K] extends Float64Array ? (K extends MaybeCut ? (number | null)[] : number[]) : BpttChain[K] };

export interface StepThroughView {
  /** e.g. "RNN (tanh)". */
  model: string;
  T: number;
  layers: number;
  hidden: number;
  /** Components shown of each vector. */
  components: number;
  /** The window's characters: step t reads chars[t] and predicts chars[t + 1]. */
  chars: string[];
  recursionTex: string;
  /** The state the chain's Jacobians are of, in TeX (`h`, `(h,c)`). */
  chainStateTex: string;
  /** E = Σ_t e_t (nats) and each e_t. */
  E: number;
  errors: number[];
  /** [t]: o_t[y_t], the probability given to the character that follows. */
  targetProb: number[];
  /** [t]: o_t and δo_t. */
  output: StepThroughTerm[][];
  /** [layer][t]: the layer's terms, from above, recurrent, direct paths, then the cell's. */
  terms: StepThroughTerm[][][];
  /** The chain of the chosen error (top layer), or null. */
  chain: StepThroughChain | null;
}

function term(key: string, tex: string, v: Float64Array, k: number): StepThroughTerm {
  let ss = 0;
  for (const x of v) ss += x * x;
  return { key, tex, norm: round4(Math.sqrt(ss)), head: Array.from(v.subarray(0, k), round4) };
}

/** `jacobianNorms`: the chain's factor sizes of earlier calls on the same weights and text (see StepThroughOptions). */
export function stepThroughView(model: Model, text: string, errorAt: number | null, components = 4, jacobianNorms?: Map<number, number>): StepThroughView {
  const opts: StepThroughOptions = { errorAt, ...(jacobianNorms ? { jacobianNorms } : {}) };
  return viewOfTrace(model, text, traceBptt(model, text, opts), components);
}

/** The view of a trace already made (by traceBptt or traceBpttInSteps) of `text` on `model`. */
export function viewOfTrace(model: Model, text: string, tr: BpttTrace, components = 4): StepThroughView {
  const k = Math.min(components, tr.hidden);
  const chars = [...text];
  const L = tr.layers;
  const terms = tr.steps.map((layer, l) =>
    layer.map((s) => {
      const above = l === L - 1 ? String.raw`V^\top \delta o_t` : String.raw`W_{ih}^{(${l + 2})\top} \delta^{(${l + 2})}_t`;
      const out = [term('above', above, s.above, k), term('recurrent', tr.cell.recurrentTex, s.recurrent, k)];
      tr.cell.directTex.forEach((tex, v) => {
        if (tex !== null) out.push(term(`direct${v}`, tex, s.direct[v]!, k));
      });
      for (const c of s.cell) out.push(term(c.key, c.tex, c.values, k));
      return out;
    }),
  );
  let chain: StepThroughChain | null = null;
  if (tr.chain) {
    const c = tr.chain;
    const a = (x: Float64Array): number[] => Array.from(x, round4);
    const cut = (x: Float64Array): (number | null)[] => Array.from(x, (v) => (Number.isNaN(v) ? null : round4(v)));
    chain = {
      errorAt: c.errorAt,
      stateGradNorm: a(c.stateGradNorm), jacobianNorm: cut(c.jacobianNorm), weightJacobianNorm: a(c.weightJacobianNorm),
      weightGradNorm: a(c.weightGradNorm), stateBound: cut(c.stateBound), weightBound: cut(c.weightBound), factorsFrom: c.factorsFrom,
    };
  }
  return {
    model: infoOf(model.config.cell).label(model.config),
    T: tr.T, layers: L, hidden: tr.hidden, components: k, chars,
    recursionTex: tr.cell.recursionTex, chainStateTex: tr.cell.chainStateTex,
    E: round4(tr.E), errors: Array.from(tr.errors, round4),
    targetProb: tr.probs.map((p, t) => round4(p[tr.tokens[t + 1]!]!)),
    output: tr.probs.map((p, t) => [term('o', 'o_t', p, k), term('do', String.raw`\delta o_t`, tr.deltaO[t]!, k)]),
    terms, chain,
  };
}
