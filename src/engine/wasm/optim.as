// AssemblyScript source of the optimizer kernels (see gemm.as for the build).
//
// The TypeScript optimizers (src/engine/optim.ts) compute in float64 on
// float32 storage. These loops do the same operations in the same order in
// float64 (f64x2 lanes: no fused multiply-add, IEEE-exact division and square
// root) and round to float32 where TypeScript stores, so their results are
// the same bits.

/**
 * Adam/AdamW over n floats of p, g, m, v (byte addresses). hyper: nine
 * float64 at a byte address: beta1, 1-beta1, beta2, 1-beta2, lr/bc1, √bc2,
 * eps, shrink (1 - lr·wd for AdamW, 1 for Adam), l2 (wd for Adam, 0 for AdamW).
 *   p = f32(p·shrink); d = g + l2·p
 *   m = f32(beta1·m + (1-beta1)·d); v = f32(beta2·v + (1-beta2)·d·d)
 *   p = f32(p - (lr/bc1)·m / (√v/√bc2 + eps))
 */
export function adam_update(p: usize, g: usize, m: usize, v: usize, n: i32, hyper: usize): void {
  const b1 = f64x2.splat(load<f64>(hyper)), c1 = f64x2.splat(load<f64>(hyper, 8));
  const b2 = f64x2.splat(load<f64>(hyper, 16)), c2 = f64x2.splat(load<f64>(hyper, 24));
  const step = f64x2.splat(load<f64>(hyper, 32)), bc2 = f64x2.splat(load<f64>(hyper, 40));
  const eps = f64x2.splat(load<f64>(hyper, 48)), shrink = f64x2.splat(load<f64>(hyper, 56));
  const l2 = f64x2.splat(load<f64>(hyper, 64));
  const end = <usize>(n & ~1) << 2;
  let k: usize = 0;
  for (; k < end; k += 8) {
    const pk = p + k, mk = m + k, vk = v + k;
    // Each f32 rounding of TypeScript's stores: demote, then promote again.
    const ps = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(pk)), shrink)));
    const d = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(g + k)), f64x2.mul(l2, ps));
    const m32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b1, f64x2.promote_low_f32x4(v128.load64_zero(mk))), f64x2.mul(c1, d)));
    const v32 = f32x4.demote_f64x2_zero(f64x2.add(f64x2.mul(b2, f64x2.promote_low_f32x4(v128.load64_zero(vk))), f64x2.mul(f64x2.mul(c2, d), d)));
    v128.store64_lane(mk, m32, 0);
    v128.store64_lane(vk, v32, 0);
    const den = f64x2.add(f64x2.div(f64x2.sqrt(f64x2.promote_low_f32x4(v32)), bc2), eps);
    const upd = f64x2.div(f64x2.mul(step, f64x2.promote_low_f32x4(m32)), den);
    v128.store64_lane(pk, f32x4.demote_f64x2_zero(f64x2.sub(ps, upd)), 0);
  }
  const sb1 = load<f64>(hyper), sc1 = load<f64>(hyper, 8), sb2 = load<f64>(hyper, 16), sc2 = load<f64>(hyper, 24);
  const sstep = load<f64>(hyper, 32), sbc2 = load<f64>(hyper, 40), seps = load<f64>(hyper, 48);
  const sshrink = load<f64>(hyper, 56), sl2 = load<f64>(hyper, 64);
  const kend = <usize>n << 2;
  for (; k < kend; k += 4) {
    const ps = <f64><f32>(<f64>load<f32>(p + k) * sshrink);
    const d = <f64>load<f32>(g + k) + sl2 * ps;
    const m32 = <f32>(sb1 * <f64>load<f32>(m + k) + sc1 * d);
    const v32 = <f32>(sb2 * <f64>load<f32>(v + k) + sc2 * d * d);
    store<f32>(m + k, m32);
    store<f32>(v + k, v32);
    store<f32>(p + k, <f32>(ps - (sstep * <f64>m32) / (Math.sqrt(<f64>v32) / sbc2 + seps)));
  }
}

/** Σ g² over n floats in float64, in index order: clipGradNorm's order, so the same bits. */
export function sum_squares(g: usize, n: i32): f64 {
  let s: f64 = 0;
  const end = <usize>n << 2;
  for (let k: usize = 0; k < end; k += 4) {
    const x = <f64>load<f32>(g + k);
    s += x * x;
  }
  return s;
}

/** g = f32(g · coef) over n floats (coef a float64). */
export function scale_f64(g: usize, n: i32, coef: f64): void {
  const c = f64x2.splat(coef);
  const end = <usize>(n & ~1) << 2;
  let k: usize = 0;
  for (; k < end; k += 8) {
    v128.store64_lane(g + k, f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(g + k)), c)), 0);
  }
  if (k < (<usize>n << 2)) store<f32>(g + k, <f32>(<f64>load<f32>(g + k) * coef));
}
