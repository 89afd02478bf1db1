import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';
import type { CellKernels, LayerState } from '../stacked/layerState';

/** The GRU's exports of the wasm module (gemm.as). */
interface GruExports {
  gru_fwd(pre: number, hh: number, bhn: number, hPrev: number, hOut: number, aux: number, B: number, H: number): void;
  gru_bwd(pre: number, hPrev: number, aux: number, dOut: number, dh: number, dPre: number, dPreHh: number, B: number, H: number): void;
}

/**
 * The GRU in wasm on arena buffers: one step, or a whole time loop
 * (gru_seq_fwd/bwd) split by batch rows between the arena's threads.
 */
export function gruWasm(host: WasmHost): CellKernels {
  const fn = host.exports as unknown as GruExports;
  const p = (x: Floats, off = 0): number => host.ptr(x, off);
  return {
    forwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      const next = row + B * H;
      fn.gru_fwd(p(s.pre, t * B * GH), p(s.hh), p(s.bhn), p(s.h, row), p(s.h, next), p(s.aux, row), B, H);
    },
    backwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      fn.gru_bwd(p(s.pre, t * B * GH), p(s.h, row), p(s.aux, row), p(s.dOut, row), p(s.dh), p(s.dPre, t * B * GH), p(s.dPreHh, t * B * GH), B, H);
    },
    forwardLoop(s: LayerState, T: number, w: Floats, wOff: number): boolean {
      if (!(w instanceof Float32Array)) return false;
      const { B, H, GH } = s;
      const W = host.operand(w, wOff, GH * H);
      if (W < 0) return false;
      const pre = p(s.pre), h = p(s.h), aux = p(s.aux), hh = p(s.hh), bh = p(s.bhn);
      host.rows('gru_seq_fwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, aux, hh, bh, W, T, B, b0, b1, H]);
      host.release();
      return true;
    },
    backwardLoop(s: LayerState, T: number, whhT: Floats): boolean {
      if (!host.resident(whhT)) return false;
      const { B, H, GH } = s;
      const WT = p(whhT);
      s.dh.fill(0);
      s.dc.fill(0);
      const pre = p(s.pre), h = p(s.h), aux = p(s.aux), dOut = p(s.dOut), dh = p(s.dh), dPre = p(s.dPre), dPreHh = p(s.dPreHh);
      host.rows('gru_seq_bwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, aux, dOut, dh, dPre, dPreHh, WT, T, B, b0, b1, H]);
      return true;
    },
  };
}
