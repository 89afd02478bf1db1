import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';
import type { CellKernels, LayerState } from '../stacked/layerState';

/** The LSTM's exports of the wasm module (kernels.as beside this file). */
interface LstmExports {
  lstm_fwd(pre: number, hh: number, cPrev: number, cOut: number, hOut: number, aux: number, B: number, H: number): void;
  lstm_bwd(pre: number, cPrev: number, aux: number, dOut: number, dh: number, dc: number, dPre: number, B: number, H: number): void;
}

/**
 * The LSTM in wasm on arena buffers: one step, or a whole time loop
 * (lstm_seq_fwd/bwd: product and step for t = 0..T-1) split by batch rows
 * between the arena's threads.
 */
export function lstmWasm(host: WasmHost): CellKernels {
  const fn = host.exports as unknown as LstmExports;
  return {
    forwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      const next = row + B * H;
      fn.lstm_fwd(host.ptr(s.pre, t * B * GH), host.ptr(s.hh), host.ptr(s.c, row), host.ptr(s.c, next), host.ptr(s.h, next), host.ptr(s.aux, row), B, H);
    },
    backwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      fn.lstm_bwd(host.ptr(s.pre, t * B * GH), host.ptr(s.c, row), host.ptr(s.aux, row), host.ptr(s.dOut, row), host.ptr(s.dh), host.ptr(s.dc), host.ptr(s.dPre, t * B * GH), B, H);
    },
    forwardLoop(s: LayerState, T: number, w: Floats, wOff: number): boolean {
      if (!(w instanceof Float32Array)) return false;
      const { B, H, GH } = s;
      const W = host.operand(w, wOff, GH * H);
      if (W < 0) return false;
      const pre = host.ptr(s.pre), h = host.ptr(s.h), c = host.ptr(s.c), aux = host.ptr(s.aux), hh = host.ptr(s.hh);
      host.rows('lstm_seq_fwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, c, aux, hh, W, T, B, b0, b1, H]);
      host.release();
      return true;
    },
    backwardLoop(s: LayerState, T: number, whhT: Floats): boolean {
      if (!host.resident(whhT)) return false;
      const { B, H, GH } = s;
      const WT = host.ptr(whhT);
      s.dh.fill(0);
      s.dc.fill(0);
      const pre = host.ptr(s.pre), c = host.ptr(s.c), aux = host.ptr(s.aux), dOut = host.ptr(s.dOut), dh = host.ptr(s.dh), dc = host.ptr(s.dc), dPre = host.ptr(s.dPre);
      host.rows('lstm_seq_bwd', B, B * GH * H * T, T, (b0, b1) => [pre, c, aux, dOut, dh, dc, dPre, WT, T, B, b0, b1, H]);
      return true;
    },
  };
}
