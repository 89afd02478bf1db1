import { elementwise } from './elementwise';
import type { Floats } from './floats';
import type { NativeProducts } from './native';

/**
 * The matrix kernels every cell, the decoder and the optimizers go through.
 *
 * All matrices are row-major float32 inside flat arrays; each operand is
 * addressed by (array, offset) so callers never create views in a hot loop.
 * The destination comes first. `accumulate` adds into the destination
 * instead of overwriting it, which is how gradients are summed over steps.
 *
 * Every backend offers the same operations: the three products, a
 * transpose, and the row-wise work of the input projection and the softmax
 * cross-entropy head, so a network has one code path whatever runs it.
 */
export interface Kernels {
  readonly name: string;
  /** The native kernels these run their products on, and the threads they split them over (the optimizer uses both). */
  readonly native?: NativeProducts | null;
  readonly threads?: number;
  /** out[M,N] (+)= a[M,K] · b[N,K]ᵀ — activations times PyTorch-layout weights. */
  gemmABt(
    out: Floats, outOff: number,
    a: Floats, aOff: number,
    b: Floats, bOff: number,
    M: number, N: number, K: number, accumulate: boolean,
  ): void;
  /** out[M,N] (+)= a[M,K] · b[K,N] — gradients flowing back through weights. */
  gemmAB(
    out: Floats, outOff: number,
    a: Floats, aOff: number,
    b: Floats, bOff: number,
    M: number, N: number, K: number, accumulate: boolean,
  ): void;
  /** out[M,N] (+)= a[K,M]ᵀ · b[K,N] — weight gradients summed over rows. */
  gemmAtB(
    out: Floats, outOff: number,
    a: Floats, aOff: number,
    b: Floats, bOff: number,
    M: number, N: number, K: number, accumulate: boolean,
  ): void;
  /** out[cols,rows] = a[rows,cols]ᵀ */
  transpose(out: Floats, outOff: number, a: Floats, aOff: number, rows: number, cols: number): void;
  /**
   * Optional hint for backends that copy operands (wasm): `b[bOff, bOff+n)`
   * will be the `b` of many gemmABt calls and will not change until
   * release(), so it may be copied once. Only one operand is held at a time.
   */
  hold?(b: Floats, bOff: number, n: number): void;
  release?(): void;
  /** a[r, :] += bias */
  addRows(a: Floats, bias: Floats, rows: number, cols: number): void;
  /** out[r, :] = table[idx[r], :] + bias (a row gather, e.g. an embedding) */
  gatherRows(out: Floats, table: Floats, idx: Int32Array, bias: Floats, rows: number, cols: number): void;
  /** out[r, :] = w[wOff + j·V + idx[r]] over j, + bias: a one-hot input's projection, gathered from the untransposed [cols, V] weight. */
  gatherCols(out: Floats, w: Floats, wOff: number, V: number, idx: Int32Array, bias: Floats, rows: number, cols: number): void;
  /** w[wOff + j·V + idx[r]] += a[r, j] over j: the one-hot input's gradient, added into the untransposed [cols, V] weight gradient. */
  scatterAddCols(w: Floats, wOff: number, V: number, idx: Int32Array, a: Floats, rows: number, cols: number): void;
  /** out[off + j] += Σ_r a[r, j], and out[off2 + j] too when off2 ≥ 0 (two biases sharing one δ): a bias gradient. */
  addColSums(out: Floats, off: number, a: Floats, rows: number, cols: number, off2: number): void;
  /** table[idx[r], :] += a[r, :] (a row scatter-add) */
  scatterAddRows(table: Floats, idx: Int32Array, a: Floats, rows: number, cols: number): void;
  /** out[j] = Σ_r a[r, j] (overwrites out) */
  colSums(out: Floats, a: Floats, rows: number, cols: number): void;
  /**
   * Adds the bias to the logits [rows, V], turns each row into probabilities
   * in place and returns Σ -log p(target) over the scored rows (target ≥ 0),
   * in float64 log-sum-exp form; scored[0] = their number.
   */
  softmaxXent(probs: Floats, bias: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number;
  /** probs ← (probs - onehot(target))·scale, zero rows where target < 0. */
  xentGrad(probs: Floats, targets: Int32Array, rows: number, V: number, scale: number): void;
  /**
   * Optional (wasm): a private memory of fixed size for one network's buffers
   * (`floats` of them) plus `scratch` floats for operands living elsewhere.
   * Buffers carved from it are used in place by every kernel (no copies).
   * Null when it cannot be had.
   */
  arena?(floats: number, scratch: number, options?: ArenaOptions): ArenaKernels | null;
}

export interface ArenaOptions {
  /**
   * Products over many rows by outer-product tiles: faster, with other last
   * bits than the dot-product tiles the cells keep, so that a 0.1.0
   * checkpoint of theirs resumes bit for bit.
   */
  readonly outerProducts?: boolean;
}

/**
 * Kernels owning a fixed memory: f32/i32 carve buffers out of it. Where the
 * memory is a wasm module's, `wasm` lets a model family bind its own fused
 * kernels (exports of the module) to those buffers.
 */
export interface ArenaKernels extends Kernels {
  f32(n: number): Float32Array;
  i32(n: number): Int32Array;
  readonly wasm?: WasmHost;
}

/**
 * What a model family's wasm kernels need from the arena they run in: the
 * module's exports by name, byte addresses of arena buffers, an operand made
 * resident for a loop, and the split of a row-parallel loop over threads.
 */
export interface WasmHost {
  readonly exports: Readonly<Record<string, unknown>>;
  /** Whether x lives in the arena (then `ptr` gives its address). */
  resident(x: Floats | Int32Array): boolean;
  /** Byte address of x[off] for an arena buffer (throws for any other). */
  ptr(x: Floats | Int32Array, off?: number): number;
  /** Byte address of w[off .. off+n) in the arena: in place when resident, else copied there until release(); -1 when it does not fit. */
  operand(w: Float32Array, off: number, n: number): number;
  release(): void;
  /**
   * Runs export `op` (a loop over batch rows [b0, b1) whose rows do not
   * depend on each other) on this thread, or split by blocks of rows between
   * the arena's threads; `macs` is its work, `T` the products it holds
   * (0: the export can be run again on the same rows, so a failed helper's
   * block is redone). `part` numbers the blocks 0, 1, ... (per-thread scratch).
   * The arguments must be integers: helper threads receive them as Int32.
   */
  rows(op: string, B: number, macs: number, T: number, args: (b0: number, b1: number, part: number) => number[]): void;
}

/**
 * Pure TypeScript kernels, register-blocked 4×4: sixteen accumulators stay in
 * registers while the K loop streams both operands, which is what lets plain
 * JavaScript reach several GFLOP/s. Edges fall back to narrower tiles.
 */
export const tsKernels: Kernels = {
  name: 'typescript',
  ...elementwise,
  gemmABt: gemmABtInto,
  gemmAB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate) {
    // Strided columns of b waste cache lines; one transpose (K·N moves against
    // M·N·K multiply-adds) turns this into the fast row-by-row form.
    const bT = scratch(0, N * K, b);
    transposeInto(bT, 0, b, bOff, K, N);
    gemmABtInto(out, outOff, a, aOff, bT, 0, M, N, K, accumulate);
  },

