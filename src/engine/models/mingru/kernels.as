// AssemblyScript source of minGRU's scan in wasm, compiled into the one
// kernels module by src/engine/wasm/build.mjs (scan.ts holds the TypeScript
// reference and names these exports). Rows r = t·B + b; each call covers
// batch rows [b0, b1), which never depend on each other, so threads split a
// window by them. Pointers are byte addresses. Nothing here allocates.

import { vsigmoid } from '../../wasm/simd';

// @ts-ignore: decorator
@inline function at(p: usize, j: i32): usize {
  return p + (<usize>j << 2);
}

// @ts-ignore: decorator
@inline function vg(a: v128): v128 {
  return v128.bitselect(f32x4.add(a, f32x4.splat(0.5)), vsigmoid(a), f32x4.ge(a, f32x4.splat(0)));
}

/** pre [T·B, 2C] += bias, act = [z; g(a_h)], h[(t+1)·B + b] = (1 - z)·h[t·B + b] + z·g(a_h). C a multiple of 4. */
export function mingru_fwd(pre: usize, bias: usize, act: usize, h: usize, T: i32, B: i32, C: i32, b0: i32, b1: i32): void {
  const one = f32x4.splat(1);
  for (let t = 0; t < T; t++) {
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = <usize>r * 2 * C;
      const prev = <usize>r * C, next = prev + <usize>B * C;
      for (let j = 0; j < C; j += 4) {
        const az = f32x4.add(v128.load(at(pre + (g << 2), j)), v128.load(at(bias, j)));
        const ah = f32x4.add(v128.load(at(pre + (g << 2), C + j)), v128.load(at(bias, C + j)));
        v128.store(at(pre + (g << 2), j), az);
        v128.store(at(pre + (g << 2), C + j), ah);
        const z = vsigmoid(az);
        const hh = vg(ah);
        v128.store(at(act + (g << 2), j), z);
        v128.store(at(act + (g << 2), C + j), hh);
        const hp = v128.load(at(h + (prev << 2), j));
        v128.store(at(h + (next << 2), j), f32x4.add(f32x4.mul(f32x4.sub(one, z), hp), f32x4.mul(z, hh)));
      }
    }
  }
}

/** Backward through time for rows [b0, b1): dPre [T·B, 2C] from dOut [T·B, C]; dh [B, C] scratch (zeroed here). */
export function mingru_bwd(dOut: usize, pre: usize, act: usize, h: usize, dh: usize, dPre: usize, T: i32, B: i32, C: i32, b0: i32, b1: i32): void {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  memory.fill(dh + ((<usize>b0 * C) << 2), 0, (<usize>(b1 - b0) * C) << 2);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = b0; b < b1; b++) {
      const r = t * B + b;
      const g = (<usize>r * 2 * C) << 2;
      const prev = (<usize>r * C) << 2;
      const d0 = dh + ((<usize>b * C) << 2);
      for (let j = 0; j < C; j += 4) {
        const d = f32x4.add(v128.load(at(dOut + prev, j)), v128.load(at(d0, j)));
        const z = v128.load(at(act + g, j));
        const hh = v128.load(at(act + g, C + j));
        const a = v128.load(at(pre + g, C + j));
        const gg = v128.bitselect(one, f32x4.mul(hh, f32x4.sub(one, hh)), f32x4.ge(a, zero));
        const z1 = f32x4.sub(one, z);
        v128.store(at(dPre + g, j), f32x4.mul(f32x4.mul(f32x4.mul(d, f32x4.sub(hh, v128.load(at(h + prev, j)))), z), z1));
        v128.store(at(dPre + g, C + j), f32x4.mul(f32x4.mul(d, z), gg));
        v128.store(at(d0, j), f32x4.mul(d, z1));
      }
    }
  }
}
