// AssemblyScript source of the vanilla RNN's wasm kernels, compiled into the one
// kernels module by src/engine/wasm/build.mjs (every models/*/kernels.as is).
// Bound to a network's arena by wasm.ts beside this file. Pointers are byte
// addresses; matrices row-major float32. Nothing here allocates.

import { ld, st, vsigmoid, vtanh } from '../../wasm/simd';

/** Vanilla RNN step over n = B·H values; act 0 tanh, 1 relu, 2 sigmoid. pre is overwritten by h. */
export function rnn_fwd(pre: usize, hh: usize, hOut: usize, n: i32, act: i32): void {
  const n4 = n & ~3;
  for (let j = 0; j < n; j += 4) {
    const tail = j >= n4;
    const steps = tail ? n - j : 1;
    for (let u = 0; u < steps; u++) {
      const jj = j + u;
      const v = f32x4.add(ld(pre, jj, tail), ld(hh, jj, tail));
      const y = act == 0 ? vtanh(v) : act == 1 ? f32x4.max(v, f32x4.splat(0)) : vsigmoid(v);
      st(pre, jj, y, tail);
      st(hOut, jj, y, tail);
    }
  }
}

export function rnn_bwd(pre: usize, dOut: usize, dh: usize, dPre: usize, n: i32, act: i32): void {
  const n4 = n & ~3;
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let j = 0; j < n; j += 4) {
    const tail = j >= n4;
    const steps = tail ? n - j : 1;
    for (let u = 0; u < steps; u++) {
      const jj = j + u;
      const y = ld(pre, jj, tail);
      const dy = f32x4.add(ld(dOut, jj, tail), ld(dh, jj, tail));
      const d = act == 0 ? f32x4.mul(dy, f32x4.sub(one, f32x4.mul(y, y)))
        : act == 1 ? v128.and(dy, f32x4.gt(y, zero))
        : f32x4.mul(f32x4.mul(dy, y), f32x4.sub(one, y));
      st(dPre, jj, d, tail);
    }
  }
}