  gemmAtB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate) {
    const aT = scratch(0, M * K, a);
    const bT = scratch(1, N * K, b);
    transposeInto(aT, 0, a, aOff, K, M);
    transposeInto(bT, 0, b, bOff, K, N);
    gemmABtInto(out, outOff, aT, 0, bT, 0, M, N, K, accumulate);
  },

  transpose(out, outOff, a, aOff, rows, cols) {
    transposeInto(out, outOff, a, aOff, rows, cols);
  },
};

/**
 * Scratch buffers for the transposes, grown (never shrunk) on demand, so a
 * training loop at a fixed shape allocates only on its first step.
 */
const scratch32: Float32Array[] = [new Float32Array(0), new Float32Array(0)];
const scratch64: Float64Array[] = [new Float64Array(0), new Float64Array(0)];
/** A scratch buffer of the same precision as `like`. */
function scratch(slot: number, size: number, like: Floats): Floats {
  if (like instanceof Float64Array) {
    if (scratch64[slot]!.length < size) scratch64[slot] = new Float64Array(size);
    return scratch64[slot]!;
  }
  if (scratch32[slot]!.length < size) scratch32[slot] = new Float32Array(size);
  return scratch32[slot]!;
}

/** Blocked transpose: 16×16 tiles keep both the reads and the writes in cache. */
function transposeInto(out: Floats, outOff: number, a: Floats, aOff: number, rows: number, cols: number): void {
  const TILE = 16;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) {
        const src = aOff + r * cols;
        for (let c = c0; c < c1; c++) out[outOff + c * rows + r] = a[src + c]!;
      }
    }
  }
}

