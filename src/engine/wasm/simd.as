// Shared SIMD128 helpers of the wasm kernels (gemm.as and the model families'
// models/*/kernels.as): all @inline, so they cost no call and are no export.
// Built with the kernels by build.mjs (see gemm.as for the two flavors).

/** a·b + c, fused where the relaxed-SIMD build allows it. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function vmadd(a: v128, b: v128, c: v128): v128 { return madd(a, b, c); }

/**
 * e^x for four lanes (Cephes expf: range reduction by ln 2 in two parts and a
 * degree-6 polynomial, about 1 ulp in float32). Inputs are clamped to
 * [-87.3, 88.3] so 2^n stays a normal number: e^-87.3 ≈ 1.2e-38.
 * The clamps are pmin/pmax (one instruction each; wasm's min/max are
 * sequences), which keep a NaN; n = round(x·log₂e) comes from adding
 * 1.5·2²³, which rounds to nearest-even like f32x4.nearest and leaves n in
 * the low bits, so no float-to-int conversion.
 */
// @ts-ignore: decorator
@inline export function vexp(x0: v128): v128 {
  const x = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912));
  const fx = f32x4.sub(shifted, f32x4.splat(12582912));
  let r = vmadd(fx, f32x4.splat(-0.693359375), x);
  r = vmadd(fx, f32x4.splat(2.12194440e-4), r);
  let y = f32x4.splat(1.9875691500e-4);
  y = vmadd(y, r, f32x4.splat(1.3981999507e-3));
  y = vmadd(y, r, f32x4.splat(8.3334519073e-3));
  y = vmadd(y, r, f32x4.splat(4.1665795894e-2));
  y = vmadd(y, r, f32x4.splat(1.6666665459e-1));
  y = vmadd(y, r, f32x4.splat(5.0000001201e-1));
  y = vmadd(f32x4.mul(y, r), r, f32x4.add(r, f32x4.splat(1)));
  // shifted's bits are 0x4B400000 + n: n + 127 is those bits - (0x4B400000 - 127).
  const pow2n = i32x4.shl(i32x4.sub(shifted, i32x4.splat(0x4B400000 - 127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

/** tanh x = 1 - 2/(e^{2x} + 1): absolute error ~1e-7, saturates cleanly at ±1. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(vexp(f32x4.add(x, x)), one)));
}

// @ts-ignore: decorator
@inline export function ld(p: usize, j: i32, tail: bool): v128 {
  if (tail) return f32x4.splat(load<f32>(p + (<usize>j << 2)));
  return v128.load(p + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline export function st(p: usize, j: i32, v: v128, tail: bool): void {
  if (tail) store<f32>(p + (<usize>j << 2), f32x4.extract_lane(v, 0));
  else v128.store(p + (<usize>j << 2), v);
}
