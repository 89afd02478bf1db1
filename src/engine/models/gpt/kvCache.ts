import { allocFloats, type Floats } from '../../floats';
import type { Kernels } from '../../kernels';
import { gptShape, LN_EPS } from '../blocks/config';
import { addBias, geluForward, layerNormForward } from '../blocks/ops';
import type { BlockParamHolder } from '../blocks/specs';

/**
 * gpt inference with a KV cache: tokens are appended one at a time (or a
 * run of them at once), each block keeping the keys and values of every
 * position so far, so a new token costs one row through the network plus
 * its attention over the cache, instead of a forward over the whole window.
 *
 * Positions go up to `context`. When the cache is full, the next token
 * first slides the window: the last `keep` tokens are re-run from
 * position 0 (their keys depend on their positions, so they cannot be
 * shifted), then the token is appended. With keep = context - 1 every
 * token sees exactly `context - 1` tokens of history, as nanoGPT's
 * generate() (which crops to block_size) does, at the price of a re-run of
 * context - 1 rows per token; a smaller keep re-runs rarely.
 */
export class GptKvCache {
  /** [V]: the distribution of the next token after the last append. */
  readonly probs: Floats;
  /** Tokens in the cache = the position of the next one. */
  position = 0;
  readonly keep: number;
  private readonly C: number;
  private readonly V: number;
  private readonly L: number;
  private readonly ctx: number;
  private readonly heads: number;
  private readonly history: Int32Array;
  private readonly keys: Floats[] = [];
  private readonly values: Floats[] = [];
  private readonly x: Floats;
  private readonly u: Floats;
  private readonly qkv: Floats;
  private readonly y: Floats;
  private readonly out: Floats;
  private readonly fc: Floats;
  private readonly act: Floats;
  private readonly cdf: Floats;
  private readonly mean: Floats;
  private readonly rstd: Floats;
  private readonly scores: Floats;
  private readonly off: {
    wte: number; wpe: number; lnfW: number; lnfB: number;
    blocks: { ln1W: number; ln1B: number; attnW: number; attnB: number; projW: number; projB: number;
      ln2W: number; ln2B: number; fcW: number; fcB: number; mlpW: number; mlpB: number }[];
  };

  constructor(readonly params: BlockParamHolder, readonly kernels: Kernels, opts: { keep?: number } = {}) {
    const c = params.config;
    if (c.cell !== 'gpt') throw new Error(`a KV cache is for gpt models, not ${c.cell}`);
    const C = (this.C = c.hidden);
    this.V = c.vocabSize;
    this.L = c.layers;
    const { heads, context: n } = gptShape(c);
    this.ctx = n;
    this.heads = heads;
    this.keep = Math.min(Math.max(opts.keep ?? Math.floor(n / 2), 0), n - 1);
    const f = (k: number): Floats => allocFloats(params.dtype, k);
    this.history = new Int32Array(n);
    for (let i = 0; i < c.layers; i++) {
      this.keys.push(f(n * C));
      this.values.push(f(n * C));
    }
    this.x = f(n * C);
    this.u = f(n * C);
    this.qkv = f(n * 3 * C);
    this.y = f(n * C);
    this.out = f(n * C);
    this.fc = f(n * 4 * C);
    this.act = f(n * 4 * C);
    this.cdf = f(n * 4 * C);
    this.mean = f(n);
    this.rstd = f(n);
    this.scores = f(n);
    this.probs = f(this.V);
    const o = (name: string): number => params.offset(name);
    this.off = {
      wte: o('transformer.wte.weight'), wpe: o('transformer.wpe.weight'),
      lnfW: o('transformer.ln_f.weight'), lnfB: o('transformer.ln_f.bias'),
      blocks: Array.from({ length: c.layers }, (_, i) => {
        const p = `transformer.h.${i}.`;
        return {
          ln1W: o(`${p}ln_1.weight`), ln1B: o(`${p}ln_1.bias`),
          attnW: o(`${p}attn.c_attn.weight`), attnB: o(`${p}attn.c_attn.bias`),
          projW: o(`${p}attn.c_proj.weight`), projB: o(`${p}attn.c_proj.bias`),
          ln2W: o(`${p}ln_2.weight`), ln2B: o(`${p}ln_2.bias`),
          fcW: o(`${p}mlp.c_fc.weight`), fcB: o(`${p}mlp.c_fc.bias`),
          mlpW: o(`${p}mlp.c_proj.weight`), mlpB: o(`${p}mlp.c_proj.bias`),
        };
      }),
    };
  }

  /** The tokens in the cache, in position order (a view: valid until the next append). */
  get tokens(): Int32Array {
    return this.history.subarray(0, this.position);
  }

  /**
   * The cache as one array (tokens, the next distribution, every block's
   * keys and values so far): restore() puts it back with copies only, where
   * re-running the tokens would cost a forward over all of them.
   */
  snapshot(): Float32Array {
    const n = this.position, C = this.C, V = this.V;
    const out = new Float32Array(1 + n + V + 2 * this.L * n * C);
    out[0] = n;
    for (let i = 0; i < n; i++) out[1 + i] = this.history[i]!;
    out.set(this.probs, 1 + n);
    let at = 1 + n + V;
    for (let l = 0; l < this.L; l++) {
      out.set(this.keys[l]!.subarray(0, n * C), at);
      out.set(this.values[l]!.subarray(0, n * C), at + n * C);
      at += 2 * n * C;
    }
    return out;
  }

