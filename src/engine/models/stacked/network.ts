import { allocFloats, type Floats } from '../../floats';
import type { Kernels } from '../../kernels';
import type { Params } from '../../params';
import type { Rng } from '../../rng';
import { allocateNetwork, type Allocator } from '../buffers';
import type { CarriedTensor, GradientRecord, Network, NetworkShape } from '../family';
import type { Cell, CellKernels, LayerState } from './layerState';

/** T·B·gates·H·layers below which a network keeps plain arrays (the arena's setup would cost more than it saves). */
const ARENA_MIN_WORK = 16384;
/** Multiply-adds of one step's recurrent product from which the native kernels run the loop step by step (see nativeSteps). */
const NATIVE_STEP_MIN_MACS = 1 << 18;

/** Offsets of one layer's four tensors inside the flat parameter buffer. */
interface LayerParams {
  readonly wIh: number;
  readonly wHh: number;
  readonly bIh: number;
  readonly bHh: number;
}

/**
 * PyTorch's stacked recurrent network (nn.RNN/LSTM/GRU over one-hot input,
 * then nn.Linear to the vocabulary) unrolled over one window of T steps and
 * B parallel streams, for any Cell: every buffer forward and backward need,
 * allocated once for its shape, so a training step allocates nothing. One
 * code path for every backend: the kernels (TypeScript, or a wasm arena the
 * buffers live in) and the cell's kernels bound to them once here.
 */
