// AssemblyScript source of the WebAssembly SIMD128 matrix kernels.
//
// Built by src/engine/wasm/build.mjs (npm run build) twice: once with plain
// SIMD128 (multiply, then add) and once with relaxed SIMD, where `madd` becomes
// one fused multiply-add. The file has the extension .as so that the
// project's TypeScript type check, which knows no v128, leaves it alone; the
// build copies it to a .ts name for asc.
//
// Every pointer is a byte address in the memory the host passes in as
// env.memory; matrices are row-major float32. Nothing here allocates.

import { madd } from './simd';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Columns of the K dimension handled per pass: keeps a 4×2 tile's six rows in L1. */
const KC: i32 = 512;
/** Rows of `a` per block: MC·KC floats stay in L2 while all of `b` streams past. */
const MC: i32 = 64;

// @ts-ignore: decorator
@inline function put(p: usize, v: f32, acc: bool): void {
  if (acc) store<f32>(p, load<f32>(p) + v);
  else store<f32>(p, v);
}

/** out[i..i+4, j..j+2] (+)= a[i..i+4, k0..k0+kc] · b[j..j+2, k0..k0+kc]ᵀ, pointers already at row starts. */
function tile4x2(o: usize, ldo: usize, a: usize, b: usize, ld: usize, kc: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const a1 = a + ld, a2 = a1 + ld, a3 = a2 + ld;
  const b1 = b + ld;
  const kc4 = kc & ~3;
  let k: usize = 0;
  const end = <usize>kc4 << 2;
  for (; k < end; k += 16) {
    const y0 = v128.load(b + k), y1 = v128.load(b1 + k);
    const x0 = v128.load(a + k);
    c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
    const x1 = v128.load(a1 + k);
    c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
    const x2 = v128.load(a2 + k);
    c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
    const x3 = v128.load(a3 + k);
    c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
  }
  let s00 = hsum(c00), s01 = hsum(c01), s10 = hsum(c10), s11 = hsum(c11);
  let s20 = hsum(c20), s21 = hsum(c21), s30 = hsum(c30), s31 = hsum(c31);
  const kend = <usize>kc << 2;
  for (; k < kend; k += 4) {
    const y0 = load<f32>(b + k), y1 = load<f32>(b1 + k);
    const x0 = load<f32>(a + k), x1 = load<f32>(a1 + k), x2 = load<f32>(a2 + k), x3 = load<f32>(a3 + k);
    s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
    s20 += x2 * y0; s21 += x2 * y1; s30 += x3 * y0; s31 += x3 * y1;
  }
  const o1 = o + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
  put(o, s00, acc); put(o + 4, s01, acc);
  put(o1, s10, acc); put(o1 + 4, s11, acc);
  put(o2, s20, acc); put(o2 + 4, s21, acc);
  put(o3, s30, acc); put(o3 + 4, s31, acc);
}

/** One row of a against two rows of b. */
function tile1x2(o: usize, a: usize, b: usize, ld: usize, kc: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const b1 = b + ld;
  let k: usize = 0;
  const end = <usize>(kc & ~3) << 2;
  for (; k < end; k += 16) {
    const x = v128.load(a + k);
    c0 = madd(x, v128.load(b + k), c0);
    c1 = madd(x, v128.load(b1 + k), c1);
  }
  let s0 = hsum(c0), s1 = hsum(c1);
  const kend = <usize>kc << 2;
  for (; k < kend; k += 4) {
    const x = load<f32>(a + k);
    s0 += x * load<f32>(b + k);
    s1 += x * load<f32>(b1 + k);
  }
  put(o, s0, acc); put(o + 4, s1, acc);
}

/** One row of a against one row of b: a dot product. */
function tile1x1(o: usize, a: usize, b: usize, kc: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let k: usize = 0;
  const end8 = <usize>(kc & ~7) << 2;
  for (; k < end8; k += 32) {
    c0 = madd(v128.load(a + k), v128.load(b + k), c0);
    c1 = madd(v128.load(a + k + 16), v128.load(b + k + 16), c1);
  }
  const end = <usize>(kc & ~3) << 2;
  for (; k < end; k += 16) c0 = madd(v128.load(a + k), v128.load(b + k), c0);
  let s = hsum(f32x4.add(c0, c1));
  const kend = <usize>kc << 2;
  for (; k < kend; k += 4) s += load<f32>(a + k) * load<f32>(b + k);
  put(o, s, acc);
}

