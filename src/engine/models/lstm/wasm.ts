import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';
import type { CellKernels, LayerState } from '../stacked/layerState';

/** The LSTM's exports of the wasm module (gemm.as). */
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
  const p = (x: Floats, off = 0): number => host.ptr(x, off);
  return {
    forwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      const next = row + B * H;
      fn.lstm_fwd(p(s.pre, t * B * GH), p(s.hh), p(s.c, row), p(s.c, next), p(s.h, next), p(s.aux, row), B, H);
    },
    backwardStep(s: LayerState, t: number): void {
      const { B, H, GH } = s;
      const row = t * B * H;
      fn.lstm_bwd(p(s.pre, t * B * GH), p(s.c, row), p(s.aux, row), p(s.dOut, row), p(s.dh), p(s.dc), p(s.dPre, t * B * GH), B, H);
    },
    forwardLoop(s: LayerState, T: number, w: Floats, wOff: number): boolean {
      if (!(w instanceof Float32Array)) return false;
      const { B, H, GH } = s;
      const W = host.operand(w, wOff, GH * H);
      if (W < 0) return false;
      const pre = p(s.pre), h = p(s.h), c = p(s.c), aux = p(s.aux), hh = p(s.hh);
      host.rows('lstm_seq_fwd', B, B * GH * H * T, T, (b0, b1) => [pre, h, c, aux, hh, W, T, B, b0, b1, H]);
      host.release();
      return true;
    },
    backwardLoop(s: LayerState, T: number, whhT: Floats): boolean {
      if (!host.resident(whhT)) return false;
      const { B, H, GH } = s;
      const WT = p(whhT);
      s.dh.fill(0);
      s.dc.fill(0);
      const pre = p(s.pre), c = p(s.c), aux = p(s.aux), dOut = p(s.dOut), dh = p(s.dh), dc = p(s.dc), dPre = p(s.dPre);
      host.rows('lstm_seq_bwd', B, B * GH * H * T, T, (b0, b1) => [pre, c, aux, dOut, dh, dc, dPre, WT, T, B, b0, b1, H]);
      return true;
    },
  };
}
