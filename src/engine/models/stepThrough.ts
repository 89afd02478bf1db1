/**
 * What a recurrent family offers the backpropagation-through-time
 * step-through (src/engine/bptt.ts): one step of its cell in float64 over
 * one stream, forward, backward (a vector-Jacobian product) and its
 * tangent (a Jacobian-vector product), plus the terms of its own δ
 * recursion, named in TeX as the design document writes them. The network
 * around the cell (one-hot input, W_ih, W_hh, the stacked layers, the
 * decoder) is the step-through's; the cell sees only pre-activations:
 *
 *     xPre  = W_ih x_t + b_ih          hhPre = W_hh h_{t-1} + b_hh
 *
 * Each state element i depends on xPre and hhPre only at index g·H + i of
 * each gate g (the cells are elementwise): the step-through relies on it
 * for ‖∂s_t/∂W_hh‖ (tested against finite differences).
 */

/** One vector of a step, named in TeX. */
export interface StepTerm {
  /** Stable key for tests and the page, e.g. `fprime`, `delta`. */
  readonly key: string;
  readonly tex: string;
  readonly values: Float64Array;
}

/** What backward returns for one step. */
export interface StepGrads {
  /** ∂/∂xPre and ∂/∂hhPre, [GH] each (the same values for a cell without a separate recurrent side). */
  readonly dXPre: Float64Array;
  readonly dHhPre: Float64Array;
  /** Per state vector: the part of ∂/∂state_{t-1} that does not go through W_hh (the GRU's z ⊙ …, the LSTM's f ⊙ δc). */
  readonly dPrev: Float64Array[];
}

/** A cell's values at one step, kept for backward and its terms (the family's own shape). */
export type StepCache = object;

export interface StepThroughCell {
  /** The state vectors a step carries, `h` first, in TeX (`h`, `c`). */
  readonly state: readonly string[];
  /** The δ recursion of this cell in TeX, shown above the terms. */
  readonly recursionTex: string;
  /** TeX of the recurrent term W_hhᵀ δ_{t+1} in this cell's notation. */
  readonly recurrentTex: string;
  /** TeX of each state vector's direct path to the step before (null where there is none). */
  readonly directTex: readonly (string | null)[];
  /** The state vector the chain's factors are Jacobians of, in TeX (`h`, `(h,c)`). */
  readonly chainStateTex: string;
  /** Runs one step: reads xPre, hhPre [GH] and the previous state, writes the new state into `next`. */
  forward(xPre: Float64Array, hhPre: Float64Array, prev: readonly Float64Array[], next: Float64Array[]): StepCache;
  /** ∂ of this step's pre-activations and previous state from `dNext`, ∂ of each state vector after the step. */
  backward(cache: StepCache, dNext: readonly Float64Array[]): StepGrads;
  /** The new state's tangent when hhPre moves by dHhPre and the previous state by dPrev (W_hh's part comes in through dHhPre). */
  tangent(cache: StepCache, dHhPre: Float64Array, dPrev: readonly Float64Array[]): Float64Array[];
  /** This cell's own terms at the step, from its values, `dNext` (∂E/∂ state, everything included) and its backward. */
  terms(cache: StepCache, dNext: readonly Float64Array[], grads: StepGrads): StepTerm[];
}
