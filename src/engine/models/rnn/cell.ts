import type { CellKernels, LayerState } from '../stacked/layerState';

/** h_t = f(U x_t + W h_{t-1} + b): the design document's vanilla RNN, in TypeScript. */
export const rnnTs: CellKernels = {
  forwardStep(s: LayerState, t: number): void {
    const n = s.B * s.H;
    const row = t * n;
    const out = row + n;
    const { pre, hh, h } = s;
    switch (s.activation) {
      case 'tanh':
        for (let k = 0; k < n; k++) h[out + k] = pre[row + k] = Math.tanh(pre[row + k]! + hh[k]!);
        break;
      case 'relu':
        for (let k = 0; k < n; k++) {
          const v = pre[row + k]! + hh[k]!;
          h[out + k] = pre[row + k] = v > 0 ? v : 0;
        }
        break;
      case 'sigmoid':
        for (let k = 0; k < n; k++) h[out + k] = pre[row + k] = 1 / (1 + Math.exp(-(pre[row + k]! + hh[k]!)));
        break;
    }
  },

  backwardStep(s: LayerState, t: number): void {
    const n = s.B * s.H;
    const row = t * n;
    const { pre, dOut, dh, dPre } = s;
    // f' from the stored output: tanh' = 1 - h², σ' = h(1 - h), relu' = [h > 0].
    switch (s.activation) {
      case 'tanh':
        for (let k = 0; k < n; k++) {
          const y = pre[row + k]!;
          dPre[row + k] = (dOut[row + k]! + dh[k]!) * (1 - y * y);
        }
        break;
      case 'relu':
        for (let k = 0; k < n; k++) dPre[row + k] = pre[row + k]! > 0 ? dOut[row + k]! + dh[k]! : 0;
        break;
      case 'sigmoid':
        for (let k = 0; k < n; k++) {
          const y = pre[row + k]!;
          dPre[row + k] = (dOut[row + k]! + dh[k]!) * y * (1 - y);
        }
        break;
    }
  },
};
