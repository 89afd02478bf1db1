import type { Floats } from '../../floats';
import type { Kernels, WasmHost } from '../../kernels';
import {
  addBias, addColumnSums, biasGeluForward, biasResidualAdd, geluBackwardBias, geluFromCdf,
  layerNormBackward, layerNormForward, softmaxCrossEntropy,
} from './ops';

/**
 * The row-wise work of a block network, one interface over two backends:
 * the TypeScript loops of ops.ts (the reference, any precision) and the wasm
 * SIMD kernels of kernels.as on arena buffers (wasmRowOps). Parameters and
 * their gradients are read at offsets into `p` and `grad`. Row-major [rows, cols].
 */
export interface BlockRowOps {
  layerNormForward(y: Floats, x: Floats, rows: number, C: number, p: Floats, wOff: number, bOff: number, mean: Floats, rstd: Floats, eps: number): void;
  layerNormBackward(
    dx: Floats, accumulate: boolean, dy: Floats, x: Floats, rows: number, C: number,
    p: Floats, grad: Floats, wOff: number, bOff: number, mean: Floats, rstd: Floats,
  ): void;
  /** a += bias, cdf = Φ(a), out = a·Φ(a). */
  biasGeluForward(out: Floats, cdf: Floats, a: Floats, rows: number, cols: number, p: Floats, bOff: number): void;
  /** d *= GELU'(a) from the kept Φ; grad[bOff + j] += Σ_r d[r, j]. */
  geluBackwardBias(d: Floats, cdf: Floats, a: Floats, rows: number, cols: number, grad: Floats, bOff: number): void;
  /** out = a·cdf over [rows, cols]. */
  geluFromCdf(out: Floats, cdf: Floats, a: Floats, rows: number, cols: number): void;
  /** x2 = x1 + (y + bias). */
  biasResidualAdd(x2: Floats, x1: Floats, y: Floats, rows: number, cols: number, p: Floats, bOff: number): void;
  /** out = a + b over n floats. */
  add(out: Floats, a: Floats, b: Floats, n: number): void;
  addBias(a: Floats, rows: number, cols: number, p: Floats, bOff: number): void;
  /** grad[off + j] += Σ_r a[r, j] */
  addColumnSums(grad: Floats, off: number, a: Floats, rows: number, cols: number): void;
  /** Softmax of each row in place; Σ -log p(target) over scored rows, their number in scored[0]. */
  softmaxCrossEntropy(probs: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number;
  /** probs ← (probs - onehot(target))·scale, zero rows where target < 0. */
  xentGrad(probs: Floats, targets: Int32Array, rows: number, V: number, scale: number): void;
  /** x[r, :] = p[wte + tokens[r]·C ..] (+ p[wpe + ⌊r/B⌋·C ..] when wpe ≥ 0), rows r = t·B + b. */
  embedForward(x: Floats, p: Floats, wte: number, wpe: number, tokens: Int32Array, rows: number, B: number, C: number): void;
  /** The embeddings' gradient: grad at wte + tokens[r]·C (and wpe + ⌊r/B⌋·C) += dx[r, :]. */
  embedBackward(grad: Floats, wte: number, wpe: number, tokens: Int32Array, dx: Floats, rows: number, B: number, C: number): void;
}

export function tsRowOps(kernels: Kernels): BlockRowOps {
  return {
    layerNormForward,
    layerNormBackward,
    biasGeluForward,
    geluBackwardBias,
    geluFromCdf: (out, cdf, a, rows, cols) => geluFromCdf(out, cdf, a, rows * cols),
    biasResidualAdd,
    add(out, a, b, n) {
      for (let k = 0; k < n; k++) out[k] = a[k]! + b[k]!;
    },
    addBias,
    addColumnSums,
    softmaxCrossEntropy,
    xentGrad: (probs, targets, rows, V, scale) => kernels.xentGrad(probs, targets, rows, V, scale),
    embedForward(x, p, wte, wpe, tokens, rows, B, C) {
      for (let r = 0; r < rows; r++) {
        const o = r * C;
        const e = wte + tokens[r]! * C;
        if (wpe >= 0) {
          const pos = wpe + Math.floor(r / B) * C;
          for (let j = 0; j < C; j++) x[o + j] = p[e + j]! + p[pos + j]!;
        } else {
          for (let j = 0; j < C; j++) x[o + j] = p[e + j]!;
        }
      }
    },
    embedBackward(grad, wte, wpe, tokens, dx, rows, B, C) {
      for (let r = 0; r < rows; r++) {
        const o = r * C;
        const e = wte + tokens[r]! * C;
        for (let j = 0; j < C; j++) grad[e + j] += dx[o + j]!;
        if (wpe >= 0) {
          const pos = wpe + Math.floor(r / B) * C;
          for (let j = 0; j < C; j++) grad[pos + j] += dx[o + j]!;
        }
      }
    },
  };
}

/** The exports of kernels.as (and the shared ones of gemm.as) these ops call. */
interface BlockExports {
  ln_fwd(y: number, x: number, C: number, w: number, b: number, mean: number, rstd: number, epsBits: number, r0: number, r1: number): void;
  ln_bwd(dx: number, accumulate: number, dy: number, x: number, rows: number, C: number, w: number, gw: number, gb: number, mean: number, rstd: number): void;
  add_into(out: number, a: number, b: number, n: number): void;
  bias_residual(x2: number, x1: number, y: number, bias: number, rows: number, cols: number): void;
  add_rows(a: number, bias: number, rows: number, cols: number): void;
  softmax_xent(probs: number, bias: number, targets: number, rows: number, V: number, scoredOut: number): number;
  xent_grad(probs: number, targets: number, rows: number, V: number, scale: number): void;
  embed_fwd(x: number, wte: number, wpe: number, tokens: number, rows: number, B: number, C: number): void;
  embed_bwd(gwte: number, gwpe: number, tokens: number, dx: number, rows: number, B: number, C: number): void;
}

/** Work units per element the thread split weighs GELU by (erf and exp per element: worth splitting at a few thousand rows). */
const GELU_WORK = 16;
/**
 * The same for LayerNorm's forward: three passes over a row and a square
 * root cost about what 48 multiply-adds of a product do (measured: a
 * 768×128 forward takes ~0.2 ms on one thread), so a gpt C128 T64 B12
 * forward is split too.
 */
const LN_WORK = 48;
/** A float32's bits as an integer argument (ln_fwd's eps). */
const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);

