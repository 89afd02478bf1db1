import { cellOps, type CellOps, type LayerState } from './cells';
import { allocFloats, type Floats } from './floats';
import type { ArenaKernels, Kernels } from './kernels';
import type { Params } from './params';
import type { Rng } from './rng';

/** T·B·gates·H·layers below which a graph keeps plain arrays (the arena's setup would cost more than it saves). */
const ARENA_MIN_WORK = 16384;

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
  /** W_hhᵀ for the backward pass; outside an arena allocated by the first backward (inference never needs it). */
  private whhT: Floats;
  /** Number of scored predictions in the last forward. */
  scored = 0;
  record: GradientRecord | null = null;
  private droppedOut = false;

  /** The kernels every product goes through: an arena of `kernels` when it offers one. */
  readonly kernels: Kernels;
  /** Set when the buffers live in a wasm arena: the elementwise work then runs fused in wasm too. */
  private readonly fused: ArenaKernels | null;
  /** Arena-only staging buffers (empty otherwise): biases, b_hn, column sums, the one-hot input table and its gradient. */
  private readonly biasBuf: Float32Array;
  private readonly bhnBuf: Float32Array;
  private readonly colBuf: Float32Array;
  private readonly inputTable: Float32Array;
  private readonly inputGrad: Float32Array;
  private readonly scoredBuf: Int32Array;

  constructor(
    readonly params: Params,
    readonly B: number,
    readonly T: number,
    kernels: Kernels,
    readonly dropout = 0,
  ) {
    const { cell, hidden: H, vocabSize: V } = params.config;
    this.cell = cellOps(cell);
    const GH = this.cell.gates * H;
    const dtype = params.dtype;
    const TB = T * B;
    // Where the backend offers it (wasm), every buffer lives in a memory of
    // its own sized once here: the products then use them in place and the
    // elementwise work runs fused in wasm. First pass counts, second carves.
    // A memory of its own costs a wasm instance per graph, which only pays
    // off for windows with some work in them (not one-character inference).
    let arena: ArenaKernels | null = null;
    if (dtype === 'f32' && kernels.arena && TB * GH * params.config.layers >= ARENA_MIN_WORK) {
      let floats = 0;
      const none = new Float32Array(0);
      this.allocate((n) => { floats += (n + 3) & ~3; return none; }, (n) => { floats += (n + 3) & ~3; return new Int32Array(0); }, true);
      const maxW = Math.max(GH * H, V * H, GH * V);
      const scratch = GH * H + Math.max(2 * maxW, maxW + TB * (Math.max(GH, V) + H)) + 64;
      arena = kernels.arena(floats + 64, scratch);
    }
    this.fused = arena;
    this.kernels = arena ?? kernels;
    const b = arena
      ? this.allocate((n) => arena.f32(n), (n) => arena.i32(n), true)
      : this.allocate((n) => allocFloats(dtype, n), (n) => new Int32Array(n), false);
    this.layers = b.layers;
    this.tokens = b.tokens;
    this.targets = b.targets;
    this.probs = b.probs;
    this.masks = b.masks;
    this.dropped = b.dropped;
    this.whhT = b.whhT;
    this.biasBuf = b.biasBuf;
    this.bhnBuf = b.bhnBuf;
    this.colBuf = b.colBuf;
    this.inputTable = b.inputTable;
    this.inputGrad = b.inputGrad;
    this.scoredBuf = b.scoredBuf;
  }

  /** Every buffer of the graph from one allocator (`staging`: also the arena-only ones). */
  private allocate(f: (n: number) => Floats, fi: (n: number) => Int32Array, staging: boolean) {
    const { params, B, T, dropout } = this;
    const { cell, hidden: H, layers: L, vocabSize: V } = params.config;
    const GH = this.cell.gates * H;
    const TB = T * B;
    const layers: LayerState[] = [];
    for (let l = 0; l < L; l++) {
      const dPre = f(TB * GH);
      layers.push({
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
    const tokens = fi(TB);
    const targets = fi(TB);
    const probs = f(TB * V);
    const withDropout = dropout > 0 && L > 1;
    const masks: Floats[] = [];
    const dropped: Floats[] = [];
    for (let l = 0; l < L; l++) {
      masks.push(f(withDropout && l > 0 ? TB * H : 0));
      dropped.push(f(withDropout && l > 0 ? TB * H : 0));
    }
    const whhT = f(staging ? H * GH : 0);
    const s32 = (n: number): Float32Array => (staging ? f(n) : new Float32Array(0)) as Float32Array;
    return {
      layers, tokens, targets, probs, masks, dropped, whhT,
      biasBuf: s32(Math.max(GH, V)),
      bhnBuf: s32(cell === 'gru' ? H : 0),
      colBuf: s32(Math.max(GH, V)),
      inputTable: s32(V * GH),
      inputGrad: s32(V * GH),
      scoredBuf: staging ? fi(1) : new Int32Array(0),
    };
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
    const fused = this.fused;
    const cellType = params.config.cell;
    for (let l = 0; l < this.layers.length; l++) {
      const s = this.layers[l]!;
      const lp = params.layers[l]!;
      const GH = s.GH;
      const pre = s.pre;
      const hhBiasEnd = this.cell.hhBiasOutside ? GH : GH - H;
      if (fused) {
        // Both biases once, then a row gather (one-hot input) or the product plus a broadcast.
        const bias = this.biasBuf;
        for (let g = 0; g < GH; g++) bias[g] = data[lp.bIh + g]! + (g < hhBiasEnd ? data[lp.bHh + g]! : 0);
        if (l === 0) {
          fused.transpose(this.inputTable, 0, data, lp.wIh, GH, V);
          fused.gatherRows(pre as Float32Array, this.inputTable, this.tokens, bias, TB, GH);
        } else {
          kernels.gemmABt(pre, 0, this.layerInput(l, rng), this.droppedOut ? 0 : B * H, data, lp.wIh, TB, GH, H, false);
          fused.addRows(pre as Float32Array, bias, TB, GH);
        }
        if (cellType === 'gru') for (let j = 0; j < H; j++) this.bhnBuf[j] = data[lp.bHh + 2 * H + j]!;
        if (fused.forwardLoop?.(cellType, s, T, data, lp.wHh, this.bhnBuf)) continue;
        kernels.hold?.(data, lp.wHh, GH * H);
        for (let t = 0; t < T; t++) {
          kernels.gemmABt(s.hh, 0, s.h, t * B * H, data, lp.wHh, B, GH, H, false);
          fused.cellForward(cellType, s, t, this.bhnBuf);
        }
        kernels.release?.();
        continue;
      }
      // Input projection for all T steps at once: a gather for one-hot input,
      // one large product for the layers above.
      if (l === 0) {
        for (let r = 0; r < TB; r++) {
          const col = lp.wIh + this.tokens[r]!;
          const o = r * GH;
          for (let g = 0; g < GH; g++) pre[o + g] = data[col + g * V]!;
        }
      } else {
        kernels.gemmABt(pre, 0, this.layerInput(l, rng), this.droppedOut ? 0 : B * H, data, lp.wIh, TB, GH, H, false);
      }
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
    const bias = params.decoderBias;
    if (fused) {
      const b = this.biasBuf;
      for (let v = 0; v < V; v++) b[v] = data[bias + v]!;
      const loss = fused.softmaxXent(probs as Float32Array, b, this.targets, TB, V, this.scoredBuf);
      const scored = (this.scored = this.scoredBuf[0]!);
      return scored > 0 ? loss / scored : 0;
    }
    let loss = 0;
    let scored = 0;
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

  /** The input of layer l > 0: the layer below's outputs (from slot 1), or their dropped-out copy (from 0). */
  private layerInput(l: number, rng: Rng | null): Floats {
    const below = this.layers[l - 1]!.h;
    if (!this.droppedOut) return below;
    this.fillDropout(l, below, rng!);
    return this.dropped[l]!;
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
    const fused = this.fused;
    const cellType = params.config.cell;
    // ∂E/∂logits = (p - onehot(y)) / N, zero for unscored rows.
    if (fused) fused.xentGrad(probs as Float32Array, this.targets, TB, V, scale);
    else {
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
    }
    const L = this.layers.length;
    const top = this.layers[L - 1]!;
    kernels.gemmAtB(grad, params.decoderWeight, probs, 0, top.h, B * H, V, H, TB, true);
    this.columnSums(grad, params.decoderBias, probs, TB, V);
    kernels.gemmAB(top.dOut, 0, probs, 0, data, params.decoderWeight, TB, H, V, false);

    for (let l = L - 1; l >= 0; l--) {
      const s = this.layers[l]!;
      const lp = params.layers[l]!;
      const GH = s.GH;
      if (this.whhT.length < H * GH) this.whhT = allocFloats(params.dtype, H * GH);
      kernels.transpose(this.whhT, 0, data, lp.wHh, GH, H);
      // Truncated BPTT: nothing flows in from beyond the window.
      s.dh.fill(0);
      s.dc.fill(0);
      const rec = this.record;
      // The whole loop in one call where the backend has it (not while recording per-step statistics).
      const looped = !rec && fused !== null && fused.backwardLoop?.(cellType, s, T, this.whhT as Float32Array) === true;
      if (!looped) kernels.hold?.(this.whhT, 0, H * GH);
      for (let t = T - 1; t >= 0 && !looped; t--) {
        if (rec) rec.hGradNorm[l]![t] = sumSquaresOfSum(s.dOut, t * B * H, s.dh, B * H);
        if (fused) fused.cellBackward(cellType, s, t);
        else this.cell.backwardStep(s, t);
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
      this.columnSums(grad, lp.bHh, s.dPreHh, TB, GH, s.dPreHh === s.dPre ? lp.bIh : -1);
      if (s.dPreHh !== s.dPre || !this.fused) this.columnSums(grad, lp.bIh, s.dPre, TB, GH);
      if (l === 0) {
        // One-hot input: ∇U is a scatter-add of δ into the token's column.
        if (fused) {
          const table = this.inputGrad;
          table.fill(0);
          fused.scatterAddRows(table, this.tokens, s.dPre as Float32Array, TB, GH);
          for (let v = 0; v < V; v++) {
            const o = v * GH;
            for (let g = 0; g < GH; g++) grad[lp.wIh + g * V + v] += table[o + g]!;
          }
        } else {
          for (let r = 0; r < TB; r++) {
            const col = lp.wIh + this.tokens[r]!;
            const o = r * GH;
            for (let g = 0; g < GH; g++) grad[col + g * V] += s.dPre[o + g]!;
          }
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

  /** out[off + j] += Σ_r a[r, j] (and out[off2 + j] in the arena; the caller sums again otherwise) */
  private columnSums(out: Floats, off: number, a: Floats, rows: number, cols: number, off2 = -1): void {
    if (this.fused) {
      // In the arena the sums are formed once, then added (also at off2, when given: LSTM's two biases share δ).
      const sums = this.colBuf;
      this.fused.colSums(sums, a as Float32Array, rows, cols);
      for (let j = 0; j < cols; j++) out[off + j] += sums[j]!;
      if (off2 >= 0) for (let j = 0; j < cols; j++) out[off2 + j] += sums[j]!;
      return;
    }
    columnSums(out, off, a, rows, cols);
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
