/**
 * Backpropagation through time, step by step, on a model's own numbers: the
 * design document's terms (DESIGN §2) for one window of text, in float64,
 * from the family's step-through cell (models/stepThrough.ts) and the
 * stacked network around it: for each step t, o_t, δo_t = o_t − onehot(y_t),
 * the term from above (Vᵀδo_t, or the layer above's), the recurrent term
 * W_hhᵀδ_{t+1}, the cell's direct paths and its own terms (the RNN's f′(s_t)
 * and δh_t), all of the window's E = Σ_t e_t; and for one error e_τ the
 * chain ∂e_τ/∂s_τ · ∂s_τ/∂s_{τ−1} · … · ∂s_k/∂W with the size of every
 * factor beside the size of the actual product.
 *
 * Instrumentation, not training: it allocates freely and recomputes
 * everything from the weights (a second implementation of the network, so
 * the tests check it against finite differences and the network's output).
 */
import { ConfigError } from './errors';
import type { Model } from './model';
import { infoOf } from './models/catalog';
import { familyOf } from './models/registry';
import type { StepCache, StepGrads, StepTerm, StepThroughCell } from './models/stepThrough';

/** Longest window the step-through takes (its chain costs O(τ·H²) per factor). */
export const STEP_THROUGH_MAX_STEPS = 512;

/** A change of one value during forward, for finite-difference checks of the δ terms. */
export interface Perturbation {
  readonly layer: number;
  readonly t: number;
  /** `state`: state vector `vector` after step t; `hhPre`: W_hh h_{t-1} + b_hh before step t's cell. */
  readonly where: 'state' | 'hhPre';
  readonly vector?: number;
  readonly index: number;
  readonly delta: number;
}

export interface StepThroughOptions {
  /** The error e_τ whose chain is traced (τ: the step that predicts character τ+1); null: none. */
  errorAt?: number | null;
  /** Test hook: one value moved during forward. */
  perturb?: Perturbation;
  /** Lanczos steps per Jacobian's spectral norm (at most the state's size). */
  lanczosSteps?: number;
  /**
   * ‖∂s_k/∂s_{k−1}‖₂ by k, kept between calls on the same weights and window
   * (they do not depend on the error traced): read where present, filled where not.
   */
  jacobianNorms?: Map<number, number>;
  /**
   * Read before each factor's spectral norm, from k = τ back: once it says
   * true the factors further back are left uncomputed (NaN, with their
   * bounds), so a caller can bound the chain's cost; the actual gradients
   * are always complete.
   */
  stopFactors?: () => boolean;
}

/** One layer at one step: how ∂E/∂state_t is made and what the cell does with it. */
export interface LayerStepTerms {
  /** ∂E/∂h_t from above: Vᵀδo_t (top layer) or the layer above's W_ihᵀ δ. */
  readonly above: Float64Array;
  /** W_hhᵀ δ_{t+1} (zero at the window's last step). */
  readonly recurrent: Float64Array;
  /** Per state vector, its direct path from step t+1 (zeros where the cell has none). */
  readonly direct: Float64Array[];
  /** ∂E/∂state_t, per state vector (h: above + recurrent + direct; c: direct). */
  readonly dState: Float64Array[];
  readonly grads: StepGrads;
  /** The cell's own terms. */
  readonly cell: StepTerm[];
}

/** The chain of one error e_τ back through the top layer. */
export interface BpttChain {
  readonly errorAt: number;
  /** [k]: ‖∂e_τ/∂s_k‖ for k ≤ τ (0 after τ); k = τ is the chain's first factor ∂e_τ/∂h_τ. */
  readonly stateGradNorm: Float64Array;
  /** [k]: ‖∂s_k/∂s_{k−1}‖₂ (spectral norm), k ≥ 1. */
  readonly jacobianNorm: Float64Array;
  /** [k]: ‖∂s_k/∂W_hh‖_F of step k's own copy of W_hh. */
  readonly weightJacobianNorm: Float64Array;
  /** [k]: ‖∂e_τ/∂W_hh at step k‖ = ‖δ_k‖·‖h_{k−1}‖: the actual product. */
  readonly weightGradNorm: Float64Array;
  /** [k]: ‖∂e_τ/∂h_τ‖ · Π_{j=k+1..τ} ‖∂s_j/∂s_{j−1}‖: the product of the factors' sizes, a bound on stateGradNorm[k]. */
  readonly stateBound: Float64Array;
  /** [k]: stateBound[k] · ‖∂s_k/∂W‖: a bound on weightGradNorm[k]. */
  readonly weightBound: Float64Array;
  /**
   * The smallest k ≥ 1 whose ‖∂s_k/∂s_{k−1}‖ was computed (1: all of them;
   * τ + 1: none): jacobianNorm[k] for k below it, and stateBound and
   * weightBound for k below factorsFrom − 1, are NaN (see stopFactors).
   */
  readonly factorsFrom: number;
}