/**
 * out[M,N] (+)= a[M,K] · b[N,K]ᵀ. Both operands are read along K, so the
 * products are dot products of contiguous rows and need no packing: 4×2
 * tiles of eight 4-lane accumulators, blocked over K (KC) and M (MC).
 */
export function gemm_abt(out: usize, a: usize, b: usize, M: i32, N: i32, K: i32, accumulate: i32): void {
  gemm_abt_ld(out, a, b, M, N, K, N, accumulate);
}

/**
 * gemm_abt on a block of columns of a wider output whose rows are `ldOut`
 * floats apart: what the threads split a product into. Every output element
 * is the same dot product, in the same order, as in the whole product, as
 * long as blocks of columns start at even columns (the 4×2 and 1×2 tiles add
 * alike; only the odd last column's 1×1 tile differs, and it stays last).
 */
export function gemm_abt_ld(out: usize, a: usize, b: usize, M: i32, N: i32, K: i32, ldOut: i32, accumulate: i32): void {
  const ld = <usize>K << 2;
  const ldo = <usize>ldOut << 2;
  const N2 = N & ~1;
  if (K == 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(out + <usize>i * ldo, 0, <usize>N << 2);
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = accumulate != 0 || k0 > 0;
    const kb = <usize>k0 << 2;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const i1 = min(i0 + MC, M);
      const i4 = i0 + ((i1 - i0) & ~3);
      for (let j = 0; j < N2; j += 2) {
        const bj = b + <usize>j * ld + kb;
        let i = i0;
        for (; i < i4; i += 4) tile4x2(out + <usize>i * ldo + (<usize>j << 2), ldo, a + <usize>i * ld + kb, bj, ld, kc, acc);
        for (; i < i1; i++) tile1x2(out + <usize>i * ldo + (<usize>j << 2), a + <usize>i * ld + kb, bj, ld, kc, acc);
      }
      if (N2 < N) {
        const bj = b + <usize>N2 * ld + kb;
        for (let i = i0; i < i1; i++) tile1x1(out + <usize>i * ldo + (<usize>N2 << 2), a + <usize>i * ld + kb, bj, kc, acc);
      }
    }
  }
}

/** out[cols,rows] = a[rows,cols]ᵀ in 16×16 tiles, so reads and writes both stay in cache. */
export function transpose(out: usize, a: usize, rows: i32, cols: i32): void {
  transpose_cols(out, a, rows, cols, 0, cols);
}

