import { allocFloats, type Floats } from '../../floats';
import type { ArenaKernels, Kernels } from '../../kernels';
import type { Rng } from '../../rng';
import { CausalSelfAttention, createAttentionMixer } from '../gpt/attention';
import { createMinGruMixer } from '../mingru/scan';
import { createMinLstmMixer } from '../minlstm/scan';
import { blockFamilyOf, gptShape, LN_EPS, type BlockFamily } from './config';
import { blockActivationFloats } from './memory';
import type { CarriedTensor, Mixer, MixerFactory } from './mixer';
import { dropoutForward, multiplyInto, stepSumSquares } from './ops';
import { tsRowOps, wasmRowOps, type BlockRowOps } from './rowOps';
import type { BlockParamHolder } from './specs';

/** T·B·C·L below which a network keeps plain arrays (an arena's setup would cost more than it saves). */
const ARENA_MIN_WORK = 16384;
/** Floats of alignment padding per block the arena may add (each buffer is rounded up to 4 floats). */
const ARENA_ALIGN_SLACK = 128;

export const MIXERS: Readonly<Record<BlockFamily, MixerFactory>> = {
  gpt: createAttentionMixer,
  mingru: createMinGruMixer,
  minlstm: createMinLstmMixer,
};

/**
 * Filled by a backward pass run with `record` set (the Gradient Flow panel);
 * the same shape as the cells' record, one row per block.
 */
export interface BlockGradientRecord {
  /** [block][t]: ‖∂E/∂x_t‖ over the batch on the residual stream entering block i. */
  readonly hGradNorm: Float64Array[];
  /** [block][t]: ‖δ_t‖·‖u_t‖, step t's term in the gradient of the mixer's input weight (to_gates, c_attn); exact for B = 1. */
  readonly wContribution: Float64Array[];
}

export function newBlockGradientRecord(layers: number, T: number): BlockGradientRecord {
  const mk = (): Float64Array[] => Array.from({ length: layers }, () => new Float64Array(T));
  return { hGradNorm: mk(), wContribution: mk() };
}

/** Offsets of one block's own tensors (the mixer finds its own). */
interface BlockOffsets {
  ln1W: number; ln1B: number; ln2W: number; ln2B: number;
  fcW: number; fcB: number; projW: number; projB: number;
}

/**
 * A block model (DESIGN §2b) over one window of T steps and B streams, rows
 * r = t·B + b, with every buffer allocated once for its shape:
 *
 *     x = drop(wte[token] (+ wpe[t]))
 *     per block: x = x + mix(LN_1(x)); x = x + drop(c_proj(GELU(c_fc(LN_2(x)))))
 *     logits = LN_f(x) wteᵀ
 *
 * The same surface as the cells' Graph: tokens/targets, probs, scored,
 * forward/backward, resetState/carryState, plus the carried tensors and a
 * gradient record on the residual stream.
 */
