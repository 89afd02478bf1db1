import type { Floats } from '../../floats';
import type { Rng } from '../../rng';
import type { WasmHost } from '../../kernels';
import { dropoutForward, multiplyInto } from '../blocks/ops';
import { gptShape } from '../blocks/config';
import type { CarriedTensor, Mixer, MixerContext } from '../blocks/mixer';

/**
 * nanoGPT's CausalSelfAttention: q, k, v = split(c_attn(u), C), per head
 * softmax(q kᵀ / sqrt(C/heads)) over positions <= t, attn_dropout on those
 * weights, the heads side by side through c_proj, then resid_dropout.
 *
 * The projections run over all T·B rows at once; the per-head products run
 * on q, k, v rearranged to [B, heads, T, C/heads] so each (b, head) is a
 * pair of contiguous [T, hs] operands for the kernels. Scores above the
 * diagonal are computed by the full product and then masked to weight 0,
 * so they contribute nothing forward or backward.
 *
 * In a wasm arena without dropout, kernels.as beside this file does the
 * per-head work instead, on the c_attn output as it is (no split or merge),
 * split over (batch row, head) pairs between the arena's threads.
 */
export class CausalSelfAttention implements Mixer {
  readonly carried: readonly CarriedTensor[] = [];
  readonly quantities: readonly { name: string; label: string; width: number }[] = [];
  readonly inputWidth: number;
  /** [B, heads, T, T]: the attention weights of the last forward (0 above the diagonal), for the Hidden States panel. */
  readonly weights: Floats;
  readonly heads: number;
  private readonly hs: number;
  private readonly C: number;
  private readonly qkv: Floats;
  private readonly q: Floats;
  private readonly k: Floats;
  private readonly v: Floats;
  /** Heads layout output, then the heads side by side [T·B, C]. */
  private readonly yh: Floats;
  private readonly y: Floats;
  /** Dropout: the masks, and the dropped weights actually multiplied with v (empty when dropout is 0). */
  private readonly attMask: Floats;
  private readonly attDropped: Floats;
  private readonly residMask: Floats;
  private droppedOut = false;
  /** Whether the last forward ran in wasm, or natively (its backward must too). */
  private inWasm = false;
  private inNative = false;
  private readonly dy: Floats;
  private readonly dP: Floats;
  private readonly dq: Floats;
  private readonly dk: Floats;
  private readonly dv: Floats;
  private readonly dqkv: Floats;
  readonly inputGrad: Floats;
  private readonly off: { attnW: number; attnB: number; projW: number; projB: number };

  constructor(private readonly ctx: MixerContext) {
    const { params, block, B, T, dropout, alloc } = ctx;
    const C = (this.C = params.config.hidden);
    this.heads = gptShape(params.config).heads;
    this.hs = C / this.heads;
    const TB = T * B;
    const p = `transformer.h.${block}.attn.`;
    this.off = {
      attnW: params.offset(`${p}c_attn.weight`),
      attnB: params.offset(`${p}c_attn.bias`),
      projW: params.offset(`${p}c_proj.weight`),
      projB: params.offset(`${p}c_proj.bias`),
    };
    const att = B * this.heads * T * T;
    this.qkv = alloc(TB * 3 * C);
    this.q = alloc(TB * C);
    this.k = alloc(TB * C);
    this.v = alloc(TB * C);
    this.weights = alloc(att);
    this.yh = alloc(TB * C);
    this.y = alloc(TB * C);
    this.attMask = alloc(dropout > 0 ? att : 0);
    this.attDropped = alloc(dropout > 0 ? att : 0);
    this.residMask = alloc(dropout > 0 ? TB * C : 0);
    this.dy = alloc(TB * C);
    this.dP = alloc(T * T);
    this.dq = alloc(TB * C);
    this.dk = alloc(TB * C);
    this.dv = alloc(TB * C);
    this.dqkv = alloc(TB * 3 * C);
    this.inputGrad = this.dqkv;
    this.inputWidth = 3 * C;
  }

