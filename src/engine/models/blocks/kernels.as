// AssemblyScript source of the block models' row-wise wasm kernels (LayerNorm,
// exact GELU with its bias, the residual sums), compiled into the one kernels
// module by src/engine/wasm/build.mjs. Bound to a network's arena by wasm.ts
// beside this file; ops.ts holds the TypeScript reference they match within
// float32 rounding. Pointers are byte addresses; matrices row-major float32.
// Loops that take (r0, r1) cover rows [r0, r1) so threads can split them.
// Nothing here allocates.

import { madd, vexp } from '../../wasm/simd';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

// @ts-ignore: decorator
@inline function at(p: usize, j: i32): usize {
  return p + (<usize>j << 2);
}

/**
 * Rows [r0, r1): y = (x - mean)·rstd·w + b; mean and rstd kept (biased
 * variance, as torch's layer_norm). eps comes as the bits of a float32
 * (threads pass integer arguments).
 */
export function ln_fwd(y: usize, x: usize, C: i32, w: usize, b: usize, mean: usize, rstd: usize, epsBits: i32, r0: i32, r1: i32): void {
  const C4 = C & ~3;
  const ld = <usize>C << 2;
  const invC: f32 = 1 / <f32>C;
  const eps = reinterpret<f32>(epsBits);
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * ld, yr = y + <usize>r * ld;
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j < C4; j += 4) acc = f32x4.add(acc, v128.load(at(xr, j)));
    let s = hsum(acc);
    for (; j < C; j++) s += load<f32>(at(xr, j));
    const mu = s * invC;
    const vmu = f32x4.splat(mu);
    acc = f32x4.splat(0);
    j = 0;
    for (; j < C4; j += 4) {
      const d = f32x4.sub(v128.load(at(xr, j)), vmu);
      acc = madd(d, d, acc);
    }
    let v = hsum(acc);
    for (; j < C; j++) {
      const d = load<f32>(at(xr, j)) - mu;
      v += d * d;
    }
    const rs: f32 = 1 / Mathf.sqrt(v * invC + eps);
    store<f32>(at(mean, r), mu);
    store<f32>(at(rstd, r), rs);
    const vrs = f32x4.splat(rs);
    j = 0;
    for (; j < C4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), vmu), vrs);
      v128.store(at(yr, j), madd(xh, v128.load(at(w, j)), v128.load(at(b, j))));
    }
    for (; j < C; j++) store<f32>(at(yr, j), (load<f32>(at(xr, j)) - mu) * rs * load<f32>(at(w, j)) + load<f32>(at(b, j)));
  }
}

/**
 * Backward of ln_fwd: dx (+)= rstd·(g - mean(g) - x̂·mean(g·x̂)) with g = dy·w,
 * and gw += Σ_r dy·x̂, gb += Σ_r dy.
 */
export function ln_bwd(dx: usize, accumulate: i32, dy: usize, x: usize, rows: i32, C: i32, w: usize, gw: usize, gb: usize, mean: usize, rstd: usize): void {
  const C4 = C & ~3;
  const ld = <usize>C << 2;
  const invC: f32 = 1 / <f32>C;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * ld, dyr = dy + <usize>r * ld, dxr = dx + <usize>r * ld;
    const mu = load<f32>(at(mean, r)), rs = load<f32>(at(rstd, r));
    const vmu = f32x4.splat(mu), vrs = f32x4.splat(rs);
    let a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let j = 0;
    for (; j < C4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), vmu), vrs);
      const d = v128.load(at(dyr, j));
      const g = f32x4.mul(d, v128.load(at(w, j)));
      a1 = f32x4.add(a1, g);
      a2 = madd(g, xh, a2);
      v128.store(at(gw, j), madd(d, xh, v128.load(at(gw, j))));
      v128.store(at(gb, j), f32x4.add(v128.load(at(gb, j)), d));
    }
    let m1 = hsum(a1), m2 = hsum(a2);
    for (; j < C; j++) {
      const xh = (load<f32>(at(xr, j)) - mu) * rs;
      const d = load<f32>(at(dyr, j));
      const g = d * load<f32>(at(w, j));
      m1 += g;
      m2 += g * xh;
      store<f32>(at(gw, j), load<f32>(at(gw, j)) + d * xh);
      store<f32>(at(gb, j), load<f32>(at(gb, j)) + d);
    }
    m1 *= invC;
    m2 *= invC;
    const vm1 = f32x4.splat(m1), vm2 = f32x4.splat(m2);
    j = 0;
    for (; j < C4; j += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, j)), vmu), vrs);
      const g = f32x4.mul(v128.load(at(dyr, j)), v128.load(at(w, j)));
      let v = f32x4.mul(vrs, f32x4.sub(f32x4.sub(g, vm1), f32x4.mul(xh, vm2)));
      if (accumulate) v = f32x4.add(v, v128.load(at(dxr, j)));
      v128.store(at(dxr, j), v);
    }
    for (; j < C; j++) {
      const xh = (load<f32>(at(xr, j)) - mu) * rs;
      let v = rs * (load<f32>(at(dyr, j)) * load<f32>(at(w, j)) - m1 - xh * m2);
      if (accumulate) v += load<f32>(at(dxr, j));
      store<f32>(at(dxr, j), v);
    }
  }
}