export class BlockNetwork<P extends BlockParamHolder = BlockParamHolder> {
  /** [T·B] input tokens and targets; a target < 0 is not scored. */
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V]: logits, then probabilities after forward, then ∂(mean loss)/∂logits after backward. */
  readonly probs: Floats;
  readonly mixers: readonly Mixer[];
  /** Every tensor carried between windows, in block order: the recurrent mixers' `h_b{i}` [B, C]; none for gpt. */
  readonly carried: readonly CarriedTensor[];
  /** [2L + 1][T·B, C]: the residual stream, entry 2i into block i, 2i + 1 after its mixer, 2L into LN_f. */
  readonly stream: readonly Floats[];
  scored = 0;
  record: BlockGradientRecord | null = null;
  /** The kernels every product goes through: an arena of the given kernels when they offer one. */
  readonly kernels: Kernels;
  /** Floats this network allocated (for the memory estimate's test). */
  readonly allocatedFloats: number;
  /** The row-wise work: wasm kernels on the arena's buffers where there is one, else TypeScript. */
  readonly ops: BlockRowOps;
  /**
   * Where every kernel reads the parameters and adds the gradients: in an
   * arena, resident copies (data refreshed from params.data each forward,
   * grad loaded from and stored back to params.grad around each backward);
   * otherwise params.data and params.grad themselves.
   */
  private readonly data: Floats;
  private readonly grad: Floats;
  private readonly staged: boolean;

  private readonly C: number;
  private readonly V: number;
  private readonly L: number;
  private readonly offsets: readonly BlockOffsets[];
  private readonly wte: number;
  private readonly wpe: number;
  private readonly lnfW: number;
  private readonly lnfB: number;
  private readonly u1: Floats[] = [];
  private readonly u2: Floats[] = [];
  private readonly ln1Mean: Floats[] = [];
  private readonly ln1Rstd: Floats[] = [];
  private readonly ln2Mean: Floats[] = [];
  private readonly ln2Rstd: Floats[] = [];
  private readonly fcPre: Floats[] = [];
  /** [block][T·B, 4C]: Φ(c_fc output), kept for GELU's backward. */
  private readonly fcCdf: Floats[] = [];
  /** [T·B, 4C] scratch: GELU's output, formed again in backward from the kept Φ. */
  private readonly fcAct: Floats;
  private readonly mlpMask: Floats[] = [];
  private readonly embMask: Floats;
  private readonly lnfOut: Floats;
  private readonly lnfMean: Floats;
  private readonly lnfRstd: Floats;
  /** [T·B, C] scratch: a branch's output forward, its incoming gradient backward. */
  private readonly branch: Floats;
  private readonly dx: Floats;
  private readonly du: Floats;
  private readonly d4: Floats;
  private readonly scoredBuf: Int32Array;
  private droppedOut = false;

  constructor(
    readonly params: P,
    readonly B: number,
    readonly T: number,
    kernels: Kernels,
    readonly dropout = 0,
  ) {
    const { hidden: C, layers: L, vocabSize: V } = params.config;
    const family = blockFamilyOf(params.config);
    if (family === 'gpt' && T > gptShape(params.config).context) {
      throw new Error(`a gpt window of ${T} positions does not fit its context of ${gptShape(params.config).context}`);
    }
    this.C = C;
    this.V = V;
    this.L = L;
    const TB = T * B;
    // Where the backend offers it (wasm), every buffer lives in a memory of
    // its own, sized once here from the exact count: the products then use
    // them in place (no copies; split across threads where the kernels have
    // them), and only the weights are copied into the arena's scratch.
    let arena: ArenaKernels | null = null;
    if (params.dtype === 'f32' && kernels.arena && TB * C * L >= ARENA_MIN_WORK) {
      const count = blockActivationFloats(params.config, B, T, dropout > 0);
      const maxW = Math.max(4 * C * C, V * C);
      // The parameter and gradient copies, the softmax's zero bias and the tokens ride along.
      const extra = 2 * params.data.length + V + 2 * TB + 1 + 4 * ARENA_ALIGN_SLACK;
      arena = kernels.arena(count + ARENA_ALIGN_SLACK * (L + 1) + extra, 2 * maxW + 64, { outerProducts: true });
    }
    this.kernels = arena ?? kernels;
    const host = arena?.wasm && typeof arena.wasm.exports['ln_fwd'] === 'function' ? arena.wasm : null;
    this.staged = arena !== null;
    this.data = arena ? arena.f32(params.data.length) : params.data;
    this.grad = arena ? arena.f32(params.grad.length) : params.grad;
    this.ops = host && arena ? wasmRowOps(host, arena, arena.f32(V)) : tsRowOps(this.kernels);
    this.tokens = arena ? arena.i32(TB) : new Int32Array(TB);
    this.targets = arena ? arena.i32(TB) : new Int32Array(TB);
    this.scoredBuf = arena ? arena.i32(1) : new Int32Array(1);
    let floats = 0;
    const alloc = (n: number): Floats => {
      floats += n;
      return arena ? arena.f32(n) : allocFloats(params.dtype, n);
    };
    this.wte = params.offset('transformer.wte.weight');
    this.wpe = family === 'gpt' ? params.offset('transformer.wpe.weight') : -1;
    this.lnfW = params.offset('transformer.ln_f.weight');
    this.lnfB = params.offset('transformer.ln_f.bias');
    const withDropout = dropout > 0;
    const stream: Floats[] = [];
    for (let k = 0; k <= 2 * L; k++) stream.push(alloc(TB * C));
    this.stream = stream;
    this.embMask = alloc(withDropout ? TB * C : 0);
    const offsets: BlockOffsets[] = [];
    const mixers: Mixer[] = [];
    for (let i = 0; i < L; i++) {
      const p = `transformer.h.${i}.`;
      offsets.push({
        ln1W: params.offset(`${p}ln_1.weight`), ln1B: params.offset(`${p}ln_1.bias`),
        ln2W: params.offset(`${p}ln_2.weight`), ln2B: params.offset(`${p}ln_2.bias`),
        fcW: params.offset(`${p}mlp.c_fc.weight`), fcB: params.offset(`${p}mlp.c_fc.bias`),
        projW: params.offset(`${p}mlp.c_proj.weight`), projB: params.offset(`${p}mlp.c_proj.bias`),
      });
      this.u1.push(alloc(TB * C));
      this.u2.push(alloc(TB * C));
      this.ln1Mean.push(alloc(TB));
      this.ln1Rstd.push(alloc(TB));
      this.ln2Mean.push(alloc(TB));
      this.ln2Rstd.push(alloc(TB));
      this.fcPre.push(alloc(TB * 4 * C));
      this.fcCdf.push(alloc(TB * 4 * C));
      this.mlpMask.push(alloc(withDropout ? TB * C : 0));
      mixers.push(MIXERS[family]({ params, kernels: this.kernels, data: this.data, grad: this.grad, ops: this.ops, host, block: i, B, T, dropout, alloc }));
    }
    this.offsets = offsets;
    this.mixers = mixers;
    this.carried = mixers.flatMap((m) => m.carried);
    this.lnfOut = alloc(TB * C);
    this.lnfMean = alloc(TB);
    this.lnfRstd = alloc(TB);
    this.probs = alloc(TB * V);
    this.branch = alloc(TB * C);
    this.dx = alloc(TB * C);
    this.du = alloc(TB * C);
    this.d4 = alloc(TB * 4 * C);
    this.fcAct = alloc(TB * 4 * C);
    this.allocatedFloats = floats;
  }

  /** Rows of a gradient record: one per block. */
  get gradientTaps(): number {
    return this.L;
  }

  /**
   * What readQuantity offers per block: the residual stream leaving the
   * block, then the mixer's own (a recurrent mixer's h and gates; gpt's
   * attention weights are read with readAttention).
   */
  get quantities(): readonly { name: string; label: string; width: number }[] {
    return [{ name: 'x', label: 'x (residual stream after the block)', width: this.C }, ...this.mixers[0]!.quantities];
  }

  /** Copies quantity `name` of block `layer` for stream b after the last forward into out[t·width + j], t = 0..T-1. */
  readQuantity(name: string, layer: number, b: number, out: Float32Array): void {
    const { B, T, C } = this;
    if (name === 'x') {
      const x = this.stream[2 * layer + 2]!;
      for (let t = 0; t < T; t++) for (let j = 0; j < C; j++) out[t * C + j] = x[(t * B + b) * C + j]!;
      return;
    }
    this.mixers[layer]!.readQuantity(name, b, out);
  }

  /** gpt: head h of block `layer`'s attention weights for stream b after the last forward, out[t·T + s] (0 for s > t). */
  readAttention(layer: number, b: number, h: number, out: Float32Array): void {
    const m = this.mixers[layer];
    if (!(m instanceof CausalSelfAttention)) throw new Error('only gpt blocks have attention weights');
    m.readAttention(b, h, out);
  }


  /** Zero carried state (start of an epoch or a stream). */
  resetState(): void {
    for (const m of this.mixers) m.resetState();
  }

  /** The state at the end of this window becomes the next window's start (detached). gpt carries nothing. */
  carryState(): void {
    for (const m of this.mixers) m.carryState();
  }

  /** Runs the window forward; returns the mean cross-entropy (nats) over scored targets. `rng` given: training (dropout on). */
  forward(rng: Rng | null = null): number {
    const { params, kernels, ops, B, T, C, V, L } = this;
    if (this.staged) this.data.set(params.data);
    const data = this.data;
    const TB = T * B;
    this.droppedOut = rng !== null && this.dropout > 0;
    const x0 = this.stream[0]!;
    ops.embedForward(x0, data, this.wte, this.wpe, this.tokens, TB, B, C);
    if (this.droppedOut) dropoutForward(x0, 0, this.embMask, TB * C, this.dropout, rng!);
    const out = this.branch;
    for (let i = 0; i < L; i++) {
      const o = this.offsets[i]!;
      const x = this.stream[2 * i]!;
      const x1 = this.stream[2 * i + 1]!;
      const x2 = this.stream[2 * i + 2]!;
      ops.layerNormForward(this.u1[i]!, x, TB, C, data, o.ln1W, o.ln1B, this.ln1Mean[i]!, this.ln1Rstd[i]!, LN_EPS);
      this.mixers[i]!.forward(this.u1[i]!, out, rng);
      ops.add(x1, x, out, TB * C);
      ops.layerNormForward(this.u2[i]!, x1, TB, C, data, o.ln2W, o.ln2B, this.ln2Mean[i]!, this.ln2Rstd[i]!, LN_EPS);
      const pre = this.fcPre[i]!;
      const act = this.fcAct;
      kernels.gemmABt(pre, 0, this.u2[i]!, 0, data, o.fcW, TB, 4 * C, C, false);
      ops.biasGeluForward(act, this.fcCdf[i]!, pre, TB, 4 * C, data, o.fcB);
      kernels.gemmABt(out, 0, act, 0, data, o.projW, TB, C, 4 * C, false);
      if (this.droppedOut) {
        ops.addBias(out, TB, C, data, o.projB);
        dropoutForward(out, 0, this.mlpMask[i]!, TB * C, this.dropout, rng!);
        ops.add(x2, x1, out, TB * C);
      } else {
        ops.biasResidualAdd(x2, x1, out, TB, C, data, o.projB);
      }
    }
    ops.layerNormForward(this.lnfOut, this.stream[2 * L]!, TB, C, data, this.lnfW, this.lnfB, this.lnfMean, this.lnfRstd, LN_EPS);
    // Tied decoder: the logits are the final stream against every embedding row.
    kernels.gemmABt(this.probs, 0, this.lnfOut, 0, data, this.wte, TB, V, C, false);
    const loss = ops.softmaxCrossEntropy(this.probs, this.targets, TB, V, this.scoredBuf);
    this.scored = this.scoredBuf[0]!;
    return this.scored > 0 ? loss / this.scored : 0;
  }

  /** Adds ∂(mean loss)/∂θ of the last forward into params.grad (the caller zeroes it per step). */
  backward(): void {
    const { params, kernels, ops, B, T, C, V, L } = this;
    const data = this.data;
    const grad = this.grad;
    if (this.staged) grad.set(params.grad);
    const TB = T * B;
    const n = TB * C;
    const probs = this.probs;
    const dx = this.dx;
    const du = this.du;
    const d4 = this.d4;
    const branch = this.branch;
    ops.xentGrad(probs, this.targets, TB, V, this.scored > 0 ? 1 / this.scored : 0);
    // The decoder half of the tied weight's gradient; the embedding half is added at the end.
    kernels.gemmAtB(grad, this.wte, probs, 0, this.lnfOut, 0, V, C, TB, true);
    kernels.gemmAB(du, 0, probs, 0, data, this.wte, TB, C, V, false);
    ops.layerNormBackward(dx, false, du, this.stream[2 * L]!, TB, C, data, grad, this.lnfW, this.lnfB, this.lnfMean, this.lnfRstd);
    for (let i = L - 1; i >= 0; i--) {
      const o = this.offsets[i]!;
      // MLP branch; dx (∂/∂x2) also passes straight through the residual.
      branch.set(dx);
      if (this.droppedOut) multiplyInto(branch, this.mlpMask[i]!, n);
      ops.geluFromCdf(this.fcAct, this.fcCdf[i]!, this.fcPre[i]!, TB, 4 * C);
      kernels.gemmAtB(grad, o.projW, branch, 0, this.fcAct, 0, C, 4 * C, TB, true);
      ops.addColumnSums(grad, o.projB, branch, TB, C);
      kernels.gemmAB(d4, 0, branch, 0, data, o.projW, TB, 4 * C, C, false);
      ops.geluBackwardBias(d4, this.fcCdf[i]!, this.fcPre[i]!, TB, 4 * C, grad, o.fcB);
      kernels.gemmAtB(grad, o.fcW, d4, 0, this.u2[i]!, 0, 4 * C, C, TB, true);
      kernels.gemmAB(du, 0, d4, 0, data, o.fcW, TB, C, 4 * C, false);
      ops.layerNormBackward(dx, true, du, this.stream[2 * i + 1]!, TB, C, data, grad, o.ln2W, o.ln2B, this.ln2Mean[i]!, this.ln2Rstd[i]!);
      // Mixer branch.
      branch.set(dx);
      this.mixers[i]!.backward(branch, this.u1[i]!, du);
      ops.layerNormBackward(dx, true, du, this.stream[2 * i]!, TB, C, data, grad, o.ln1W, o.ln1B, this.ln1Mean[i]!, this.ln1Rstd[i]!);
      const rec = this.record;
      if (rec) {
        const m = this.mixers[i]!;
        for (let t = 0; t < T; t++) {
          rec.hGradNorm[i]![t] = Math.sqrt(stepSumSquares(dx, t, B, C));
          rec.wContribution[i]![t] = Math.sqrt(stepSumSquares(m.inputGrad, t, B, m.inputWidth) * stepSumSquares(this.u1[i]!, t, B, C));
        }
      }
    }
    if (this.droppedOut) multiplyInto(dx, this.embMask, n);
    ops.embedBackward(grad, this.wte, this.wpe, this.tokens, dx, TB, B, C);
    if (this.staged) params.grad.set(grad);
  }
}