  forward(u: Floats, out: Floats, rng: Rng | null): void {
    const { data, kernels, ops, B, T, dropout } = this.ctx;
    const { C, hs, heads } = this;
    const TB = T * B;
    const TT = T * T;
    this.droppedOut = rng !== null && dropout > 0;
    kernels.gemmABt(this.qkv, 0, u, 0, data, this.off.attnW, TB, 3 * C, C, false);
    ops.addBias(this.qkv, TB, 3 * C, data, this.off.attnB);
    this.inNative = !this.droppedOut && this.native(false, this.y);
    const host = this.droppedOut || this.inNative ? null : this.wasmHost();
    this.inWasm = host !== null;
    if (this.inNative || host) {
      if (host) {
        const qkv = host.ptr(this.qkv), y = host.ptr(this.y), P = host.ptr(this.weights);
        host.rows('attn_fwd', B * heads, B * heads * TT * hs * 2, 0, (a, b) => [qkv, y, P, T, B, C, heads, a, b]);
      }
      kernels.gemmABt(out, 0, this.y, 0, data, this.off.projW, TB, C, C, false);
      ops.addBias(out, TB, C, data, this.off.projB);
      return;
    }
    splitHeads(this.q, this.qkv, 3 * C, 0, B, T, heads, hs);
    splitHeads(this.k, this.qkv, 3 * C, C, B, T, heads, hs);
    splitHeads(this.v, this.qkv, 3 * C, 2 * C, B, T, heads, hs);
    const scale = 1 / Math.sqrt(hs);
    const P = this.weights;
    for (let bh = 0; bh < B * heads; bh++) {
      const a = bh * TT;
      const hOff = bh * T * hs;
      kernels.gemmABt(P, a, this.q, hOff, this.k, hOff, T, T, hs, false);
      causalSoftmax(P, a, T, scale);
      let used = P;
      if (this.droppedOut) {
        used = this.attDropped;
        for (let i = 0; i < TT; i++) used[a + i] = P[a + i]!;
        dropoutForward(used, a, this.attMask, TT, dropout, rng!);
      }
      kernels.gemmAB(this.yh, hOff, used, a, this.v, hOff, T, hs, T, false);
    }
    mergeHeads(this.y, C, 0, this.yh, B, T, heads, hs);
    kernels.gemmABt(out, 0, this.y, 0, data, this.off.projW, TB, C, C, false);
    ops.addBias(out, TB, C, data, this.off.projB);
    if (this.droppedOut) dropoutForward(out, 0, this.residMask, TB * C, dropout, rng!);
  }

  backward(dOut: Floats, u: Floats, du: Floats): void {
    const { data, grad, kernels, ops, B, T } = this.ctx;
    const { C, hs, heads } = this;
    const TB = T * B;
    const TT = T * T;
    if (this.droppedOut) multiplyInto(dOut, this.residMask, TB * C);
    kernels.gemmAtB(grad, this.off.projW, dOut, 0, this.y, 0, C, C, TB, true);
    ops.addColumnSums(grad, this.off.projB, dOut, TB, C);
    kernels.gemmAB(this.dy, 0, dOut, 0, data, this.off.projW, TB, C, C, false);
    const host = this.inWasm ? this.ctx.host : null;
    if (this.inNative) {
      if (!this.native(true, this.dy)) throw new Error('native attention ran forward but not backward');
    } else if (host) {
      // ∂/∂ the scores of one (b, head) at a time per thread, in the heads-layout buffer q the wasm path leaves unused.
      const qkv = host.ptr(this.qkv), dy = host.ptr(this.dy), P = host.ptr(this.weights), dS = host.ptr(this.q), dqkv = host.ptr(this.dqkv);
      const args = (a: number, b: number, part: number): number[] => [qkv, dy, P, dS + part * TT * 4, dqkv, T, B, C, heads, a, b];
      // As many blocks as the split can make must fit in q (T·B·C floats); else one thread.
      if (Math.floor((B * heads) / 4) * TT <= TB * C) host.rows('attn_bwd', B * heads, B * heads * TT * hs * 4, 0, args);
      else (host.exports['attn_bwd'] as (...a: number[]) => void)(...args(0, B * heads, 0));
    } else {
      this.headsBackward();
    }
    kernels.gemmAtB(grad, this.off.attnW, this.dqkv, 0, u, 0, 3 * C, C, TB, true);
    ops.addColumnSums(grad, this.off.attnB, this.dqkv, TB, 3 * C);
    kernels.gemmAB(du, 0, this.dqkv, 0, data, this.off.attnW, TB, C, 3 * C, false);
  }

  /**
   * Attention forward (y from qkv, the weights kept) or backward (dqkv from
   * dy) by the native kernels, where they run it here (AVX-512) on float32
   * buffers; false otherwise, and nothing is touched.
   */
  private native(backward: boolean, yOrDy: Floats): boolean {
    const { kernels, B, T } = this.ctx;
    const native = kernels.native;
    if (!native || !(this.qkv instanceof Float32Array && yOrDy instanceof Float32Array && this.weights instanceof Float32Array && this.dqkv instanceof Float32Array)) return false;
    return native.attention(backward, this.qkv, yOrDy, this.weights, this.dqkv, T, B, this.C, this.heads, kernels.threads ?? 1);
  }

  /** The arena's host when this attention can run in wasm there: the exports exist and every buffer is resident. */
  private wasmHost(): WasmHost | null {
    const host = this.ctx.host;
    // attn_bwd's scratch for the scores' gradient (one [T, T] block) lives in q.
    if (!host || typeof host.exports['attn_fwd'] !== 'function' || this.ctx.T * this.ctx.T > this.ctx.T * this.ctx.B * this.C) return null;
    return host.resident(this.qkv) && host.resident(this.weights) && host.resident(this.dqkv) ? host : null;
  }

