import type { Activation } from './activation';
import type { WasmHost } from '../../kernels';
import type { CellKernels, LayerState } from '../stacked/layerState';

/** The RNN's exports of the wasm module (kernels.as beside this file). */
interface RnnExports {
  rnn_fwd(pre: number, hh: number, hOut: number, n: number, act: number): void;
  rnn_bwd(pre: number, dOut: number, dh: number, dPre: number, n: number, act: number): void;
}

const ACTIVATION_CODES: Record<Activation, number> = { tanh: 0, relu: 1, sigmoid: 2 };

/** The vanilla RNN's steps in wasm, on arena buffers (no whole-loop kernel: its step is too small to gain from one). */
export function rnnWasm(host: WasmHost): CellKernels {
  const fn = host.exports as unknown as RnnExports;
  return {
    forwardStep(s: LayerState, t: number): void {
      const n = s.B * s.H;
      const row = t * n;
      fn.rnn_fwd(host.ptr(s.pre, row), host.ptr(s.hh), host.ptr(s.h, row + n), n, ACTIVATION_CODES[s.activation]);
    },
    backwardStep(s: LayerState, t: number): void {
      const n = s.B * s.H;
      const row = t * n;
      fn.rnn_bwd(host.ptr(s.pre, row), host.ptr(s.dOut, row), host.ptr(s.dh), host.ptr(s.dPre, row), n, ACTIVATION_CODES[s.activation]);
    },
  };
}
