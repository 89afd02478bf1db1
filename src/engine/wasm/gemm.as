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

/** a·b + c, fused where the relaxed-SIMD build allows it. */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

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
  const ld = <usize>K << 2;
  const ldo = <usize>N << 2;
  const N2 = N & ~1;
  if (K == 0) {
    if (!accumulate) memory.fill(out, 0, <usize>M * ldo);
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
  const T: i32 = 16;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const src = a + (<usize>r * <usize>cols << 2);
        for (let c = c0; c < c1; c++) {
          store<f32>(out + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(src + (<usize>c << 2)));
        }
      }
    }
  }
}
