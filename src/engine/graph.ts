import { cellOps, type CellOps, type LayerState } from './cells';
import { allocFloats, type Floats } from './floats';
import type { Kernels } from './kernels';
import type { Params } from './params';
import type { Rng } from './rng';

/** Per-step gradient statistics, filled by a backward pass run with `record`. */
export interface GradientRecord {
  /** [layer][t]: ‖∂E/∂h_t‖ over the batch, including what flows back through time. */
  readonly hGradNorm: Float64Array[];
  /** [layer][t]: ‖δ_t‖·‖h_{t-1}‖, the size of step t's term δ_t h_{t-1}ᵀ in ∇W_hh (exact for B = 1). */
  readonly wContribution: Float64Array[];
}

/**
 * The unrolled network over one window of T steps and B parallel streams:
 * every buffer forward and backward need, allocated once for its shape, so a
 * training step allocates nothing.
 */
export class Graph {
  readonly cell: CellOps;
  readonly layers: LayerState[];
  /** [T·B] input tokens and targets, row r = t·B + b; a target < 0 is not scored. */
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V]: logits, then probabilities after forward, then ∂E/∂logits after backward. */
  readonly probs: Floats;
  /** [layer]: dropout masks (scaled by 1/(1-p)) and the masked inputs for layers above the first. */
  private readonly masks: Floats[];
  private readonly dropped: Floats[];
  /** [H, GH] transposed W_hh for the recurrent products of backward. */
  private readonly whhT: Floats;
  /** Number of scored predictions in the last forward. */
  scored = 0;
  record: GradientRecord | null = null;
  private droppedOut = false;

  constructor(
    readonly params: Params,
    readonly B: number,
    readonly T: number,
    readonly kernels: Kernels,
    readonly dropout = 0,
  ) {
    const { cell, hidden: H, layers: L, vocabSize: V } = params.config;
    this.cell = cellOps(cell);
    const GH = this.cell.gates * H;
    const dtype = params.dtype;
    const f = (n: number): Floats => allocFloats(dtype, n);
    const TB = T * B;
    this.layers = [];
    for (let l = 0; l < L; l++) {
      const dPre = f(TB * GH);
      this.layers.push({
        B, H, GH,
        activation: params.config.activation,
        pre: f(TB * GH),
        hh: f(B * GH),
        h: f((T + 1) * B * H),
        c: f(cell === 'lstm' ? (T + 1) * B * H : 0),
        aux: f(cell === 'rnn' ? 0 : TB * H),
        params: params.data,
        bHh: params.layers[l]!.bHh,
        dOut: f(TB * H),
        dh: f(B * H),
        dc: f(cell === 'lstm' ? B * H : 0),
        dPre,
        dPreHh: cell === 'gru' ? f(TB * GH) : dPre,
      });
    }
    this.tokens = new Int32Array(TB);
    this.targets = new Int32Array(TB);
    this.probs = f(TB * V);
    const withDropout = dropout > 0 && L > 1;
    this.masks = [];
    this.dropped = [];
    for (let l = 0; l < L; l++) {
      this.masks.push(f(withDropout && l > 0 ? TB * H : 0));
      this.dropped.push(f(withDropout && l > 0 ? TB * H : 0));
    }
    this.whhT = f(H * GH);
  }

  /** Sets the carried-in state to zero (start of an epoch or a stream). */
  resetState(): void {
    for (const s of this.layers) {
      const n = s.B * s.H;
      s.h.fill(0, 0, n);
      s.c.fill(0, 0, s.c.length ? n : 0);
    }
  }

  /** Carries the state at the end of the window into slot 0 for the next window (truncated BPTT). */
  carryState(): void {
    const n = this.B * this.H;
    const last = this.T * n;
    for (const s of this.layers) {
      s.h.copyWithin(0, last, last + n);
      if (s.c.length) s.c.copyWithin(0, last, last + n);
    }
  }

  get H(): number {
    return this.params.config.hidden;
  }

  /**
   * Runs the window forward and returns the mean cross-entropy (nats) over the
   * scored targets; `rng` given means training mode (dropout on).
   */
  forward(rng: Rng | null = null): number {
    const { params, kernels, B, T } = this;
    const { hidden: H, vocabSize: V } = params.config;
    const data = params.data;
    const TB = T * B;
    this.droppedOut = rng !== null && this.masks[1] !== undefined && this.masks[1].length > 0;
    for (let l = 0; l < this.layers.length; l++) {
      const s = this.layers[l]!;
      const lp = params.layers[l]!;
      const GH = s.GH;
      const pre = s.pre;
      // Input projection for all T steps at once: a gather for one-hot input,
      // one large product for the layers above.
      if (l === 0) {
        for (let r = 0; r < TB; r++) {
          const col = lp.wIh + this.tokens[r]!;
          const o = r * GH;
          for (let g = 0; g < GH; g++) pre[o + g] = data[col + g * V]!;
        }
      } else {
        const below = this.layers[l - 1]!.h;
        let x: Floats = below;
        let xOff = B * H;
        if (this.droppedOut) {
          x = this.dropped[l]!;
          xOff = 0;
          this.fillDropout(l, below, rng!);
        }
        kernels.gemmABt(pre, 0, x, xOff, data, lp.wIh, TB, GH, H, false);
      }
      const hhBiasEnd = this.cell.hhBiasOutside ? GH : GH - H;
      for (let r = 0; r < TB; r++) {
        const o = r * GH;
        for (let g = 0; g < GH; g++) pre[o + g] += data[lp.bIh + g]!;
        for (let g = 0; g < hhBiasEnd; g++) pre[o + g] += data[lp.bHh + g]!;
      }
      // W_hh is constant across the time loop: a copying backend moves it once.
      kernels.hold?.(data, lp.wHh, GH * H);
      for (let t = 0; t < T; t++) {
        kernels.gemmABt(s.hh, 0, s.h, t * B * H, data, lp.wHh, B, GH, H, false);
        this.cell.forwardStep(s, t);
      }
      kernels.release?.();
    }
    // Decoder and softmax cross-entropy over all T·B positions at once.
    const top = this.layers[this.layers.length - 1]!;
    const probs = this.probs;
    kernels.gemmABt(probs, 0, top.h, B * H, data, params.decoderWeight, TB, V, H, false);
    let loss = 0;
    let scored = 0;
    const bias = params.decoderBias;
    for (let r = 0; r < TB; r++) {
      const o = r * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) {
        const z = (probs[o + v] += data[bias + v]!);
        if (z > max) max = z;
      }
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(probs[o + v]! - max);
      const target = this.targets[r]!;
      if (target >= 0) {
        // log-sum-exp form: exact even where the target's probability underflows.
        loss += Math.log(sum) + max - probs[o + target]!;
        scored++;
      }
      const inv = 1 / sum;
      for (let v = 0; v < V; v++) probs[o + v] = Math.exp(probs[o + v]! - max) * inv;
    }
    this.scored = scored;
    return scored > 0 ? loss / scored : 0;
  }

  private fillDropout(l: number, below: Floats, rng: Rng): void {
    const mask = this.masks[l]!;
    const out = this.dropped[l]!;
    const p = this.dropout;
    const keep = 1 / (1 - p);
    const off = this.B * this.H;
    for (let k = 0; k < mask.length; k++) {
      const m = rng.uniform() >= p ? keep : 0;
      mask[k] = m;
      out[k] = below[off + k]! * m;
    }
  }

  /**
   * Backpropagation through time for the last forward: adds ∂(mean loss)/∂θ
   * into params.grad (the caller zeroes it when a new step starts).
   */
  backward(): void {
    const { params, kernels, B, T } = this;
    const { hidden: H, vocabSize: V } = params.config;
    const data = params.data;
    const grad = params.grad;
    const TB = T * B;
    const probs = this.probs;
    const scale = this.scored > 0 ? 1 / this.scored : 0;
    // ∂E/∂logits = (p - onehot(y)) / N, zero for unscored rows.
    for (let r = 0; r < TB; r++) {
      const o = r * V;
      const target = this.targets[r]!;
      if (target < 0) {
        probs.fill(0, o, o + V);
        continue;
      }
      for (let v = 0; v < V; v++) probs[o + v] *= scale;
      probs[o + target] -= scale;
    }
    const L = this.layers.length;
    const top = this.layers[L - 1]!;
    kernels.gemmAtB(grad, params.decoderWeight, probs, 0, top.h, B * H, V, H, TB, true);
    columnSums(grad, params.decoderBias, probs, TB, V);
    kernels.gemmAB(top.dOut, 0, probs, 0, data, params.decoderWeight, TB, H, V, false);

    for (let l = L - 1; l >= 0; l--) {
      const s = this.layers[l]!;
      const lp = params.layers[l]!;
      const GH = s.GH;
      kernels.transpose(this.whhT, 0, data, lp.wHh, GH, H);
      // Truncated BPTT: nothing flows in from beyond the window.
      s.dh.fill(0);
      s.dc.fill(0);
      const rec = this.record;
      kernels.hold?.(this.whhT, 0, H * GH);
      for (let t = T - 1; t >= 0; t--) {
        if (rec) rec.hGradNorm[l]![t] = sumSquaresOfSum(s.dOut, t * B * H, s.dh, B * H);
        this.cell.backwardStep(s, t);
        if (rec) {
          rec.hGradNorm[l]![t] = Math.sqrt(rec.hGradNorm[l]![t]!);
          rec.wContribution[l]![t] = Math.sqrt(
            sumSquares(s.dPreHh, t * B * GH, B * GH) * sumSquares(s.h, t * B * H, B * H),
          );
        }
        kernels.gemmABt(s.dh, 0, s.dPreHh, t * B * GH, this.whhT, 0, B, H, GH, this.cell.directRecurrent);
      }
      kernels.release?.();
      kernels.gemmAtB(grad, lp.wHh, s.dPreHh, 0, s.h, 0, GH, H, TB, true);
      columnSums(grad, lp.bHh, s.dPreHh, TB, GH);
      columnSums(grad, lp.bIh, s.dPre, TB, GH);
      if (l === 0) {
        // One-hot input: ∇U is a scatter-add of δ into the token's column.
        for (let r = 0; r < TB; r++) {
          const col = lp.wIh + this.tokens[r]!;
          const o = r * GH;
          for (let g = 0; g < GH; g++) grad[col + g * V] += s.dPre[o + g]!;
        }
      } else {
        const below = this.layers[l - 1]!;
        const x = this.droppedOut ? this.dropped[l]! : below.h;
        const xOff = this.droppedOut ? 0 : B * H;
        kernels.gemmAtB(grad, lp.wIh, s.dPre, 0, x, xOff, GH, H, TB, true);
        kernels.gemmAB(below.dOut, 0, s.dPre, 0, data, lp.wIh, TB, H, GH, false);
        if (this.droppedOut) {
          const mask = this.masks[l]!;
          for (let k = 0; k < mask.length; k++) below.dOut[k] *= mask[k]!;
        }
      }
    }
  }
}

/** out[off + j] += Σ_r a[r, j] */
function columnSums(out: Floats, off: number, a: Floats, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[off + j] += a[o + j]!;
  }
}

function sumSquares(a: Floats, off: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[off + k]! * a[off + k]!;
  return s;
}

function sumSquaresOfSum(a: Floats, aOff: number, b: Floats, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) {
    const v = a[aOff + k]! + b[k]!;
    s += v * v;
  }
  return s;
}

/** A record sized for a graph, for instrumentation runs. */
export function newGradientRecord(layers: number, T: number): GradientRecord {
  const mk = (): Float64Array[] => Array.from({ length: layers }, () => new Float64Array(T));
  return { hGradNorm: mk(), wContribution: mk() };
}
