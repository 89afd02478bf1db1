// AssemblyScript source of the GRU's wasm kernels, compiled into the one
// kernels module by src/engine/wasm/build.mjs (every models/*/kernels.as is).
// Bound to a network's arena by wasm.ts beside this file. Pointers are byte
// addresses; matrices row-major float32. Nothing here allocates.

import { gemm_abt_ld } from '../../wasm/gemm';
import { ld, st, vsigmoid, vtanh } from '../../wasm/simd';

/** GRU step forward (gates r z n; bhn = b_hn [H]): aux = W_hn h + b_hn. */
export function gru_fwd(pre: usize, hh: usize, bhn: usize, hPrev: usize, hOut: usize, aux: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gs = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = pre + <usize>b * gs * 3, q = hh + <usize>b * gs * 3, s = <usize>b * gs;
    for (let j = 0; j < H; j += 4) {
      const tail = j >= H4;
      const steps = tail ? H - j : 1;
      for (let u = 0; u < steps; u++) {
        const jj = j + u;
        const r = vsigmoid(f32x4.add(ld(g, jj, tail), ld(q, jj, tail)));
        const z = vsigmoid(f32x4.add(ld(g + gs, jj, tail), ld(q + gs, jj, tail)));
        const hn = f32x4.add(ld(q + 2 * gs, jj, tail), ld(bhn, jj, tail));
        const n = vtanh(f32x4.add(ld(g + 2 * gs, jj, tail), f32x4.mul(r, hn)));
        st(g, jj, r, tail); st(g + gs, jj, z, tail); st(g + 2 * gs, jj, n, tail);
        st(aux + s, jj, hn, tail);
        st(hOut + s, jj, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, ld(hPrev + s, jj, tail))), tail);
      }
    }
  }
}

/** GRU step backward; dh is overwritten with the direct path dht ⊙ z. */
export function gru_bwd(pre: usize, hPrev: usize, aux: usize, dOut: usize, dh: usize, dPre: usize, dPreHh: usize, B: i32, H: i32): void {
  const H4 = H & ~3;
  const gs = <usize>H << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = pre + <usize>b * gs * 3, d = dPre + <usize>b * gs * 3, e = dPreHh + <usize>b * gs * 3, s = <usize>b * gs;
    for (let j = 0; j < H; j += 4) {
      const tail = j >= H4;
      const steps = tail ? H - j : 1;
      for (let u = 0; u < steps; u++) {
        const jj = j + u;
        const r = ld(g, jj, tail), z = ld(g + gs, jj, tail), n = ld(g + 2 * gs, jj, tail);
        const dht = f32x4.add(ld(dOut + s, jj, tail), ld(dh + s, jj, tail));
        const dnPre = f32x4.mul(f32x4.mul(dht, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
        const drPre = f32x4.mul(f32x4.mul(f32x4.mul(dnPre, ld(aux + s, jj, tail)), r), f32x4.sub(one, r));
        const dzPre = f32x4.mul(f32x4.mul(f32x4.mul(dht, f32x4.sub(ld(hPrev + s, jj, tail), n)), z), f32x4.sub(one, z));
        st(d, jj, drPre, tail); st(e, jj, drPre, tail);
        st(d + gs, jj, dzPre, tail); st(e + gs, jj, dzPre, tail);
        st(d + 2 * gs, jj, dnPre, tail);
        st(e + 2 * gs, jj, f32x4.mul(dnPre, r), tail);
        st(dh + s, jj, f32x4.mul(dht, z), tail);
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

/** GRU forward for steps 0..T-1 of rows [b0, b1): hh [B, 3H] scratch, bhn = b_hn [H], W = W_hh [3H, H]. */
export function gru_seq_fwd(pre: usize, h: usize, aux: usize, hh: usize, bhn: usize, W: usize, T: i32, B: i32, b0: i32, b1: i32, H: i32): void {
  const m = b1 - b0;
  if (m <= 0) return;
  const GH = H * 3;
  const rh = <usize>H << 2, rg = <usize>GH << 2;
  for (let t = 0; t < T; t++) {
    const row = <usize>(t * B + b0), next = <usize>((t + 1) * B + b0);
    const q = hh + <usize>b0 * rg;
    gemm_abt_ld(q, h + row * rh, W, m, GH, H, GH, 0);
    gru_fwd(pre + row * rg, q, bhn, h + row * rh, h + next * rh, aux + row * rh, m, H);
  }
}

/** GRU backward for steps T-1..0 of rows [b0, b1): WT = W_hhᵀ [H, 3H]; dh [B, H] starts at zero. */
export function gru_seq_bwd(pre: usize, h: usize, aux: usize, dOut: usize, dh: usize, dPre: usize, dPreHh: usize, WT: usize, T: i32, B: i32, b0: i32, b1: i32, H: i32): void {
  const m = b1 - b0;
  if (m <= 0) return;
  const GH = H * 3;
  const rh = <usize>H << 2, rg = <usize>GH << 2;
  const dhb = dh + <usize>b0 * rh;
  for (let t = T - 1; t >= 0; t--) {
    const row = <usize>(t * B + b0);
    gru_bwd(pre + row * rg, h + row * rh, aux + row * rh, dOut + row * rh, dhb, dPre + row * rg, dPreHh + row * rg, m, H);
    gemm_abt_ld(dhb, dPreHh + row * rg, WT, m, H, GH, H, 1);
  }
}