/** The rows [from, to) of transpose(out, a, rows, cols): columns from..to-1 of a. Threads split a transpose by these. */
export function transpose_cols(out: usize, a: usize, rows: i32, cols: i32, from: i32, to: i32): void {
  const T: i32 = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = min(r0 + T, rows);
    for (let c0 = from; c0 < to; c0 += T) {
      const c1 = min(c0 + T, to);
      // 4×4 blocks by SIMD shuffles, the tile's ragged edges element by element.
      const r4 = r0 + ((r1 - r0) & ~3), c4 = c0 + ((c1 - c0) & ~3);
      const lda = <usize>cols << 2, ldo = <usize>rows << 2;
      for (let r = r0; r < r4; r += 4) {
        const src = a + <usize>r * lda;
        for (let c = c0; c < c4; c += 4) {
          const p = src + (<usize>c << 2);
          const v0 = v128.load(p), v1 = v128.load(p + lda), v2 = v128.load(p + 2 * lda), v3 = v128.load(p + 3 * lda);
          const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
          const o = out + <usize>c * ldo + (<usize>r << 2);
          v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(o + ldo, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
          v128.store(o + 2 * ldo, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
          v128.store(o + 3 * ldo, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
        }
        for (let rr = r; rr < r + 4; rr++) {
          const srow = a + <usize>rr * lda;
          for (let c = c4; c < c1; c++) store<f32>(out + ((<usize>c * <usize>rows + <usize>rr) << 2), load<f32>(srow + (<usize>c << 2)));
        }
      }
      for (let r = r4; r < r1; r++) {
        const srow = a + <usize>r * lda;
        for (let c = c0; c < c1; c++) store<f32>(out + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(srow + (<usize>c << 2)));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Fused row-wise kernels: softmax cross-entropy, bias broadcasts, row
// gathers and column sums, over buffers that live in this memory (a network's
// arena). Pointers are byte addresses. The model families' own kernels (a
// cell's step, its whole time loop) live in their folders (models/*/kernels.as).

/** a[r, :] += bias for every row r of a[rows, cols]. */
export function add_rows(a: usize, bias: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const ldc = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const p = a + <usize>r * ldc;
    let j = 0;
    for (; j < c4; j += 4) v128.store(p + (<usize>j << 2), f32x4.add(v128.load(p + (<usize>j << 2)), v128.load(bias + (<usize>j << 2))));
    for (; j < cols; j++) store<f32>(p + (<usize>j << 2), load<f32>(p + (<usize>j << 2)) + load<f32>(bias + (<usize>j << 2)));
  }
}

/** out[r, :] = table[idx[r], :] + bias: the one-hot input projection as a row gather. */
export function gather_rows(out: usize, table: usize, idx: usize, bias: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const ldc = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = out + <usize>r * ldc;
    const src = table + <usize>load<i32>(idx + (<usize>r << 2)) * ldc;
    let j = 0;
    for (; j < c4; j += 4) v128.store(o + (<usize>j << 2), f32x4.add(v128.load(src + (<usize>j << 2)), v128.load(bias + (<usize>j << 2))));
    for (; j < cols; j++) store<f32>(o + (<usize>j << 2), load<f32>(src + (<usize>j << 2)) + load<f32>(bias + (<usize>j << 2)));
  }
}

/** table[idx[r], :] += a[r, :]: the one-hot input gradient as a row scatter-add. */
export function scatter_add_rows(table: usize, idx: usize, a: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const ldc = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const src = a + <usize>r * ldc;
    const o = table + <usize>load<i32>(idx + (<usize>r << 2)) * ldc;
    let j = 0;
    for (; j < c4; j += 4) v128.store(o + (<usize>j << 2), f32x4.add(v128.load(o + (<usize>j << 2)), v128.load(src + (<usize>j << 2))));
    for (; j < cols; j++) store<f32>(o + (<usize>j << 2), load<f32>(o + (<usize>j << 2)) + load<f32>(src + (<usize>j << 2)));
  }
}

/** out[j] = Σ_r a[r, j] (overwrites out). */
export function col_sums(out: usize, a: usize, rows: i32, cols: i32): void {
  memory.fill(out, 0, <usize>cols << 2);
  add_rows_into(out, a, rows, cols, cols);
}

/** Columns [from, to) of col_sums (from a multiple of 4): each column's sum is formed in the same order. Threads split col_sums by these. */
export function col_sums_cols(out: usize, a: usize, rows: i32, cols: i32, from: i32, to: i32): void {
  const f = <usize>from << 2;
  memory.fill(out + f, 0, <usize>(to - from) << 2);
  add_rows_into(out + f, a + f, rows, to - from, cols);
}

// @ts-ignore: decorator
@inline function add_rows_into(out: usize, a: usize, rows: i32, cols: i32, lda: i32): void {
  const c4 = cols & ~3;
  const ldc = <usize>lda << 2;
  for (let r = 0; r < rows; r++) {
    const p = a + <usize>r * ldc;
    let j = 0;
    for (; j < c4; j += 4) v128.store(out + (<usize>j << 2), f32x4.add(v128.load(out + (<usize>j << 2)), v128.load(p + (<usize>j << 2))));
    for (; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) + load<f32>(p + (<usize>j << 2)));
  }
}

/**
 * Adds the bias to the logits [rows, V], turns each row into probabilities
 * and returns Σ over scored rows (target ≥ 0) of -log p(target), in float64
 * with the same log-sum-exp form as the TypeScript graph. The number of
 * scored rows is stored at `scoredOut` (i32).
 */
export function softmax_xent(probs: usize, bias: usize, targets: usize, rows: i32, V: i32, scoredOut: usize): f64 {
  let loss: f64 = 0;
  let scored: i32 = 0;
  const ldv = <usize>V << 2;
  for (let r = 0; r < rows; r++) {
    const o = probs + <usize>r * ldv;
    let max: f32 = -Infinity;
    for (let v = 0; v < V; v++) {
      const p = o + (<usize>v << 2);
      const z = load<f32>(p) + load<f32>(bias + (<usize>v << 2));
      store<f32>(p, z);
      if (z > max) max = z;
    }
    let sum: f64 = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(<f64>load<f32>(o + (<usize>v << 2)) - <f64>max);
    const target = load<i32>(targets + (<usize>r << 2));
    if (target >= 0) {
      loss += Math.log(sum) + <f64>max - <f64>load<f32>(o + (<usize>target << 2));
      scored++;
    }
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) {
      const p = o + (<usize>v << 2);
      store<f32>(p, <f32>(Math.exp(<f64>load<f32>(p) - <f64>max) * inv));
    }
  }
  store<i32>(scoredOut, scored);
  return loss;
}

/** ∂E/∂logits in place: (p - onehot(target)) · scale, zero rows for unscored targets. */
export function xent_grad(probs: usize, targets: usize, rows: i32, V: i32, scale: f32): void {
  const ldv = <usize>V << 2;
  const V4 = V & ~3;
  const s = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const o = probs + <usize>r * ldv;
    const target = load<i32>(targets + (<usize>r << 2));
    if (target < 0) {
      memory.fill(o, 0, ldv);
      continue;
    }
    let v = 0;
    for (; v < V4; v += 4) v128.store(o + (<usize>v << 2), f32x4.mul(v128.load(o + (<usize>v << 2)), s));
    for (; v < V; v++) store<f32>(o + (<usize>v << 2), load<f32>(o + (<usize>v << 2)) * scale);
    const t = o + (<usize>target << 2);
    store<f32>(t, load<f32>(t) - scale);
  }
}