function gemmABtInto(
  out: Floats, outOff: number,
  a: Floats, aOff: number,
  b: Floats, bOff: number,
  M: number, N: number, K: number, accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  // j outer so the four rows of b stay in L1 while every row block of a passes.
  for (let j = 0; j < N4; j += 4) {
    const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
    let i = 0;
    for (; i < M4; i += 4) {
      const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
        const y0 = b[b0 + k], y1 = b[b1 + k], y2 = b[b2 + k], y3 = b[b3 + k];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const o0 = outOff + i * N + j, o1 = o0 + N, o2 = o1 + N, o3 = o2 + N;
      if (accumulate) {
        out[o0] += c00; out[o0 + 1] += c01; out[o0 + 2] += c02; out[o0 + 3] += c03;
        out[o1] += c10; out[o1 + 1] += c11; out[o1 + 2] += c12; out[o1 + 3] += c13;
        out[o2] += c20; out[o2 + 1] += c21; out[o2 + 2] += c22; out[o2 + 3] += c23;
        out[o3] += c30; out[o3 + 1] += c31; out[o3 + 2] += c32; out[o3 + 3] += c33;
      } else {
        out[o0] = c00; out[o0 + 1] = c01; out[o0 + 2] = c02; out[o0 + 3] = c03;
        out[o1] = c10; out[o1 + 1] = c11; out[o1 + 2] = c12; out[o1 + 3] = c13;
        out[o2] = c20; out[o2 + 1] = c21; out[o2 + 2] = c22; out[o2 + 3] = c23;
        out[o3] = c30; out[o3 + 1] = c31; out[o3 + 2] = c32; out[o3 + 3] = c33;
      }
    }
    // Leftover rows of a: one row against the four rows of b.
    for (; i < M; i++) {
      const a0 = aOff + i * K;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0; k < K; k++) {
        const x = a[a0 + k];
        c0 += x * b[b0 + k]; c1 += x * b[b1 + k]; c2 += x * b[b2 + k]; c3 += x * b[b3 + k];
      }
      const o = outOff + i * N + j;
      if (accumulate) { out[o] += c0; out[o + 1] += c1; out[o + 2] += c2; out[o + 3] += c3; }
      else { out[o] = c0; out[o + 1] = c1; out[o + 2] = c2; out[o + 3] = c3; }
    }
  }
  // Leftover rows of b: plain dot products.
  for (let j = N4; j < N; j++) {
    const b0 = bOff + j * K;
    for (let i = 0; i < M; i++) {
      const a0 = aOff + i * K;
      let c = 0;
      for (let k = 0; k < K; k++) c += a[a0 + k] * b[b0 + k];
      const o = outOff + i * N + j;
      out[o] = accumulate ? out[o] + c : c;
    }
  }
}
