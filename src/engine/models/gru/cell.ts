import type { CellKernels, LayerState } from '../stacked/layerState';

/**
 * PyTorch's nn.GRU, gates stacked r, z, n, the reset gate applied after the
 * recurrent product: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
 * h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
 */
export const gruTs: CellKernels = {
  forwardStep(s: LayerState, t: number): void {
    const { B, H, GH, pre, hh, h, aux, bhn } = s;
    for (let b = 0; b < B; b++) {
      const g0 = (t * B + b) * GH;
      const q0 = b * GH;
      const prevRow = (t * B + b) * H;
      const outRow = prevRow + B * H;
      for (let j = 0; j < H; j++) {
        // pre holds W_i· x + b_i· for all gates, plus b_h· for r and z.
        const r = 1 / (1 + Math.exp(-(pre[g0 + j]! + hh[q0 + j]!)));
        const z = 1 / (1 + Math.exp(-(pre[g0 + H + j]! + hh[q0 + H + j]!)));
        const hn = hh[q0 + 2 * H + j]! + bhn[j]!;
        const n = Math.tanh(pre[g0 + 2 * H + j]! + r * hn);
        pre[g0 + j] = r;
        pre[g0 + H + j] = z;
        pre[g0 + 2 * H + j] = n;
        aux[prevRow + j] = hn;
        h[outRow + j] = (1 - z) * n + z * h[prevRow + j]!;
      }
    }
  },

  backwardStep(s: LayerState, t: number): void {
    const { B, H, GH, pre, h, aux, dOut, dh, dPre, dPreHh } = s;
    for (let b = 0; b < B; b++) {
      const g0 = (t * B + b) * GH;
      const row = (t * B + b) * H;
      const q = b * H;
      for (let j = 0; j < H; j++) {
        const r = pre[g0 + j]!, z = pre[g0 + H + j]!, n = pre[g0 + 2 * H + j]!;
        const dht = dOut[row + j]! + dh[q + j]!;
        const dnPre = dht * (1 - z) * (1 - n * n);
        const drPre = dnPre * aux[row + j]! * r * (1 - r);
        const dzPre = dht * (h[row + j]! - n) * z * (1 - z);
        dPre[g0 + j] = dPreHh[g0 + j] = drPre;
        dPre[g0 + H + j] = dPreHh[g0 + H + j] = dzPre;
        dPre[g0 + 2 * H + j] = dnPre;
        dPreHh[g0 + 2 * H + j] = dnPre * r;
        // The direct path z ⊙ h_{t-1}; the network adds the W_hh part on top.
        dh[q + j] = dht * z;
      }
    }
  },
};