  /** The per-head backward in TypeScript: dy (∂/∂ the heads side by side) to dqkv. */
  private headsBackward(): void {
    const { kernels, B, T } = this.ctx;
    const { C, hs, heads } = this;
    const TT = T * T;
    // The heads layout of ∂y, kept in yh (its forward values are no longer needed).
    const dyh = this.yh;
    splitHeads(dyh, this.dy, C, 0, B, T, heads, hs);
    const scale = 1 / Math.sqrt(hs);
    const P = this.weights;
    const used = this.droppedOut ? this.attDropped : P;
    const dP = this.dP;
    for (let bh = 0; bh < B * heads; bh++) {
      const a = bh * TT;
      const hOff = bh * T * hs;
      kernels.gemmABt(dP, 0, dyh, hOff, this.v, hOff, T, T, hs, false);
      kernels.gemmAtB(this.dv, hOff, used, a, dyh, hOff, T, hs, T, false);
      if (this.droppedOut) for (let i = 0; i < TT; i++) dP[i] *= this.attMask[a + i]!;
      causalSoftmaxBackward(dP, P, a, T, scale);
      kernels.gemmAB(this.dq, hOff, dP, 0, this.k, hOff, T, hs, T, false);
      kernels.gemmAtB(this.dk, hOff, dP, 0, this.q, hOff, T, hs, T, false);
    }
    mergeHeads(this.dqkv, 3 * C, 0, this.dq, B, T, heads, hs);
    mergeHeads(this.dqkv, 3 * C, C, this.dk, B, T, heads, hs);
    mergeHeads(this.dqkv, 3 * C, 2 * C, this.dv, B, T, heads, hs);
  }

  readQuantity(name: string): void {
    throw new Error(`no quantity ${name} in attention (its weights are read with readAttention)`);
  }

  /** Head h's attention weights for stream b after the last forward: out[t·T + s], 0 for s > t. */
  readAttention(b: number, h: number, out: Float32Array): void {
    const { T } = this.ctx;
    const a = (b * this.heads + h) * T * T;
    for (let k = 0; k < T * T; k++) out[k] = this.weights[a + k]!;
  }

  resetState(): void {}

  carryState(): void {}
}

/** dst[((b·heads + h)·T + t)·hs + j] = src[(t·B + b)·stride + col + h·hs + j] */
export function splitHeads(dst: Floats, src: Floats, stride: number, col: number, B: number, T: number, heads: number, hs: number): void {
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const s0 = (t * B + b) * stride + col;
      for (let h = 0; h < heads; h++) {
        const d0 = ((b * heads + h) * T + t) * hs;
        const s1 = s0 + h * hs;
        for (let j = 0; j < hs; j++) dst[d0 + j] = src[s1 + j]!;
      }
    }
  }
}

/** The inverse of splitHeads: dst[(t·B + b)·stride + col + h·hs + j] = src[((b·heads + h)·T + t)·hs + j] */
export function mergeHeads(dst: Floats, stride: number, col: number, src: Floats, B: number, T: number, heads: number, hs: number): void {
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const d0 = (t * B + b) * stride + col;
      for (let h = 0; h < heads; h++) {
        const s0 = ((b * heads + h) * T + t) * hs;
        const d1 = d0 + h * hs;
        for (let j = 0; j < hs; j++) dst[d1 + j] = src[s0 + j]!;
      }
    }
  }
}

/** Row t of the [T, T] block at a: softmax of scale·S[t, s] over s <= t, 0 for s > t. */
export function causalSoftmax(S: Floats, a: number, T: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const o = a + t * T;
    let max = -Infinity;
    for (let s = 0; s <= t; s++) {
      const z = S[o + s]! * scale;
      S[o + s] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let s = 0; s <= t; s++) {
      const e = Math.exp(S[o + s]! - max);
      S[o + s] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let s = 0; s <= t; s++) S[o + s] *= inv;
    for (let s = t + 1; s < T; s++) S[o + s] = 0;
  }
}

/** dP [T, T] at 0 ← ∂/∂S (scores before scaling) for P at a: scale·P ⊙ (dP - Σ_s P dP), 0 above the diagonal. */
export function causalSoftmaxBackward(dP: Floats, P: Floats, a: number, T: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const o = t * T;
    const p0 = a + o;
    let dot = 0;
    for (let s = 0; s <= t; s++) dot += P[p0 + s]! * dP[o + s]!;
    for (let s = 0; s <= t; s++) dP[o + s] = scale * P[p0 + s]! * (dP[o + s]! - dot);
    for (let s = t + 1; s < T; s++) dP[o + s] = 0;
  }
}

export function createAttentionMixer(ctx: MixerContext): Mixer {
  return new CausalSelfAttention(ctx);
}
