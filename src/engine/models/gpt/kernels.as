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
 * out[t] = x·y_t for the four rows y_0..y_3 (`ld` bytes apart), x read once
 * per four multiply-adds.
 */
// @ts-ignore: decorator
@inline function dot4(out: usize, x: usize, y: usize, ld: usize, n: i32, scale: f32): void {
  const n4 = n & ~3;
  const y1 = y + ld, y2 = y1 + ld, y3 = y2 + ld;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let j = 0;
  for (; j < n4; j += 4) {
    const v = v128.load(at(x, j));
    a0 = madd(v, v128.load(at(y, j)), a0);
    a1 = madd(v, v128.load(at(y1, j)), a1);
    a2 = madd(v, v128.load(at(y2, j)), a2);
    a3 = madd(v, v128.load(at(y3, j)), a3);
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (; j < n; j++) {
    const v = load<f32>(at(x, j));
    s0 += v * load<f32>(at(y, j)); s1 += v * load<f32>(at(y1, j));
    s2 += v * load<f32>(at(y2, j)); s3 += v * load<f32>(at(y3, j));
  }
  store<f32>(out, s0 * scale); store<f32>(out + 4, s1 * scale);
  store<f32>(out + 8, s2 * scale); store<f32>(out + 12, s3 * scale);
}

/** out[s] = scale·x·y_s for s in [0, n) (rows `ld` bytes apart), four rows at a time. */
// @ts-ignore: decorator
@inline function dots(out: usize, x: usize, y: usize, ld: usize, n: i32, hs: i32, scale: f32): void {
  let s = 0;
  for (; s + 4 <= n; s += 4) dot4(at(out, s), x, y + <usize>s * ld, ld, hs, scale);
  for (; s < n; s++) store<f32>(at(out, s), dot(x, y + <usize>s * ld, hs) * scale);
}

/**
 * out[0..hs) = Σ_{i<n} c[i·cs]·x_i (rows x_i `ld` bytes apart, coefficients
 * `cs` bytes apart), out (+)= when `acc`: the sums stay in registers by
 * blocks of 16 columns.
 */
// @ts-ignore: decorator
@inline function combine(out: usize, c: usize, cs: usize, x: usize, ld: usize, n: i32, hs: i32, acc: bool): void {
  let j = 0;
  for (; j + 16 <= hs; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let xi = at(x, j), ci = c;
    for (let i = 0; i < n; i++) {
      const w = v128.load32_splat(ci);
      a0 = madd(w, v128.load(xi), a0);
      a1 = madd(w, v128.load(xi + 16), a1);
      a2 = madd(w, v128.load(xi + 32), a2);
      a3 = madd(w, v128.load(xi + 48), a3);
      xi += ld;
      ci += cs;
    }
    const o = at(out, j);
    if (acc) {
      a0 = f32x4.add(a0, v128.load(o)); a1 = f32x4.add(a1, v128.load(o + 16));
      a2 = f32x4.add(a2, v128.load(o + 32)); a3 = f32x4.add(a3, v128.load(o + 48));
    }
    v128.store(o, a0); v128.store(o + 16, a1); v128.store(o + 32, a2); v128.store(o + 48, a3);
  }
  for (; j + 4 <= hs; j += 4) {
    let a0 = f32x4.splat(0);
    let xi = at(x, j), ci = c;
    for (let i = 0; i < n; i++) {
      a0 = madd(v128.load32_splat(ci), v128.load(xi), a0);
      xi += ld;
      ci += cs;
    }
    const o = at(out, j);
    v128.store(o, acc ? f32x4.add(a0, v128.load(o)) : a0);
  }
  for (; j < hs; j++) {
    let a: f32 = 0;
    let xi = at(x, j), ci = c;
    for (let i = 0; i < n; i++) {
      a += load<f32>(ci) * load<f32>(xi);
      xi += ld;
      ci += cs;
    }
    const o = at(out, j);
    store<f32>(o, acc ? a + load<f32>(o) : a);
  }
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
      const pt = p0 + ((<usize>t * T) << 2);
      const n = t + 1;
      dots(pt, q0 + <usize>t * rowQ, k0, rowQ, n, hs, scale);
      let max: f32 = -Infinity;
      for (let s = 0; s < n; s++) max = max > load<f32>(at(pt, s)) ? max : load<f32>(at(pt, s));
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
      combine(y0 + <usize>t * rowY, pt, 4, v0, rowQ, n, hs, false);
    }
  }
}

/**
 * Backward for pairs [bh0, bh1) given dy [T·B, C]: writes the q, k, v
 * columns of dqkv [T·B, 3C] (∂/∂ the c_attn output). dS: T·T floats of
 * scratch for this call alone (∂/∂ the scores).
 */
export function attn_bwd(qkv: usize, dy: usize, P: usize, dS: usize, dqkv: usize, T: i32, B: i32, C: i32, heads: i32, bh0: i32, bh1: i32): void {
  const hs = C / heads;
  const scale: f32 = 1 / Mathf.sqrt(<f32>hs);
  const rowQ = <usize>B * 3 * <usize>C << 2;
  const rowY = <usize>B * <usize>C << 2;
  const rowP = <usize>T << 2;
  const cb = <usize>C << 2;
  for (let bh = bh0; bh < bh1; bh++) {
    const b = bh / heads, h = bh % heads;
    const off = (<usize>b * 3 * <usize>C + <usize>h * hs) << 2;
    const q0 = qkv + off, k0 = q0 + cb, v0 = k0 + cb;
    const dq0 = dqkv + off, dk0 = dq0 + cb, dv0 = dk0 + cb;
    const dy0 = dy + ((<usize>b * <usize>C + <usize>h * hs) << 2);
    const p0 = P + ((<usize>bh * T * T) << 2);
    for (let t = 0; t < T; t++) {
      const pt = p0 + <usize>t * rowP, st = dS + <usize>t * rowP;
      const n = t + 1;
      // ∂/∂P[t, s] = dy_t·v_s, then through the softmax: dS = scale·P·(dP - Σ_s P dP).
      dots(st, dy0 + <usize>t * rowY, v0, rowQ, n, hs, 1);
      let d: f32 = 0;
      for (let s = 0; s < n; s++) d += load<f32>(at(pt, s)) * load<f32>(at(st, s));
      for (let s = 0; s < n; s++) store<f32>(at(st, s), scale * load<f32>(at(pt, s)) * (load<f32>(at(st, s)) - d));
      combine(dq0 + <usize>t * rowQ, st, 4, k0, rowQ, n, hs, false);
    }
    for (let s = 0; s < T; s++) {
      const n = T - s;
      const tq = q0 + <usize>s * rowQ, ty = dy0 + <usize>s * rowY;
      // Columns s of dS and P, rows t >= s.
      combine(dk0 + <usize>s * rowQ, dS + <usize>s * rowP + (<usize>s << 2), rowP, tq, rowQ, n, hs, false);
      combine(dv0 + <usize>s * rowQ, p0 + <usize>s * rowP + (<usize>s << 2), rowP, ty, rowY, n, hs, false);
    }
  }
}