/** First byte after the module's static data (the tables of Math.exp/Math.log): the host's buffers start above it. */
export function heap_base(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------
// out[M,N] (+)= a[K,M]ᵀ · b[K,N] on the untransposed operands, in outer-product
// form: for each k, a 6×8 tile of out gains a[k, i..i+6] (splat) ⊗ b[k, j..j+8].
// Every output element is one accumulator lane that starts at zero for each
// block of K (AKC) and gains madd(a[k,i], b[k,j]) for k in order, then is added
// to out (or stored, for the first block without accumulate). Edge tiles do the
// same arithmetic lane by lane, so any split by rows or columns gives the same bits.

/** K rows per pass: the packed 6-wide strip of a (AKC·24 bytes) stays in L1. */
const AKC: i32 = 128;
/** Columns of b per block: AKC·ANC floats of b stay in L2 while the rows of a go by. */
const ANC: i32 = 1024;

// @ts-ignore: decorator
@inline function vput(p: usize, v: v128, acc: bool): void {
  if (acc) v128.store(p, f32x4.add(v128.load(p), v));
  else v128.store(p, v);
}

/** out[6, 8] (+)= Σ_k ap[k, 0..6]ᵀ ⊗ b[k, 0..8]; ap is packed (24 bytes per k), b's rows lb bytes apart. */
function atb6x8(o: usize, lo: usize, ap: usize, b: usize, lb: usize, kc: i32, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  const end = ap + <usize>kc * 24;
  let p = b;
  for (let q = ap; q < end; q += 24) {
    const y0 = v128.load(p), y1 = v128.load(p + 16);
    const x0 = v128.load32_splat(q);
    c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
    const x1 = v128.load32_splat(q + 4);
    c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
    const x2 = v128.load32_splat(q + 8);
    c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
    const x3 = v128.load32_splat(q + 12);
    c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
    const x4 = v128.load32_splat(q + 16);
    c40 = madd(x4, y0, c40); c41 = madd(x4, y1, c41);
    const x5 = v128.load32_splat(q + 20);
    c50 = madd(x5, y0, c50); c51 = madd(x5, y1, c51);
    p += lb;
  }
  vput(o, c00, acc); vput(o + 16, c01, acc);
  const o1 = o + lo, o2 = o1 + lo, o3 = o2 + lo, o4 = o3 + lo, o5 = o4 + lo;
  vput(o1, c10, acc); vput(o1 + 16, c11, acc);
  vput(o2, c20, acc); vput(o2 + 16, c21, acc);
  vput(o3, c30, acc); vput(o3 + 16, c31, acc);
  vput(o4, c40, acc); vput(o4 + 16, c41, acc);
  vput(o5, c50, acc); vput(o5 + 16, c51, acc);
}

/** One row: out[1, 8] (+)= Σ_k a[k, i] · b[k, 0..8]; a points at a[k0, i], rows la bytes apart. */
function atb1x8(o: usize, a: usize, la: usize, b: usize, lb: usize, kc: i32, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let p = b, q = a;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(q);
    c0 = madd(x, v128.load(p), c0); c1 = madd(x, v128.load(p + 16), c1);
    p += lb; q += la;
  }
  vput(o, c0, acc); vput(o + 16, c1, acc);
}