/**
 * The row ops in wasm, on buffers of `host`'s arena (parameters included:
 * the network keeps resident copies); `kernels` is the arena (its column sums
 * are split between threads); `zeros` a resident zero vector of V floats (the
 * softmax's bias). Any non-resident operand falls back to TypeScript.
 */
export function wasmRowOps(host: WasmHost, kernels: Kernels, zeros: Float32Array): BlockRowOps {
  const fn = host.exports as unknown as BlockExports;
  const ts = tsRowOps(kernels);
  const r = (...xs: (Floats | Int32Array)[]): boolean => xs.every((x) => host.resident(x));
  // GELU runs natively where the native kernels have it (AVX-512), with the relaxed-SIMD kernels' bits.
  const native = kernels.native ?? null;
  const threads = kernels.threads ?? 1;
  const nativeGelu = (backward: boolean, o: Floats, cdf: Floats, a: Floats, bias: Floats, bOff: number, rows: number, cols: number): boolean =>
    native !== null && o instanceof Float32Array && cdf instanceof Float32Array && a instanceof Float32Array && bias instanceof Float32Array &&
    native.gelu(backward, o, cdf, a, bias, bOff, rows, cols, threads);
  return {
    layerNormForward(y, x, rows, C, p, wOff, bOff, mean, rstd, eps) {
      if (!r(y, x, p, mean, rstd)) return ts.layerNormForward(y, x, rows, C, p, wOff, bOff, mean, rstd, eps);
      f32Bits[0] = eps;
      const bits = i32Bits[0]!;
      const yp = host.ptr(y), xp = host.ptr(x), w = host.ptr(p, wOff), b = host.ptr(p, bOff), m = host.ptr(mean), s = host.ptr(rstd);
      host.rows('ln_fwd', rows, rows * C * LN_WORK, 0, (r0, r1) => [yp, xp, C, w, b, m, s, bits, r0, r1]);
    },
    layerNormBackward(dx, accumulate, dy, x, rows, C, p, grad, wOff, bOff, mean, rstd) {
      if (!r(dx, dy, x, p, grad, mean, rstd)) return ts.layerNormBackward(dx, accumulate, dy, x, rows, C, p, grad, wOff, bOff, mean, rstd);
      fn.ln_bwd(host.ptr(dx), accumulate ? 1 : 0, host.ptr(dy), host.ptr(x), rows, C, host.ptr(p, wOff), host.ptr(grad, wOff), host.ptr(grad, bOff), host.ptr(mean), host.ptr(rstd));
    },
    biasGeluForward(out, cdf, a, rows, cols, p, bOff) {
      if (!r(out, cdf, a, p)) return ts.biasGeluForward(out, cdf, a, rows, cols, p, bOff);
      if (nativeGelu(false, out, cdf, a, p, bOff, rows, cols)) return;
      const o = host.ptr(out), c = host.ptr(cdf), x = host.ptr(a), bias = host.ptr(p, bOff);
      // In place (a += bias): a failed helper's rows cannot be redone, so it counts as a loop (1).
      host.rows('bias_gelu_fwd', rows, rows * cols * GELU_WORK, 1, (r0, r1) => [o, c, x, bias, cols, r0, r1]);
    },
    geluBackwardBias(d, cdf, a, rows, cols, grad, bOff) {
      if (!r(d, cdf, a)) return ts.geluBackwardBias(d, cdf, a, rows, cols, grad, bOff);
      if (!nativeGelu(true, d, cdf, a, d, 0, rows, cols)) {
        const dp = host.ptr(d), c = host.ptr(cdf), x = host.ptr(a);
        host.rows('gelu_bwd', rows, rows * cols * GELU_WORK, 1, (r0, r1) => [dp, c, x, cols, r0, r1]);
      }
      kernels.addColSums(grad, bOff, d, rows, cols, -1);
    },
    geluFromCdf(out, cdf, a, rows, cols) {
      if (!r(out, cdf, a)) return ts.geluFromCdf(out, cdf, a, rows, cols);
      const o = host.ptr(out), c = host.ptr(cdf), x = host.ptr(a);
      host.rows('mul_rows', rows, rows * cols * 2, 0, (r0, r1) => [o, x, c, cols, r0, r1]);
    },
    biasResidualAdd(x2, x1, y, rows, cols, p, bOff) {
      if (!r(x2, x1, y, p)) return ts.biasResidualAdd(x2, x1, y, rows, cols, p, bOff);
      fn.bias_residual(host.ptr(x2), host.ptr(x1), host.ptr(y), host.ptr(p, bOff), rows, cols);
    },
    add(out, a, b, n) {
      if (!r(out, a, b)) return ts.add(out, a, b, n);
      fn.add_into(host.ptr(out), host.ptr(a), host.ptr(b), n);
    },
    addBias(a, rows, cols, p, bOff) {
      if (!r(a, p)) return ts.addBias(a, rows, cols, p, bOff);
      fn.add_rows(host.ptr(a), host.ptr(p, bOff), rows, cols);
    },
    addColumnSums(grad, off, a, rows, cols) {
      kernels.addColSums(grad, off, a, rows, cols, -1);
    },
    softmaxCrossEntropy(probs, targets, rows, V, scored) {
      if (!r(probs, targets, scored) || zeros.length < V) return ts.softmaxCrossEntropy(probs, targets, rows, V, scored);
      return fn.softmax_xent(host.ptr(probs), host.ptr(zeros), host.ptr(targets), rows, V, host.ptr(scored));
    },
    xentGrad(probs, targets, rows, V, scale) {
      if (!r(probs, targets)) return ts.xentGrad(probs, targets, rows, V, scale);
      fn.xent_grad(host.ptr(probs), host.ptr(targets), rows, V, scale);
    },
    embedForward(x, p, wte, wpe, tokens, rows, B, C) {
      if (!r(x, p, tokens)) return ts.embedForward(x, p, wte, wpe, tokens, rows, B, C);
      fn.embed_fwd(host.ptr(x), host.ptr(p, wte), wpe >= 0 ? host.ptr(p, wpe) : 0, host.ptr(tokens), rows, B, C);
    },
    embedBackward(grad, wte, wpe, tokens, dx, rows, B, C) {
      if (!r(grad, tokens, dx)) return ts.embedBackward(grad, wte, wpe, tokens, dx, rows, B, C);
      fn.embed_bwd(host.ptr(grad, wte), wpe >= 0 ? host.ptr(grad, wpe) : 0, host.ptr(tokens), host.ptr(dx), rows, B, C);
    },
  };
}