export interface BpttTrace {
  readonly cell: StepThroughCell;
  readonly T: number;
  readonly layers: number;
  readonly hidden: number;
  readonly tokens: Int32Array;
  /** [t]: o_t (softmax of V h_t + c) and δo_t = o_t − onehot(y_t). */
  readonly probs: Float64Array[];
  readonly deltaO: Float64Array[];
  /** [t]: e_t = −log o_t[y_t]; E is their sum. */
  readonly errors: Float64Array;
  readonly E: number;
  /** [layer][t]. */
  readonly steps: LayerStepTerms[][];
  /** [layer][t]: every state vector after step t. */
  readonly states: Float64Array[][][];
  /** ∂E/∂θ by state_dict name (float64). */
  readonly paramGrads: Record<string, Float64Array>;
  readonly chain: BpttChain | null;
}

interface LayerWeights {
  wIh: Float64Array;
  wHh: Float64Array;
  bIh: Float64Array;
  bHh: Float64Array;
  inputs: number;
}

interface Forward {
  /** [l][t]: xPre and hhPre before the cell. */
  xPre: Float64Array[][];
  hhPre: Float64Array[][];
  caches: StepCache[][];
  /** [l][t + 1][v]: state after step t (slot 0: zero). */
  state: Float64Array[][][];
  probs: Float64Array[];
}

/** out = M x (M [rows, cols] row-major) + b. */
function affine(m: Float64Array, x: Float64Array, b: Float64Array | null, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b ? b[r]! : 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += m[o + c]! * x[c]!;
    out[r] = s;
  }
  return out;
}

/** out += Mᵀ y. */
function addTransposed(out: Float64Array, m: Float64Array, y: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const v = y[r]!;
    if (v === 0) continue;
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[c]! += m[o + c]! * v;
  }
}

/** g += y xᵀ. */
function addOuter(g: Float64Array, y: Float64Array, x: Float64Array): void {
  const cols = x.length;
  for (let r = 0; r < y.length; r++) {
    const v = y[r]!;
    if (v === 0) continue;
    for (let c = 0; c < cols; c++) g[r * cols + c]! += v * x[c]!;
  }
}

function norm(...vs: readonly Float64Array[]): number {
  let s = 0;
  for (const v of vs) for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function sum(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]!;
  return out;
}

/** The cell of the model's family, or the one-line reason there is none. */
export function stepThroughCellOf(model: Model): StepThroughCell {
  const family = familyOf(model.config.cell);
  if (!family.stepThrough) {
    throw new ConfigError(`the step-through follows the recurrent cells' equations; ${infoOf(model.config.cell).title} has none (train an RNN, LSTM or GRU)`);
  }
  return family.stepThrough(model.config);
}

/**
 * Traces one window of text (one stream, zero initial state): T = characters − 1
 * predictions, every one scored.
 */