/**
 * Φ(x) for four lanes: ½·erfc(|x|/√2) on the left, 1 - that on the right,
 * with erfc from the Chebyshev fit of Numerical Recipes' erfcc (relative
 * error below 1.2e-7 for every argument, so the left tail keeps its accuracy).
 */
// @ts-ignore: decorator
@inline function vcdf(x: v128): v128 {
  const z = f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678118654752));
  const t = f32x4.div(f32x4.splat(1), madd(z, f32x4.splat(0.5), f32x4.splat(1)));
  let p = f32x4.splat(0.17087277);
  p = madd(p, t, f32x4.splat(-0.82215223));
  p = madd(p, t, f32x4.splat(1.48851587));
  p = madd(p, t, f32x4.splat(-1.13520398));
  p = madd(p, t, f32x4.splat(0.27886807));
  p = madd(p, t, f32x4.splat(-0.18628806));
  p = madd(p, t, f32x4.splat(0.09678418));
  p = madd(p, t, f32x4.splat(0.37409196));
  p = madd(p, t, f32x4.splat(1.00002368));
  p = madd(p, t, f32x4.splat(-1.26551223));
  const q = f32x4.mul(f32x4.mul(t, f32x4.splat(0.5)), vexp(f32x4.sub(p, f32x4.mul(z, z))));
  return v128.bitselect(f32x4.sub(f32x4.splat(1), q), q, f32x4.ge(x, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline function scdf(x: f32): f32 {
  return f32x4.extract_lane(vcdf(f32x4.splat(x)), 0);
}

/** φ(x) = e^{-x²/2}/√(2π) for four lanes. */
// @ts-ignore: decorator
@inline function vpdf(x: v128): v128 {
  return f32x4.mul(vexp(f32x4.mul(f32x4.mul(x, x), f32x4.splat(-0.5))), f32x4.splat(0.3989422804014327));
}

/** Rows [r0, r1): a[r, :] += bias, cdf = Φ(a), out = a·Φ(a) (c_fc's bias and exact GELU). */
export function bias_gelu_fwd(out: usize, cdf: usize, a: usize, bias: usize, cols: i32, r0: i32, r1: i32): void {
  const c4 = cols & ~3;
  const ld = <usize>cols << 2;
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * ld;
    let j = 0;
    // Two vectors per pass: their independent polynomial chains overlap.
    const c8 = cols & ~7;
    for (; j < c8; j += 8) {
      const x0 = f32x4.add(v128.load(at(a + o, j)), v128.load(at(bias, j)));
      const x1 = f32x4.add(v128.load(at(a + o, j + 4)), v128.load(at(bias, j + 4)));
      const g0 = vcdf(x0), g1 = vcdf(x1);
      v128.store(at(a + o, j), x0);
      v128.store(at(a + o, j + 4), x1);
      v128.store(at(cdf + o, j), g0);
      v128.store(at(cdf + o, j + 4), g1);
      v128.store(at(out + o, j), f32x4.mul(x0, g0));
      v128.store(at(out + o, j + 4), f32x4.mul(x1, g1));
    }
    for (; j < c4; j += 4) {
      const x = f32x4.add(v128.load(at(a + o, j)), v128.load(at(bias, j)));
      const c = vcdf(x);
      v128.store(at(a + o, j), x);
      v128.store(at(cdf + o, j), c);
      v128.store(at(out + o, j), f32x4.mul(x, c));
    }
    for (; j < cols; j++) {
      const x = load<f32>(at(a + o, j)) + load<f32>(at(bias, j));
      const c = scdf(x);
      store<f32>(at(a + o, j), x);
      store<f32>(at(cdf + o, j), c);
      store<f32>(at(out + o, j), x * c);
    }
  }
}

/** Rows [r0, r1): d *= Φ(a) + a·φ(a), GELU's derivative from the kept Φ. */
export function gelu_bwd(d: usize, cdf: usize, a: usize, cols: i32, r0: i32, r1: i32): void {
  const s = <usize>r0 * (<usize>cols << 2);
  const n = (r1 - r0) * cols;
  const n4 = n & ~3;
  let k = 0;
  for (; k < n4; k += 4) {
    const x = v128.load(at(a + s, k));
    const g = madd(x, vpdf(x), v128.load(at(cdf + s, k)));
    v128.store(at(d + s, k), f32x4.mul(v128.load(at(d + s, k)), g));
  }
  for (; k < n; k++) {
    const x = load<f32>(at(a + s, k));
    const g = load<f32>(at(cdf + s, k)) + x * f32x4.extract_lane(vpdf(f32x4.splat(x)), 0);
    store<f32>(at(d + s, k), load<f32>(at(d + s, k)) * g);
  }
}

/** Rows [r0, r1) of [rows, cols]: out = a ⊙ b (GELU again from the kept Φ). */
export function mul_rows(out: usize, a: usize, b: usize, cols: i32, r0: i32, r1: i32): void {
  const s = <usize>r0 * (<usize>cols << 2);
  const n = (r1 - r0) * cols;
  const n4 = n & ~3;
  let k = 0;
  for (; k < n4; k += 4) v128.store(at(out + s, k), f32x4.mul(v128.load(at(a + s, k)), v128.load(at(b + s, k))));
  for (; k < n; k++) store<f32>(at(out + s, k), load<f32>(at(a + s, k)) * load<f32>(at(b + s, k)));
}

/** out = a + b over n floats (a residual sum). */
export function add_into(out: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  let k = 0;
  for (; k < n4; k += 4) v128.store(at(out, k), f32x4.add(v128.load(at(a, k)), v128.load(at(b, k))));
  for (; k < n; k++) store<f32>(at(out, k), load<f32>(at(a, k)) + load<f32>(at(b, k)));
}

/** x2 = x1 + (y + bias) per row: a branch's bias and the residual sum in one pass. */
export function bias_residual(x2: usize, x1: usize, y: usize, bias: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const ld = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const o = <usize>r * ld;
    let j = 0;
    for (; j < c4; j += 4) {
      const v = f32x4.add(v128.load(at(y + o, j)), v128.load(at(bias, j)));
      v128.store(at(x2 + o, j), f32x4.add(v128.load(at(x1 + o, j)), v));
    }
    for (; j < cols; j++) store<f32>(at(x2 + o, j), load<f32>(at(x1 + o, j)) + (load<f32>(at(y + o, j)) + load<f32>(at(bias, j))));
  }
}

