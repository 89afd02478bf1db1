import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';
import type { CellKernels, LayerState } from '../stacked/layerState';

/** The GRU's exports of the wasm module (kernels.as beside this file). */
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
  return {
    forwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      const next = row + B * H;
      fn.gru_fwd(host.ptr(s.pre, t * B * GH), host.ptr(s.hh), host.ptr(s.bhn), host.ptr(s.h, row), host.ptr(s.h, next), host.ptr(s.aux, row), B, H);
    },
    backwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      fn.gru_bwd(host.ptr(s.pre, t * B * GH), host.ptr(s.h, row), host.ptr(s.aux, row), host.ptr(s.dOut, row), host.ptr(s.dh), host.ptr(s.dPre, t * B * GH), host.ptr(s.dPreHh, t * B * GH), B, H);
    },
    forwardLoop(s: LayerState, T: number, w: Floats, wOff: number): boolean {
      if (!(w instanceof Float32Array)) return false;
      const { B, H, GH } = s;
      const W = host.operand(w, wOff, GH * H);
      if (W < 0) return false;
      const pre = host.ptr(s.pre), h = host.ptr(s.h), aux = host.ptr(s.aux), hh = host.ptr(s.hh), bh = host.ptr(s.bhn);
      host.rows('gru_seq_fwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, aux, hh, bh, W, T, B, b0, b1, H]);
      host.release();
      return true;
    },
    backwardLoop(s: LayerState, T: number, whhT: Floats): boolean {
      if (!host.resident(whhT)) return false;
      const { B, H, GH } = s;
      const WT = host.ptr(whhT);
      s.dh.fill(0);
      s.dc.fill(0);
      const pre = host.ptr(s.pre), h = host.ptr(s.h), aux = host.ptr(s.aux), dOut = host.ptr(s.dOut), dh = host.ptr(s.dh), dPre = host.ptr(s.dPre), dPreHh = host.ptr(s.dPreHh);
      host.rows('gru_seq_bwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, aux, dOut, dh, dPre, dPreHh, WT, T, B, b0, b1, H]);
      return true;
    },
  };
}