export function traceBptt(model: Model, text: string, opts: StepThroughOptions = {}): BpttTrace {
  const steps = traceBpttInSteps(model, text, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * traceBptt as a generator that yields after every small piece of work (one
 * step of a pass, one Jacobian product), so a caller on a shared thread can
 * run it in time slices and answer other requests between them.
 */
export function* traceBpttInSteps(model: Model, text: string, opts: StepThroughOptions = {}): Generator<void, BpttTrace, void> {
  const cell = stepThroughCellOf(model);
  const { tokens } = model.vocab.encode(text);
  const T = tokens.length - 1;
  if (T < 1) throw new Error('the step-through needs a window of at least two characters');
  if (T > STEP_THROUGH_MAX_STEPS) throw new Error(`the step-through covers at most ${STEP_THROUGH_MAX_STEPS} steps (this window has ${T})`);
  const errorAt = opts.errorAt ?? null;
  if (errorAt !== null && (!Number.isInteger(errorAt) || errorAt < 0 || errorAt >= T)) throw new Error(`errorAt must be a step from 0 to ${T - 1}`);
  const { hidden: H, layers: L, vocabSize: V } = model.config;
  const p = model.params;
  const f64 = (name: string): Float64Array => Float64Array.from(p.view(name));
  const weights: LayerWeights[] = [];
  for (let l = 0; l < L; l++) {
    weights.push({
      wIh: f64(`rnn.weight_ih_l${l}`), wHh: f64(`rnn.weight_hh_l${l}`), bIh: f64(`rnn.bias_ih_l${l}`), bHh: f64(`rnn.bias_hh_l${l}`),
      inputs: l === 0 ? V : H,
    });
  }
  const dec = { w: f64('decoder.weight'), b: f64('decoder.bias') };
  const GH = weights[0]!.bIh.length;
  const S = cell.state.length;

  const fw: Forward = { xPre: [], hhPre: [], caches: [], state: [], probs: [] };
  for (let l = 0; l < L; l++) {
    const w = weights[l]!;
    const xs: Float64Array[] = [], hs: Float64Array[] = [], cs: StepCache[] = [];
    const st: Float64Array[][] = [Array.from({ length: S }, () => new Float64Array(H))];
    for (let t = 0; t < T; t++) {
      let xPre: Float64Array;
      if (l === 0) {
        // One-hot input: U x_t is column tokens[t] of W_ih.
        xPre = Float64Array.from(w.bIh);
        const tok = tokens[t]!;
        for (let r = 0; r < GH; r++) xPre[r]! += w.wIh[r * V + tok]!;
      } else xPre = affine(w.wIh, fw.state[l - 1]![t + 1]![0]!, w.bIh, GH, H);
      const hhPre = affine(w.wHh, st[t]![0]!, w.bHh, GH, H);
      const q = opts.perturb;
      if (q && q.layer === l && q.t === t && q.where === 'hhPre') hhPre[q.index]! += q.delta;
      const next = Array.from({ length: S }, () => new Float64Array(H));
      cs.push(cell.forward(xPre, hhPre, st[t]!, next));
      if (q && q.layer === l && q.t === t && q.where === 'state') next[q.vector ?? 0]![q.index]! += q.delta;
      xs.push(xPre);
      hs.push(hhPre);
      st.push(next);
      yield;
    }
    fw.xPre.push(xs);
    fw.hhPre.push(hs);
    fw.caches.push(cs);
    fw.state.push(st);
  }
  const errors = new Float64Array(T);
  const deltaO: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const logits = affine(dec.w, fw.state[L - 1]![t + 1]![0]!, dec.b, V, H);
    let max = -Infinity;
    for (const z of logits) max = Math.max(max, z);
    let z = 0;
    for (let i = 0; i < V; i++) z += logits[i] = Math.exp(logits[i]! - max);
    for (let i = 0; i < V; i++) logits[i]! /= z;
    fw.probs.push(logits);
    const y = tokens[t + 1]!;
    errors[t] = -Math.log(logits[y]!);
    const d = Float64Array.from(logits);
    d[y]! -= 1;
    deltaO.push(d);
  }

  const whole = yield* backward(cell, weights, dec.w, fw, deltaO, T, L, H, V, GH, tokens);
  let chain: BpttChain | null = null;
  if (errorAt !== null) {
    const only = deltaO.map((d, t) => (t === errorAt ? d : new Float64Array(V)));
    const one = yield* backward(cell, weights, dec.w, fw, only, T, L, H, V, GH, tokens);
    chain = yield* traceChain(
      cell, weights[L - 1]!, fw, one.steps[L - 1]!, L - 1, errorAt, T, H, GH, opts.lanczosSteps ?? 32, opts.jacobianNorms ?? new Map<number, number>(), opts.stopFactors ?? (() => false),
    );
  }
  let E = 0;
  for (const e of errors) E += e;
  return {
    cell, T, layers: L, hidden: H, tokens, probs: fw.probs, deltaO, errors, E,
    steps: whole.steps, states: fw.state.map((st) => st.slice(1)), paramGrads: whole.paramGrads, chain,
  };
}

/** Backward through the window from the given δo_t: every step's terms and the gradients of θ. */
function* backward(
  cell: StepThroughCell, weights: LayerWeights[], decW: Float64Array, fw: Forward, deltaO: Float64Array[],
  T: number, L: number, H: number, V: number, GH: number, tokens: Int32Array,
): Generator<void, { steps: LayerStepTerms[][]; paramGrads: Record<string, Float64Array> }, void> {
  const S = cell.state.length;
  const paramGrads: Record<string, Float64Array> = {};
  const dDecW = new Float64Array(V * H);
  const dDecB = new Float64Array(V);
  let above: Float64Array[] = [];
  for (let t = 0; t < T; t++) {
    const a = new Float64Array(H);
    addTransposed(a, decW, deltaO[t]!, V, H);
    above.push(a);
    addOuter(dDecW, deltaO[t]!, fw.state[L - 1]![t + 1]![0]!);
    for (let i = 0; i < V; i++) dDecB[i]! += deltaO[t]![i]!;
  }
  const steps: LayerStepTerms[][] = [];
  for (let l = L - 1; l >= 0; l--) {
    const w = weights[l]!;
    const dWih = new Float64Array(GH * w.inputs), dWhh = new Float64Array(GH * H), dBih = new Float64Array(GH), dBhh = new Float64Array(GH);
    const layer: LayerStepTerms[] = new Array<LayerStepTerms>(T);
    let recurrent = new Float64Array(H);
    let direct: Float64Array[] = Array.from({ length: S }, () => new Float64Array(H));
    const below: Float64Array[] = [];
    for (let t = T - 1; t >= 0; t--) {
      const dState = direct.map((d, v) => (v === 0 ? sum(sum(above[t]!, recurrent), d) : Float64Array.from(d)));
      const grads = cell.backward(fw.caches[l]![t]!, dState);
      layer[t] = { above: above[t]!, recurrent, direct, dState, grads, cell: cell.terms(fw.caches[l]![t]!, dState, grads) };
      const hPrev = fw.state[l]![t]![0]!;
      addOuter(dWhh, grads.dHhPre, hPrev);
      for (let i = 0; i < GH; i++) {
        dBih[i]! += grads.dXPre[i]!;
        dBhh[i]! += grads.dHhPre[i]!;
      }
      if (l === 0) {
        const tok = tokens[t]!;
        for (let r = 0; r < GH; r++) dWih[r * w.inputs + tok]! += grads.dXPre[r]!;
      } else {
        addOuter(dWih, grads.dXPre, fw.state[l - 1]![t + 1]![0]!);
        const b = new Float64Array(H);
        addTransposed(b, w.wIh, grads.dXPre, GH, H);
        below[t] = b;
      }
      recurrent = new Float64Array(H);
      addTransposed(recurrent, w.wHh, grads.dHhPre, GH, H);
      direct = grads.dPrev;
      yield;
    }
    steps[l] = layer;
    paramGrads[`rnn.weight_ih_l${l}`] = dWih;
    paramGrads[`rnn.weight_hh_l${l}`] = dWhh;
    paramGrads[`rnn.bias_ih_l${l}`] = dBih;
    paramGrads[`rnn.bias_hh_l${l}`] = dBhh;
    above = below;
  }
  paramGrads['decoder.weight'] = dDecW;
  paramGrads['decoder.bias'] = dDecB;
  return { steps, paramGrads };
}

/** ∂s_k/∂s_{k−1} times v (tangent through W_hh and the direct paths). */
function jvp(cell: StepThroughCell, w: LayerWeights, cache: StepCache, v: Float64Array[], H: number, GH: number): Float64Array[] {
  return cell.tangent(cache, affine(w.wHh, v[0]!, null, GH, H), v);
}

/** (∂s_k/∂s_{k−1})ᵀ times u. */
function vjp(cell: StepThroughCell, w: LayerWeights, cache: StepCache, u: Float64Array[], H: number, GH: number): Float64Array[] {
  const g = cell.backward(cache, u);
  const out = g.dPrev.map((d) => Float64Array.from(d));
  addTransposed(out[0]!, w.wHh, g.dHhPre, GH, H);
  return out;
}

/**
 * Largest singular value of step k's state Jacobian J: √ of the largest
 * eigenvalue of JᵀJ by Lanczos (full reorthogonalisation, from a fixed
 * start), which needs only J v and Jᵀ u and converges in far fewer products
 * than power iteration when the top singular values are close.
 */
function* spectralNorm(cell: StepThroughCell, w: LayerWeights, cache: StepCache, S: number, H: number, GH: number, steps: number): Generator<void, number, void> {
  const n = S * H;
  const split = (x: Float64Array): Float64Array[] => Array.from({ length: S }, (_, s) => x.subarray(s * H, (s + 1) * H));
  const join = (xs: Float64Array[]): Float64Array => {
    const out = new Float64Array(n);
    xs.forEach((x, s) => out.set(x, s * H));
    return out;
  };
  const apply = (q: Float64Array): Float64Array => join(vjp(cell, w, cache, jvp(cell, w, cache, split(q), H, GH), H, GH));
  const dot = (a: Float64Array, b: Float64Array): number => {
    let d = 0;
    for (let i = 0; i < n; i++) d += a[i]! * b[i]!;
    return d;
  };
  const q0 = Float64Array.from({ length: n }, (_, i) => 1 + 0.5 * Math.sin(1 + i));
  const n0 = norm(q0);
  const qs: Float64Array[] = [q0.map((x) => x / n0)];
  const alpha: number[] = [];
  const beta: number[] = [];
  let settled = NaN;
  for (let j = 0; j < Math.min(n, steps); j++) {
    const wv = apply(qs[j]!);
    yield;
    alpha.push(dot(qs[j]!, wv));
    // Full reorthogonalisation (twice is enough): the basis stays orthonormal in floating point.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of qs) {
        const d = dot(q, wv);
        for (let i = 0; i < n; i++) wv[i]! -= d * q[i]!;
      }
    }
    const b = norm(wv);
    if (j + 1 === Math.min(n, steps) || b <= 1e-13 * Math.max(...alpha.map(Math.abs), 1e-300)) break;
    // The top Ritz value settles long before the basis fills: stop once it stops moving (far below the 4 digits shown).
    if (j >= 3 && j % 2 === 1) {
      const now = largestTridiagonalEigenvalue(alpha, beta);
      if (Math.abs(now - settled) <= 1e-8 * now) break;
      settled = now;
    }
    beta.push(b);
    qs.push(wv.map((x) => x / b));
  }
  return Math.sqrt(Math.max(0, largestTridiagonalEigenvalue(alpha, beta)));
}