/** Any rows × cols block element by element, with the same lane arithmetic as the tiles. */
function atb_edge(o: usize, lo: usize, a: usize, la: usize, b: usize, lb: usize, rows: i32, cols: i32, kc: i32, acc: bool): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let c = f32x4.splat(0);
      let p = b + (<usize>j << 2), q = a + (<usize>i << 2);
      for (let k = 0; k < kc; k++) {
        c = madd(v128.load32_splat(q), v128.load32_splat(p), c);
        p += lb; q += la;
      }
      put(o + <usize>i * lo + (<usize>j << 2), f32x4.extract_lane(c, 0), acc);
    }
  }
}

/**
 * out[M,N] (+)= a[K,M]ᵀ · b[K,N] with rows of a, b, out lda, ldb, ldo floats
 * apart (a block of rows or columns of a larger product: what threads split
 * it into). ws: AKC·16 bytes of this caller's own workspace for the packed strip of a.
 */
export function gemm_atb_ld(out: usize, a: usize, b: usize, M: i32, N: i32, K: i32, lda: i32, ldb: i32, ldo: i32, accumulate: i32, ws: usize): void {
  const la = <usize>lda << 2, lb = <usize>ldb << 2, lo = <usize>ldo << 2;
  if (K == 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(out + <usize>i * lo, 0, <usize>N << 2);
    return;
  }
  const M6 = M - M % 6;
  for (let k0 = 0; k0 < K; k0 += AKC) {
    const kc = min(AKC, K - k0);
    const acc = accumulate != 0 || k0 > 0;
    const ak = a + <usize>k0 * la, bk = b + <usize>k0 * lb;
    for (let j0 = 0; j0 < N; j0 += ANC) {
      const j1 = min(j0 + ANC, N);
      const j8 = j0 + ((j1 - j0) & ~7);
      for (let i0 = 0; i0 < M6; i0 += 6) {
        const src = ak + (<usize>i0 << 2);
        for (let k = 0; k < kc; k++) {
          const s = src + <usize>k * la, d = ws + <usize>k * 24;
          v128.store(d, v128.load(s));
          store<u64>(d + 16, load<u64>(s + 16));
        }
        const orow = out + <usize>i0 * lo;
        for (let j = j0; j < j8; j += 8) atb6x8(orow + (<usize>j << 2), lo, ws, bk + (<usize>j << 2), lb, kc, acc);
        if (j8 < j1) atb_edge(orow + (<usize>j8 << 2), lo, src, la, bk + (<usize>j8 << 2), lb, 6, j1 - j8, kc, acc);
      }
      for (let i = M6; i < M; i++) {
        const src = ak + (<usize>i << 2);
        const orow = out + <usize>i * lo;
        for (let j = j0; j < j8; j += 8) atb1x8(orow + (<usize>j << 2), src, la, bk + (<usize>j << 2), lb, kc, acc);
        if (j8 < j1) atb_edge(orow + (<usize>j8 << 2), lo, src, la, bk + (<usize>j8 << 2), lb, 1, j1 - j8, kc, acc);
      }
    }
  }
}

