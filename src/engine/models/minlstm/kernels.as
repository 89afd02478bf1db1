// AssemblyScript source of minLSTM's scan in wasm, compiled into the one
// kernels module by src/engine/wasm/build.mjs (scan.ts holds the TypeScript
// reference and names these exports). Rows r = t·B + b; each call covers
// batch rows [b0, b1), which never depend on each other, so threads split a
// window by them. Pointers are byte addresses. Nothing here allocates.

import { vsigmoid } from '../../wasm/simd';

// @ts-ignore: decorator
@inline function at(p: usize, j: i32): usize {
  return p + (<usize>j << 2);
}

/** pre [T·B, 3C] += bias, act = [f; i; g(a_h)], h_t = (f·h_{t-1} + i·g(a_h))/(f + i). C a multiple of 4. */
export function minlstm_fwd(pre: usize, bias: usize, act: usize, h: usize, T: i32, B: i32, C: i32, b0: i32, b1: i32): void {
  const half = f32x4.splat(0.5), zero = f32x4.splat(0);
  for (let t = 0; t < T; t++) {
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = (<usize>r * 3 * C) << 2;
      const prev = (<usize>r * C) << 2, next = prev + ((<usize>B * C) << 2);
      for (let j = 0; j < C; j += 4) {
        const af = f32x4.add(v128.load(at(pre + g, j)), v128.load(at(bias, j)));
        const ai = f32x4.add(v128.load(at(pre + g, C + j)), v128.load(at(bias, C + j)));
        const ah = f32x4.add(v128.load(at(pre + g, 2 * C + j)), v128.load(at(bias, 2 * C + j)));
        v128.store(at(pre + g, j), af);
        v128.store(at(pre + g, C + j), ai);
        v128.store(at(pre + g, 2 * C + j), ah);
        const f = vsigmoid(af), i = vsigmoid(ai);
        const hh = v128.bitselect(f32x4.add(ah, half), vsigmoid(ah), f32x4.ge(ah, zero));
        v128.store(at(act + g, j), f);
        v128.store(at(act + g, C + j), i);
        v128.store(at(act + g, 2 * C + j), hh);
        const hp = v128.load(at(h + prev, j));
        v128.store(at(h + next, j), f32x4.div(f32x4.add(f32x4.mul(f, hp), f32x4.mul(i, hh)), f32x4.add(f, i)));
      }
    }
  }
}

/** Backward through time for rows [b0, b1): dPre [T·B, 3C] from dOut [T·B, C]; dh [B, C] scratch (zeroed here). */
export function minlstm_bwd(dOut: usize, pre: usize, act: usize, h: usize, dh: usize, dPre: usize, T: i32, B: i32, C: i32, b0: i32, b1: i32): void {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  memory.fill(dh + ((<usize>b0 * C) << 2), 0, (<usize>(b1 - b0) * C) << 2);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = (<usize>r * 3 * C) << 2;
      const prev = (<usize>r * C) << 2;
      const d0 = dh + ((<usize>b * C) << 2);
      for (let j = 0; j < C; j += 4) {
        const d = f32x4.add(v128.load(at(dOut + prev, j)), v128.load(at(d0, j)));
        const f = v128.load(at(act + g, j));
        const i = v128.load(at(act + g, C + j));
        const hh = v128.load(at(act + g, 2 * C + j));
        const a = v128.load(at(pre + g, 2 * C + j));
        const hp = v128.load(at(h + prev, j));
        const inv = f32x4.div(one, f32x4.add(f, i));
        const k = f32x4.mul(f32x4.mul(f32x4.mul(d, f32x4.sub(hp, hh)), inv), inv);
        const gg = v128.bitselect(one, f32x4.mul(hh, f32x4.sub(one, hh)), f32x4.ge(a, zero));
        const fi = f32x4.mul(f, i);
        v128.store(at(dPre + g, j), f32x4.mul(f32x4.mul(k, fi), f32x4.sub(one, f)));
        v128.store(at(dPre + g, C + j), f32x4.neg(f32x4.mul(f32x4.mul(k, fi), f32x4.sub(one, i))));
        v128.store(at(dPre + g, 2 * C + j), f32x4.mul(f32x4.mul(f32x4.mul(d, i), inv), gg));
        v128.store(at(d0, j), f32x4.mul(f32x4.mul(d, f), inv));
      }
    }
  }
}