export class StackedCellsNetwork implements Network {
  readonly layers: LayerState[];
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V]: logits, then probabilities after forward, then ∂E/∂logits after backward. */
  readonly probs: Floats;
  readonly carried: readonly CarriedTensor[];
  readonly gradientTaps: number;
  readonly B: number;
  readonly T: number;
  readonly dropout: number;
  /** The kernels every product goes through: an arena of the given kernels when it offers one. */
  readonly kernels: Kernels;
  scored = 0;
  record: GradientRecord | null = null;

  private readonly cellKernels: CellKernels;
  private readonly lp: LayerParams[];
  private readonly decoderWeight: number;
  private readonly decoderBias: number;
  /** [layer]: dropout masks (scaled by 1/(1-p)) and the masked inputs for layers above the first. */
  private readonly masks: Floats[];
  private readonly dropped: Floats[];
  /** [H, GH] transposed W_hh for the recurrent products of backward; outside an arena made by the first backward (inference never needs it). */
  private whhT: Floats;
  /** Staging: the biases of a product (both of a layer, or the decoder's), the scored count. */
  private readonly biasBuf: Floats;
  private readonly scoredBuf: Int32Array;
  private droppedOut = false;

  constructor(readonly params: Params, readonly cell: Cell, shape: NetworkShape) {
    const { B, T, kernels } = shape;
    this.B = B;
    this.T = T;
    this.dropout = shape.dropout ?? 0;
    const { hidden: H, layers: L, vocabSize: V } = params.config;
    const GH = cell.gates * H;
    const TB = T * B;
    this.lp = [];
    for (let l = 0; l < L; l++) {
      this.lp.push({
        wIh: params.offset(`rnn.weight_ih_l${l}`),
        wHh: params.offset(`rnn.weight_hh_l${l}`),
        bIh: params.offset(`rnn.bias_ih_l${l}`),
        bHh: params.offset(`rnn.bias_hh_l${l}`),
      });
    }
    this.decoderWeight = params.offset('decoder.weight');
    this.decoderBias = params.offset('decoder.bias');
    // Where the backend offers it (wasm), every buffer lives in a memory of
    // its own sized once here: the products then use them in place and the
    // cell's elementwise work runs in wasm too.
    const maxW = Math.max(GH * H, V * H, GH * V);
    const scratch = GH * H + Math.max(2 * maxW, maxW + TB * (Math.max(GH, V) + H)) + 64;
    const { kernels: k, arena, buffers: b } = allocateNetwork(kernels, params.dtype, TB * GH * L, ARENA_MIN_WORK, scratch, (a) => this.allocate(a));
    this.kernels = k;
    this.cellKernels = (arena?.wasm && cell.wasm?.(arena.wasm)) || cell.ts;
    this.layers = b.layers;
    this.tokens = b.tokens;
    this.targets = b.targets;
    this.probs = b.probs;
    this.masks = b.masks;
    this.dropped = b.dropped;
    this.whhT = b.whhT;
    this.biasBuf = b.biasBuf;
    this.scoredBuf = b.scoredBuf;
    this.gradientTaps = L;
    const n = B * H;
    this.carried = this.layers.flatMap((s, l) => [
      { name: `h_l${l}`, shape: [B, H], data: s.h.subarray(0, n) },
      ...(cell.cellState ? [{ name: `c_l${l}`, shape: [B, H], data: s.c.subarray(0, n) }] : []),
    ]);
  }

  /** Every buffer of the network from one allocator. */
  private allocate(a: Allocator) {
    const f = a.floats;
    const fi = a.ints;
    const { params, B, T, dropout, cell } = this;
    const { hidden: H, layers: L, vocabSize: V } = params.config;
    const GH = cell.gates * H;
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
        c: f(cell.cellState ? (T + 1) * B * H : 0),
        aux: f(cell.aux ? TB * H : 0),
        bhn: f(cell.hhBiasInsideGates * H),
        dOut: f(TB * H),
        dh: f(B * H),
        dc: f(cell.cellState ? B * H : 0),
        dPre,
        dPreHh: cell.separateRecurrentGrad ? f(TB * GH) : dPre,
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
    return {
      layers, tokens, targets, probs, masks, dropped,
      whhT: f(a.inArena ? H * GH : 0),
      biasBuf: f(Math.max(GH, V)),
      scoredBuf: fi(1),
    };
  }

  resetState(): void {
    for (const c of this.carried) c.data.fill(0);
  }

  carryState(): void {
    const n = this.B * this.H;
    const last = this.T * n;
    for (const s of this.layers) {
      s.h.copyWithin(0, last, last + n);
      s.c.copyWithin(0, last, last + n);
    }
  }

  get H(): number {
    return this.params.config.hidden;
  }

  readQuantity(name: string, layer: number, b: number, out: Float32Array): void {
    const s = this.layers[layer];
    if (!s) throw new Error(`no layer ${layer}`);
    const { B, H, GH } = s;
    const g = this.cell.gateNames.indexOf(name);
    const state = name === 'h' ? s.h : name === 'c' && this.cell.cellState ? s.c : null;
    if (!state && g < 0) throw new Error(`no quantity ${name}`);
    for (let t = 0; t < this.T; t++) {
      // h and c: slot t+1 holds step t's output; gates: the activated gates in pre.
      const from = state ? ((t + 1) * B + b) * H : (t * B + b) * GH + g * H;
      const src = state ?? s.pre;
      for (let j = 0; j < H; j++) out[t * H + j] = src[from + j]!;
    }
  }

  forward(rng: Rng | null = null): number {
    const { params, kernels, B, T, cell } = this;
    const ck = this.cellKernels;
    const { hidden: H, vocabSize: V } = params.config;
    const data = params.data;
    const TB = T * B;
    this.droppedOut = rng !== null && this.masks[1] !== undefined && this.masks[1].length > 0;
    const bias = this.biasBuf;
    for (let l = 0; l < this.layers.length; l++) {
      const s = this.layers[l]!;
      const lp = this.lp[l]!;
      const GH = s.GH;
      const pre = s.pre;
      const hhBiasEnd = GH - cell.hhBiasInsideGates * H;
      // Both biases once, then a row gather (one-hot input) or the product plus a broadcast.
      for (let g = 0; g < GH; g++) bias[g] = data[lp.bIh + g]! + (g < hhBiasEnd ? data[lp.bHh + g]! : 0);
      if (l === 0) {
        kernels.gatherCols(pre, data, lp.wIh, V, this.tokens, bias, TB, GH);
      } else {
        kernels.gemmABt(pre, 0, this.layerInput(l, rng), this.droppedOut ? 0 : B * H, data, lp.wIh, TB, GH, H, false);
        kernels.addRows(pre, bias, TB, GH);
      }
      for (let j = hhBiasEnd; j < GH; j++) s.bhn[j - hhBiasEnd] = data[lp.bHh + j]!;
      if (!this.nativeSteps(GH) && ck.forwardLoop?.(s, T, data, lp.wHh)) continue;
      // W_hh is constant across the time loop: a copying backend moves it once, the native one packs it once.
      kernels.hold?.(data, lp.wHh, GH * H);
      for (let t = 0; t < T; t++) {
        kernels.gemmABt(s.hh, 0, s.h, t * B * H, data, lp.wHh, B, GH, H, false);
        ck.forwardStep(s, t);
      }
      kernels.release?.();
    }
    // Decoder and softmax cross-entropy over all T·B positions at once.
    const top = this.layers[this.layers.length - 1]!;
    kernels.gemmABt(this.probs, 0, top.h, B * H, data, this.decoderWeight, TB, V, H, false);
    for (let v = 0; v < V; v++) bias[v] = data[this.decoderBias + v]!;
    const loss = kernels.softmaxXent(this.probs, bias, this.targets, TB, V, this.scoredBuf);
    const scored = (this.scored = this.scoredBuf[0]!);
    return scored > 0 ? loss / scored : 0;
  }

  /** The input of layer l > 0: the layer below's outputs (from slot 1), or their dropped-out copy (from 0). */
  /**
   * Whether the time loop runs step by step on native products (W_hh packed
   * once per window) rather than as one wasm loop: where the kernels have
   * them and each step's product is large enough that a call per step costs
   * little (B·4H·H ≥ 2¹⁸ multiply-adds for an LSTM).
   */
  private nativeSteps(GH: number): boolean {
    return !!this.kernels.native && this.B * GH * this.H >= NATIVE_STEP_MIN_MACS;
  }

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

  backward(): void {
    const { params, kernels, B, T, cell } = this;
    const ck = this.cellKernels;
    const { hidden: H, vocabSize: V } = params.config;
    const data = params.data;
    const grad = params.grad;
    const TB = T * B;
    const probs = this.probs;
    const scale = this.scored > 0 ? 1 / this.scored : 0;
    // ∂E/∂logits = (p - onehot(y)) / N, zero for unscored rows.
    kernels.xentGrad(probs, this.targets, TB, V, scale);
    const L = this.layers.length;
    const top = this.layers[L - 1]!;
    kernels.gemmAtB(grad, this.decoderWeight, probs, 0, top.h, B * H, V, H, TB, true);
    kernels.addColSums(grad, this.decoderBias, probs, TB, V, -1);
    kernels.gemmAB(top.dOut, 0, probs, 0, data, this.decoderWeight, TB, H, V, false);

    for (let l = L - 1; l >= 0; l--) {
      const s = this.layers[l]!;
      const lp = this.lp[l]!;
      const GH = s.GH;
      if (this.whhT.length < H * GH) this.whhT = allocFloats(params.dtype, H * GH);
      kernels.transpose(this.whhT, 0, data, lp.wHh, GH, H);
      // Truncated BPTT: nothing flows in from beyond the window.
      s.dh.fill(0);
      s.dc.fill(0);
      const rec = this.record;
      // The whole loop in one call where the backend has it (not while recording per-step statistics).
      const looped = !rec && !this.nativeSteps(GH) && ck.backwardLoop?.(s, T, this.whhT) === true;
      if (!looped) kernels.hold?.(this.whhT, 0, H * GH);
      for (let t = T - 1; t >= 0 && !looped; t--) {
        if (rec) rec.hGradNorm[l]![t] = sumSquaresOfSum(s.dOut, t * B * H, s.dh, B * H);
        ck.backwardStep(s, t);
        if (rec) {
          rec.hGradNorm[l]![t] = Math.sqrt(rec.hGradNorm[l]![t]!);
          rec.wContribution[l]![t] = Math.sqrt(
            sumSquares(s.dPreHh, t * B * GH, B * GH) * sumSquares(s.h, t * B * H, B * H),
          );
        }
        kernels.gemmABt(s.dh, 0, s.dPreHh, t * B * GH, this.whhT, 0, B, H, GH, cell.directRecurrent);
      }
      kernels.release?.();
      kernels.gemmAtB(grad, lp.wHh, s.dPreHh, 0, s.h, 0, GH, H, TB, true);
      // When both sides share δ (all but the GRU), one set of column sums serves both biases.
      const shared = s.dPreHh === s.dPre;
      kernels.addColSums(grad, lp.bHh, s.dPreHh, TB, GH, shared ? lp.bIh : -1);
      if (!shared) kernels.addColSums(grad, lp.bIh, s.dPre, TB, GH, -1);
      if (l === 0) {
        // One-hot input: ∇U is a scatter-add of δ into the token's column.
        kernels.scatterAddCols(grad, lp.wIh, V, this.tokens, s.dPre, TB, GH);
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