  /** Puts back a snapshot() of a cache of the same model; false (nothing changed) for one of another shape. */
  restore(state: Float32Array): boolean {
    const n = state[0]!, C = this.C, V = this.V;
    if (!Number.isInteger(n) || n < 0 || n > this.ctx || state.length !== 1 + n + V + 2 * this.L * n * C) return false;
    for (let i = 0; i < n; i++) this.history[i] = state[1 + i]!;
    this.probs.set(state.subarray(1 + n, 1 + n + V));
    let at = 1 + n + V;
    for (let l = 0; l < this.L; l++) {
      this.keys[l]!.set(state.subarray(at, at + n * C));
      this.values[l]!.set(state.subarray(at + n * C, at + 2 * n * C));
      at += 2 * n * C;
    }
    this.position = n;
    return true;
  }

  /** Empties the cache (a new document). */
  reset(): void {
    this.position = 0;
  }

  /** Appends one token; returns the next token's distribution (this.probs). */
  step(token: number): Floats {
    if (this.position === this.ctx) this.slide();
    this.history[this.position] = token;
    this.run(this.position, 1);
    return this.probs;
  }

  /** Appends several tokens at once (one pass over their rows); returns the distribution after the last. */
  append(tokens: ArrayLike<number>): Floats {
    let i = 0;
    while (i < tokens.length) {
      if (this.position === this.ctx) this.slide();
      const n = Math.min(tokens.length - i, this.ctx - this.position);
      for (let k = 0; k < n; k++) this.history[this.position + k] = tokens[i + k]!;
      this.run(this.position, n);
      i += n;
    }
    return this.probs;
  }

  /** Keeps the last `keep` tokens, re-run from position 0. */
  private slide(): void {
    const keep = this.keep;
    this.history.copyWithin(0, this.ctx - keep, this.ctx);
    this.position = 0;
    if (keep > 0) this.run(0, keep);
  }

  /** Rows for history[p0 .. p0 + n) through the network, their keys and values into the cache, probs after the last. */
  private run(p0: number, n: number): void {
    const { params, kernels, C, V, heads } = this;
    const data = params.data;
    const { x, u, qkv, y, out, fc, act, mean, rstd, scores } = this;
    const hs = C / heads;
    const scale = 1 / Math.sqrt(hs);
    for (let i = 0; i < n; i++) {
      const e = this.off.wte + this.history[p0 + i]! * C;
      const pos = this.off.wpe + (p0 + i) * C;
      for (let j = 0; j < C; j++) x[i * C + j] = data[e + j]! + data[pos + j]!;
    }
    for (let l = 0; l < this.L; l++) {
      const o = this.off.blocks[l]!;
      const K = this.keys[l]!;
      const Vc = this.values[l]!;
      layerNormForward(u, x, n, C, data, o.ln1W, o.ln1B, mean, rstd, LN_EPS);
      kernels.gemmABt(qkv, 0, u, 0, data, o.attnW, n, 3 * C, C, false);
      addBias(qkv, n, 3 * C, data, o.attnB);
      for (let i = 0; i < n; i++) {
        const src = i * 3 * C;
        const dst = (p0 + i) * C;
        for (let j = 0; j < C; j++) {
          K[dst + j] = qkv[src + C + j]!;
          Vc[dst + j] = qkv[src + 2 * C + j]!;
        }
      }
      for (let i = 0; i < n; i++) {
        const last = p0 + i;
        const q0 = i * 3 * C;
        for (let h = 0; h < heads; h++) {
          const hc = h * hs;
          let max = -Infinity;
          for (let s = 0; s <= last; s++) {
            let d = 0;
            for (let j = 0; j < hs; j++) d += qkv[q0 + hc + j]! * K[s * C + hc + j]!;
            const z = d * scale;
            scores[s] = z;
            if (z > max) max = z;
          }
          let sum = 0;
          for (let s = 0; s <= last; s++) {
            const w = Math.exp(scores[s]! - max);
            scores[s] = w;
            sum += w;
          }
          const inv = 1 / sum;
          const y0 = i * C + hc;
          for (let j = 0; j < hs; j++) y[y0 + j] = 0;
          for (let s = 0; s <= last; s++) {
            const w = scores[s]! * inv;
            const v0 = s * C + hc;
            for (let j = 0; j < hs; j++) y[y0 + j] += w * Vc[v0 + j]!;
          }
        }
      }
      kernels.gemmABt(out, 0, y, 0, data, o.projW, n, C, C, false);
      addBias(out, n, C, data, o.projB);
      for (let k = 0; k < n * C; k++) x[k] += out[k]!;
      layerNormForward(u, x, n, C, data, o.ln2W, o.ln2B, mean, rstd, LN_EPS);
      kernels.gemmABt(fc, 0, u, 0, data, o.fcW, n, 4 * C, C, false);
      addBias(fc, n, 4 * C, data, o.fcB);
      geluForward(act, this.cdf, fc, n * 4 * C);
      kernels.gemmABt(out, 0, act, 0, data, o.mlpW, n, C, 4 * C, false);
      addBias(out, n, C, data, o.mlpB);
      for (let k = 0; k < n * C; k++) x[k] += out[k]!;
    }
    // Only the last row's prediction is needed.
    const lastRow = (n - 1) * C;
    for (let j = 0; j < C; j++) u[j] = x[lastRow + j]!;
    layerNormForward(y, u, 1, C, data, this.off.lnfW, this.off.lnfB, mean, rstd, LN_EPS);
    const probs = this.probs;
    kernels.gemmABt(probs, 0, y, 0, data, this.off.wte, 1, V, C, false);
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (probs[v]! > max) max = probs[v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const w = Math.exp(probs[v]! - max);
      probs[v] = w;
      sum += w;
    }
    for (let v = 0; v < V; v++) probs[v] /= sum;
    this.position = p0 + n;
  }
}