/** Largest eigenvalue of the symmetric tridiagonal matrix (diagonal a, off-diagonal b), by bisection on Sturm counts. */
function largestTridiagonalEigenvalue(a: readonly number[], b: readonly number[]): number {
  const m = a.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < m; i++) {
    const r = (i > 0 ? Math.abs(b[i - 1]!) : 0) + (i < m - 1 ? Math.abs(b[i]!) : 0);
    lo = Math.min(lo, a[i]! - r);
    hi = Math.max(hi, a[i]! + r);
  }
  /** How many eigenvalues are below x. */
  const below = (x: number): number => {
    let count = 0;
    let d = 1;
    for (let i = 0; i < m; i++) {
      d = a[i]! - x - (i > 0 ? (b[i - 1]! * b[i - 1]!) / d : 0);
      if (d === 0) d = -1e-300;
      if (d < 0) count++;
    }
    return count;
  };
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(Math.abs(hi), Math.abs(lo), 1e-300); it++) {
    const mid = (lo + hi) / 2;
    if (below(mid) >= m) hi = mid;
    else lo = mid;
  }
  return hi;
}

function* traceChain(
  cell: StepThroughCell, w: LayerWeights, fw: Forward, one: LayerStepTerms[], l: number, tau: number, T: number, H: number, GH: number, iterations: number,
  known: Map<number, number>, stop: () => boolean,
): Generator<void, BpttChain, void> {
  const S = cell.state.length;
  const stateGradNorm = new Float64Array(T), jacobianNorm = new Float64Array(T), weightJacobianNorm = new Float64Array(T);
  const weightGradNorm = new Float64Array(T), stateBound = new Float64Array(T), weightBound = new Float64Array(T);
  let bound = norm(one[tau]!.above);
  let factorsFrom = 1;
  for (let k = tau; k >= 0; k--) {
    const cache = fw.caches[l]![k]!;
    const hPrevNorm = norm(fw.state[l]![k]![0]!);
    stateGradNorm[k] = norm(...one[k]!.dState);
    weightGradNorm[k] = norm(one[k]!.grads.dHhPre) * hPrevNorm;
    // Each state element depends on hhPre only at its own index in each gate: a backward pass of ones per state vector gives every nonzero of ∂s_k/∂hhPre.
    let ss = 0;
    for (let v = 0; v < S; v++) {
      const ones = Array.from({ length: S }, (_, u) => new Float64Array(H).fill(u === v ? 1 : 0));
      const d = cell.backward(cache, ones).dHhPre;
      for (let i = 0; i < GH; i++) ss += d[i]! * d[i]!;
    }
    weightJacobianNorm[k] = Math.sqrt(ss) * hPrevNorm;
    stateBound[k] = bound;
    weightBound[k] = bound * weightJacobianNorm[k]!;
    if (k > 0) {
      let j = known.get(k);
      if (j === undefined && factorsFrom === 1 && stop()) factorsFrom = k + 1;
      if (j === undefined && factorsFrom === 1) known.set(k, (j = yield* spectralNorm(cell, w, cache, S, H, GH, iterations)));
      jacobianNorm[k] = factorsFrom === 1 ? j! : NaN;
      bound *= jacobianNorm[k]!;
    }
    yield;
  }
  return { errorAt: tau, stateGradNorm, jacobianNorm, weightJacobianNorm, weightGradNorm, stateBound, weightBound, factorsFrom };
}
