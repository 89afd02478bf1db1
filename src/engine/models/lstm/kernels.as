// AssemblyScript source of the LSTM's wasm kernels, compiled into the one
// kernels module by src/engine/wasm/build.mjs (every models/*/kernels.as is).
// Bound to a network's arena by wasm.ts beside this file. Pointers are byte
// addresses; matrices row-major float32. Nothing here allocates.

import { gemm_abt_ld } from '../../wasm/gemm';
import { ld, st, vsigmoid, vtanh } from '../../wasm/simd';

/**
 * LSTM step t forward for B rows: pre [B,4H] (input projection + biases,
 * overwritten by the activated gates i f g o), hh [B,4H], c_{t-1} and h/c
 * outputs [B,H], aux [B,H] = tanh(c_t).
 */
export function lstm_fwd(pre: usize, hh: usize, cPrev: usize, cOut: usize, hOut: usize, aux: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gs = <usize>H << 2;
  for (let b = 0; b < B; b++) {
    const g = pre + <usize>b * gs * 4, q = hh + <usize>b * gs * 4, s = <usize>b * gs;
    for (let j = 0; j < H; j += 4) {
      const tail = j >= H4;
      const steps = tail ? H - j : 1;
      for (let u = 0; u < steps; u++) {
        const jj = j + u;
        const gi = vsigmoid(f32x4.add(ld(g, jj, tail), ld(q, jj, tail)));
        const gf = vsigmoid(f32x4.add(ld(g + gs, jj, tail), ld(q + gs, jj, tail)));
        const gg = vtanh(f32x4.add(ld(g + 2 * gs, jj, tail), ld(q + 2 * gs, jj, tail)));
        const go = vsigmoid(f32x4.add(ld(g + 3 * gs, jj, tail), ld(q + 3 * gs, jj, tail)));
        st(g, jj, gi, tail); st(g + gs, jj, gf, tail); st(g + 2 * gs, jj, gg, tail); st(g + 3 * gs, jj, go, tail);
        const ct = f32x4.add(f32x4.mul(gf, ld(cPrev + s, jj, tail)), f32x4.mul(gi, gg));
        const tc = vtanh(ct);
        st(cOut + s, jj, ct, tail);
        st(aux + s, jj, tc, tail);
        st(hOut + s, jj, f32x4.mul(go, tc), tail);
      }
    }
  }
}

/** LSTM step t backward: reads gates, c_{t-1}, tanh(c_t), dOut; updates dh (read only), dc; writes dPre. */
export function lstm_bwd(pre: usize, cPrev: usize, aux: usize, dOut: usize, dh: usize, dc: usize, dPre: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gs = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = pre + <usize>b * gs * 4, d = dPre + <usize>b * gs * 4, s = <usize>b * gs;
    for (let j = 0; j < H; j += 4) {
      const tail = j >= H4;
      const steps = tail ? H - j : 1;
      for (let u = 0; u < steps; u++) {
        const jj = j + u;
        const gi = ld(g, jj, tail), gf = ld(g + gs, jj, tail), gg = ld(g + 2 * gs, jj, tail), go = ld(g + 3 * gs, jj, tail);
        const tc = ld(aux + s, jj, tail);
        const dht = f32x4.add(ld(dOut + s, jj, tail), ld(dh + s, jj, tail));
        const dct = f32x4.add(ld(dc + s, jj, tail), f32x4.mul(f32x4.mul(dht, go), f32x4.sub(one, f32x4.mul(tc, tc))));
        st(d, jj, f32x4.mul(f32x4.mul(f32x4.mul(dct, gg), gi), f32x4.sub(one, gi)), tail);
        st(d + gs, jj, f32x4.mul(f32x4.mul(f32x4.mul(dct, ld(cPrev + s, jj, tail)), gf), f32x4.sub(one, gf)), tail);
        st(d + 2 * gs, jj, f32x4.mul(f32x4.mul(dct, gi), f32x4.sub(one, f32x4.mul(gg, gg))), tail);
        st(d + 3 * gs, jj, f32x4.mul(f32x4.mul(f32x4.mul(dht, tc), go), f32x4.sub(one, go)), tail);
        st(dc + s, jj, f32x4.mul(dct, gf), tail);
      }
    }
  }
}

// Whole recurrent loops over a block of batch rows [b0, b1): each batch row's
// recurrence depends on that row alone, so threads run the T steps of
// disjoint row blocks without meeting once per step. Every element is the
// same dot product and the same elementwise arithmetic as in the step-by-step
// path (gemm_abt_ld's result per element does not depend on M), so any
// split gives the bits of one thread. Strides: gates GH = gates·H per row.

/** LSTM forward for steps 0..T-1 of rows [b0, b1): hh is the [B, 4H] scratch, W = W_hh [4H, H]. */
export function lstm_seq_fwd(pre: usize, h: usize, c: usize, aux: usize, hh: usize, W: usize, T: i32, B: i32, b0: i32, b1: i32, H: i32): void {
  const m = b1 - b0;
  if (m <= 0) return;
  const GH = H * 4;
  const rh = <usize>H << 2, rg = <usize>GH << 2;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const q = hh + <usize>b0 * rg;
    gemm_abt_ld(q, h + row * rh, W, m, GH, H, GH, 0);
    lstm_fwd(pre + row * rg, q, c + row * rh, c + next * rh, h + next * rh, aux + row * rh, m, H);
  }
}

/** LSTM backward for steps T-1..0 of rows [b0, b1): WT = W_hhᵀ [H, 4H]; dh, dc [B, H] start at zero. */
export function lstm_seq_bwd(pre: usize, c: usize, aux: usize, dOut: usize, dh: usize, dc: usize, dPre: usize, WT: usize, T: i32, B: i32, b0: i32, b1: i32, H: i32): void {
  const m = b1 - b0;
  if (m <= 0) return;
  const GH = H * 4;
  const rh = <usize>H << 2, rg = <usize>GH << 2;
  const dhb = dh + <usize>b0 * rh, dcb = dc + <usize>b0 * rh;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    lstm_bwd(pre + row * rg, c + row * rh, aux + row * rh, dOut + row * rh, dhb, dcb, dPre + row * rg, m, H);
    gemm_abt_ld(dhb, dPre + row * rg, WT, m, H, GH, H, 0);
  }
}
