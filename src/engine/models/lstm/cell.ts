import type { CellKernels, LayerState } from '../stacked/layerState';

/**
 * PyTorch's nn.LSTM, gates stacked i, f, g, o:
 * c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t).
 */
export const lstmTs: CellKernels = {
  forwardStep(s: LayerState, t: number): void {
    const { B, H, GH, pre, hh, h, c, aux } = s;
    for (let b = 0; b < B; b++) {
      const g0 = (t * B + b) * GH;
      const q0 = b * GH;
      const prevRow = (t * B + b) * H;
      const outRow = prevRow + B * H;
      for (let j = 0; j < H; j++) {
        const gi = 1 / (1 + Math.exp(-(pre[g0 + j]! + hh[q0 + j]!)));
        const gf = 1 / (1 + Math.exp(-(pre[g0 + H + j]! + hh[q0 + H + j]!)));
        const gg = Math.tanh(pre[g0 + 2 * H + j]! + hh[q0 + 2 * H + j]!);
        const go = 1 / (1 + Math.exp(-(pre[g0 + 3 * H + j]! + hh[q0 + 3 * H + j]!)));
        pre[g0 + j] = gi;
        pre[g0 + H + j] = gf;
        pre[g0 + 2 * H + j] = gg;
        pre[g0 + 3 * H + j] = go;
        const ct = gf * c[prevRow + j]! + gi * gg;
        const tc = Math.tanh(ct);
        c[outRow + j] = ct;
        aux[prevRow + j] = tc;
        h[outRow + j] = go * tc;
      }
    }
  },

  backwardStep(s: LayerState, t: number): void {
    const { B, H, GH, pre, c, aux, dOut, dh, dc, dPre } = s;
    for (let b = 0; b < B; b++) {
      const g0 = (t * B + b) * GH;
      const row = (t * B + b) * H;
      const q = b * H;
      for (let j = 0; j < H; j++) {
        const gi = pre[g0 + j]!, gf = pre[g0 + H + j]!, gg = pre[g0 + 2 * H + j]!, go = pre[g0 + 3 * H + j]!;
        const tc = aux[row + j]!;
        const dht = dOut[row + j]! + dh[q + j]!;
        const dct = dc[q + j]! + dht * go * (1 - tc * tc);
        dPre[g0 + j] = dct * gg * gi * (1 - gi);
        dPre[g0 + H + j] = dct * c[row + j]! * gf * (1 - gf);
        dPre[g0 + 2 * H + j] = dct * gi * (1 - gg * gg);
        dPre[g0 + 3 * H + j] = dht * tc * go * (1 - go);
        dc[q + j] = dct * gf;
      }
    }
  },
};