/**
 * out[M,N] (+)= a[M,K] · b[K,N] with rows of a, b, out lda, ldb, ldo floats
 * apart, by the outer-product tiles of gemm_atb_ld: each 6-row strip of a is
 * packed transposed (the layout atb6x8 reads) into ws (AKC·24 bytes), b's rows
 * are read in place. Same per-element arithmetic as gemm_atb_ld, so any split
 * by rows or columns gives the same bits.
 */
export function gemm_ab_ld(out: usize, a: usize, b: usize, M: i32, N: i32, K: i32, lda: i32, ldb: i32, ldo: i32, accumulate: i32, ws: usize): void {
  const la = <usize>lda << 2, lb = <usize>ldb << 2, lo = <usize>ldo << 2;
  if (K == 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(out + <usize>i * lo, 0, <usize>N << 2);
    return;
  }
  for (let k0 = 0; k0 < K; k0 += AKC) {
    const kc = min(AKC, K - k0);
    const acc = accumulate != 0 || k0 > 0;
    const ak = a + (<usize>k0 << 2), bk = b + <usize>k0 * lb;
    for (let j0 = 0; j0 < N; j0 += ANC) {
      const j1 = min(j0 + ANC, N);
      const j8 = j0 + ((j1 - j0) & ~7);
      for (let i0 = 0; i0 < M; i0 += 6) {
        const rows = min(6, M - i0);
        pack_rows(ws, ak + <usize>i0 * la, la, rows, kc);
        const orow = out + <usize>i0 * lo;
        if (rows == 6) {
          for (let j = j0; j < j8; j += 8) atb6x8(orow + (<usize>j << 2), lo, ws, bk + (<usize>j << 2), lb, kc, acc);
        } else {
          for (let r = 0; r < rows; r++) {
            for (let j = j0; j < j8; j += 8) atb1x8(orow + <usize>r * lo + (<usize>j << 2), ws + (<usize>r << 2), 24, bk + (<usize>j << 2), lb, kc, acc);
          }
        }
        if (j8 < j1) atb_edge(orow + (<usize>j8 << 2), lo, ws, 24, bk + (<usize>j8 << 2), lb, rows, j1 - j8, kc, acc);
      }
    }
  }
}

/** ws[k, r] = a[r, k] for r < rows ≤ 6, k < kc (rows of ws 24 bytes apart): a strip of a transposed, four k at a time by shuffles. */
// @ts-ignore: decorator
@inline function pack_rows(ws: usize, a: usize, la: usize, rows: i32, kc: i32): void {
  if (rows == 6) {
    const kc4 = kc & ~3;
    let k = 0;
    for (; k < kc4; k += 4) {
      const p = a + (<usize>k << 2);
      const v0 = v128.load(p), v1 = v128.load(p + la), v2 = v128.load(p + 2 * la), v3 = v128.load(p + 3 * la);
      const v4 = v128.load(p + 4 * la), v5 = v128.load(p + 5 * la);
      const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      const u0 = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5), u1 = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7);
      const d = ws + <usize>k * 24;
      // k: rows 0-3 then rows 4-5, for k, k+1, k+2, k+3
      v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store64_lane(d + 16, u0, 0);
      v128.store(d + 24, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store64_lane(d + 40, u0, 1);
      v128.store(d + 48, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store64_lane(d + 64, u1, 0);
      v128.store(d + 72, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
      v128.store64_lane(d + 88, u1, 1);
    }
    for (; k < kc; k++) {
      const d = ws + <usize>k * 24, p = a + (<usize>k << 2);
      for (let r = 0; r < 6; r++) store<f32>(d + (<usize>r << 2), load<f32>(p + <usize>r * la));
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    const d = ws + <usize>k * 24, p = a + (<usize>k << 2);
    for (let r = 0; r < rows; r++) store<f32>(d + (<usize>r << 2), load<f32>(p + <usize>r * la));
  }
}
