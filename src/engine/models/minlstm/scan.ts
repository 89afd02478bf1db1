import type { Floats } from '../../floats';
import { gActivation, gGrad, RecurrentMixer, sigmoid, type Scan } from '../blocks/recurrent';
import type { Mixer, MixerContext } from '../blocks/mixer';

/**
 * minLSTM (Feng et al. 2024): [a_f; a_i; a_h] = to_gates(u), f = sigmoid(a_f),
 * i = sigmoid(a_i), h_t = (f ⊙ h_{t-1} + i ⊙ g(a_h)) / (f + i). act holds
 * [f; i; g(a_h)].
 */
export const minLstmScan: Scan = {
  gates: 3,
  gateNames: ['f', 'i', 'g'],
  wasm: { forward: 'minlstm_fwd', backward: 'minlstm_bwd' },
  gateLabels: ['f (forget gate)', 'i (input gate)', 'g(a_h) (candidate)'],

  forward(pre: Floats, act: Floats, h: Floats, T: number, B: number, C: number): void {
    const GC = 3 * C;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const g0 = r * GC;
        const prev = r * C;
        const next = prev + B * C;
        for (let j = 0; j < C; j++) {
          const f = sigmoid(pre[g0 + j]!);
          const i = sigmoid(pre[g0 + C + j]!);
          const hh = gActivation(pre[g0 + 2 * C + j]!);
          act[g0 + j] = f;
          act[g0 + C + j] = i;
          act[g0 + 2 * C + j] = hh;
          h[next + j] = (f * h[prev + j]! + i * hh) / (f + i);
        }
      }
    }
  },

  backward(dOut: Floats, pre: Floats, act: Floats, h: Floats, dh: Floats, dPre: Floats, T: number, B: number, C: number): void {
    const GC = 3 * C;
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const g0 = r * GC;
        const prev = r * C;
        const d0 = b * C;
        for (let j = 0; j < C; j++) {
          const d = dOut[prev + j]! + dh[d0 + j]!;
          const f = act[g0 + j]!;
          const i = act[g0 + C + j]!;
          const hh = act[g0 + 2 * C + j]!;
          const hp = h[prev + j]!;
          const inv = 1 / (f + i);
          // With f' = f/(f+i), i' = i/(f+i): ∂f'/∂f = i/s², ∂i'/∂i = f/s², ∂f'/∂i = -f/s², ∂i'/∂f = -i/s².
          const k = d * (hp - hh) * inv * inv;
          dPre[g0 + j] = k * i * f * (1 - f);
          dPre[g0 + C + j] = -k * f * i * (1 - i);
          dPre[g0 + 2 * C + j] = d * i * inv * gGrad(pre[g0 + 2 * C + j]!, hh);
          dh[d0 + j] = d * f * inv;
        }
      }
    }
  },
};

export function createMinLstmMixer(ctx: MixerContext): Mixer {
  return new RecurrentMixer(ctx, minLstmScan);
}