/** x[r, :] = wte[tokens[r], :] (+ wpe[⌊r/B⌋, :] when wpe ≠ 0): the embeddings of rows r = t·B + b. */
export function embed_fwd(x: usize, wte: usize, wpe: usize, tokens: usize, rows: i32, B: i32, C: i32): void {
  const ld = <usize>C << 2;
  const c4 = C & ~3;
  for (let r = 0; r < rows; r++) {
    const o = x + <usize>r * ld;
    const e = wte + <usize>load<i32>(at(tokens, r)) * ld;
    let j = 0;
    if (wpe) {
      const p = wpe + <usize>(r / B) * ld;
      for (; j < c4; j += 4) v128.store(at(o, j), f32x4.add(v128.load(at(e, j)), v128.load(at(p, j))));
      for (; j < C; j++) store<f32>(at(o, j), load<f32>(at(e, j)) + load<f32>(at(p, j)));
    } else {
      memory.copy(o, e, ld);
    }
  }
}

/** gwte[tokens[r], :] += dx[r, :] (and gwpe[⌊r/B⌋, :] += dx[r, :] when gwpe ≠ 0), rows in order. */
export function embed_bwd(gwte: usize, gwpe: usize, tokens: usize, dx: usize, rows: i32, B: i32, C: i32): void {
  const ld = <usize>C << 2;
  const c4 = C & ~3;
  for (let r = 0; r < rows; r++) {
    const d = dx + <usize>r * ld;
    const e = gwte + <usize>load<i32>(at(tokens, r)) * ld;
    let j = 0;
    for (; j < c4; j += 4) v128.store(at(e, j), f32x4.add(v128.load(at(e, j)), v128.load(at(d, j))));
    for (; j < C; j++) store<f32>(at(e, j), load<f32>(at(e, j)) + load<f32>(at(d, j)));
    if (gwpe) {
      const p = gwpe + <usize>(r / B) * ld;
      j = 0;
      for (; j < c4; j += 4) v128.store(at(p, j), f32x4.add(v128.load(at(p, j)), v128.load(at(d, j))));
      for (; j < C; j++) store<f32>(at(p, j), load<f32>(at(p, j)) + load<f32>(at(d, j)));
    }
  }
}
