// AssemblyScript source of gpt's causal self-attention in wasm, compiled into
// the one kernels module by src/engine/wasm/build.mjs and bound by wasm.ts
// beside this file (attention.ts holds the TypeScript reference). It works on
// the c_attn output [T·B, 3C] as it is (row r = t·B + b: q, k, v side by
// side, head h at columns h·hs of each) and writes y [T·B, C] in the same
// layout, so no heads are split or merged. Each call covers the (batch row,
// head) pairs bh0 .. bh1-1 (bh = b·heads + h), which never touch each other's
// rows: threads split a window by them. Pointers are byte addresses. Nothing
// here allocates. Arguments are integers (threads pass them as Int32); the
// score scale 1/sqrt(hs) is formed here.

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

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j < n4; j += 4) acc = madd(v128.load(at(a, j)), v128.load(at(b, j)), acc);
  let s = hsum(acc);
  for (; j < n; j++) s += load<f32>(at(a, j)) * load<f32>(at(b, j));
  return s;
}

/** y[0..n) += c·x[0..n) */
// @ts-ignore: decorator
@inline function axpy(y: usize, c: f32, x: usize, n: i32): void {
  const n4 = n & ~3;
  const vc = f32x4.splat(c);
  let j = 0;
  for (; j < n4; j += 4) v128.store(at(y, j), madd(vc, v128.load(at(x, j)), v128.load(at(y, j))));
  for (; j < n; j++) store<f32>(at(y, j), load<f32>(at(y, j)) + c * load<f32>(at(x, j)));
}

/**
 * Forward for pairs [bh0, bh1): P[bh, t, s] = softmax over s <= t of
 * scale·q_t·k_s (0 for s > t), y_t = Σ_s P[t, s] v_s.
 */
export function attn_fwd(qkv: usize, y: usize, P: usize, T: i32, B: i32, C: i32, heads: i32, bh0: i32, bh1: i32): void {
  const hs = C / heads;
  const scale: f32 = 1 / Mathf.sqrt(<f32>hs);
  const rowQ = <usize>B * 3 * <usize>C << 2;
  const rowY = <usize>B * <usize>C << 2;
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / heads, h = bh % heads;
    const q0 = qkv + ((<usize>b * 3 * <usize>C + <usize>h * hs) << 2);
    const k0 = q0 + (<usize>C << 2), v0 = k0 + (<usize>C << 2);
    const y0 = y + ((<usize>b * <usize>C + <usize>h * hs) << 2);
    const p0 = P + ((<usize>bh * T * T) << 2);
    for (let t = 0; t < T; t++) {
      const qt = q0 + <usize>t * rowQ;
      const pt = p0 + ((<usize>t * T) << 2);
      const n = t + 1;
      let max: f32 = -Infinity;
      for (let s = 0; s < n; s++) {
        const z = dot(qt, k0 + <usize>s * rowQ, hs) * scale;
        store<f32>(at(pt, s), z);
        if (z > max) max = z;
      }
      const vmax = f32x4.splat(max);
      const n4 = n & ~3;
      let vsum = f32x4.splat(0);
      let s = 0;
      for (; s < n4; s += 4) {
        const e = vexp(f32x4.sub(v128.load(at(pt, s)), vmax));
        v128.store(at(pt, s), e);
        vsum = f32x4.add(vsum, e);
      }
      let sum = hsum(vsum);
      for (; s < n; s++) {
        const e = f32x4.extract_lane(vexp(f32x4.splat(load<f32>(at(pt, s)) - max)), 0);
        store<f32>(at(pt, s), e);
        sum += e;
      }
      const inv: f32 = 1 / sum;
      const vinv = f32x4.splat(inv);
      s = 0;
      for (; s < n4; s += 4) v128.store(at(pt, s), f32x4.mul(v128.load(at(pt, s)), vinv));
      for (; s < n; s++) store<f32>(at(pt, s), load<f32>(at(pt, s)) * inv);
      if (n < T) memory.fill(at(pt, n), 0, <usize>(T - n) << 2);
      const yt = y0 + <usize>t * rowY;
      memory.fill(yt, 0, <usize>hs << 2);
      for (s = 0; s < n; s++) axpy(yt, load<f32>(at(pt, s)), v0 + <usize>s * rowQ, hs);
    }
  }
}

/**
 * Backward for pairs [bh0, bh1) given dy [T·B, C]: writes the q, k, v
 * columns of dqkv [T·B, 3C] (∂/∂ the c_attn output). dP: T floats of scratch
 * for this call alone.
 */
export function attn_bwd(qkv: usize, dy: usize, P: usize, dP: usize, dqkv: usize, T: i32, B: i32, C: i32, heads: i32, bh0: i32, bh1: i32): void {
  const hs = C / heads;
  const scale: f32 = 1 / Mathf.sqrt(<f32>hs);
  const rowQ = <usize>B * 3 * <usize>C << 2;
  const rowY = <usize>B * <usize>C << 2;
  const cb = <usize>C << 2;
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / heads, h = bh % heads;
    const off = (<usize>b * 3 * <usize>C + <usize>h * hs) << 2;
    const q0 = qkv + off, k0 = q0 + cb, v0 = k0 + cb;
    const dq0 = dqkv + off, dk0 = dq0 + cb, dv0 = dk0 + cb;
    const dy0 = dy + ((<usize>b * <usize>C + <usize>h * hs) << 2);
    const p0 = P + ((<usize>bh * T * T) << 2);
    for (let t = 0; t < T; t++) {
      const r = <usize>t * rowQ;
      memory.fill(dq0 + r, 0, <usize>hs << 2);
      memory.fill(dk0 + r, 0, <usize>hs << 2);
      memory.fill(dv0 + r, 0, <usize>hs << 2);
    }
    for (let t = 0; t < T; t++) {
      const pt = p0 + ((<usize>t * T) << 2);
      const dyt = dy0 + <usize>t * rowY;
      const n = t + 1;
      let d: f32 = 0;
      for (let s = 0; s < n; s++) {
        const p = load<f32>(at(pt, s));
        axpy(dv0 + <usize>s * rowQ, p, dyt, hs);
        const g = dot(dyt, v0 + <usize>s * rowQ, hs);
        store<f32>(at(dP, s), g);
        d += p * g;
      }
      const qt = q0 + <usize>t * rowQ, dqt = dq0 + <usize>t * rowQ;
      for (let s = 0; s < n; s++) {
        const ds = scale * load<f32>(at(pt, s)) * (load<f32>(at(dP, s)) - d);
        axpy(dqt, ds, k0 + <usize>s * rowQ, hs);
        axpy(dk0 + <usize>s * rowQ, ds, qt, hs);
      }
    }
  }
}
