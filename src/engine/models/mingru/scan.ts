import type { Floats } from '../../floats';
import { gActivation, gGrad, RecurrentMixer, sigmoid, type Scan } from '../blocks/recurrent';
import type { Mixer, MixerContext } from '../blocks/mixer';

/**
 * minGRU (Feng et al. 2024): [a_z; a_h] = to_gates(u), z = sigmoid(a_z),
 * h_t = (1 - z) ⊙ h_{t-1} + z ⊙ g(a_h). act holds [z; g(a_h)].
 */
export const minGruScan: Scan = {
  gates: 2,
  gateNames: ['z', 'g'],
  wasm: { forward: 'mingru_fwd', backward: 'mingru_bwd' },
  gateLabels: ['z (update gate)', 'g(a_h) (candidate)'],

  forward(pre: Floats, act: Floats, h: Floats, T: number, B: number, C: number): void {
    const GC = 2 * C;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const g0 = r * GC;
        const prev = r * C;
        const next = prev + B * C;
        for (let j = 0; j < C; j++) {
          const z = sigmoid(pre[g0 + j]!);
          const hh = gActivation(pre[g0 + C + j]!);
          act[g0 + j] = z;
          act[g0 + C + j] = hh;
          h[next + j] = (1 - z) * h[prev + j]! + z * hh;
        }
      }
    }
  },

  backward(dOut: Floats, pre: Floats, act: Floats, h: Floats, dh: Floats, dPre: Floats, T: number, B: number, C: number): void {
    const GC = 2 * C;
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const g0 = r * GC;
        const prev = r * C;
        const d0 = b * C;
        for (let j = 0; j < C; j++) {
          const d = dOut[prev + j]! + dh[d0 + j]!;
          const z = act[g0 + j]!;
          const hh = act[g0 + C + j]!;
          dPre[g0 + j] = d * (hh - h[prev + j]!) * z * (1 - z);
          dPre[g0 + C + j] = d * z * gGrad(pre[g0 + C + j]!, hh);
          dh[d0 + j] = d * (1 - z);
        }
      }
    }
  },
};

export function createMinGruMixer(ctx: MixerContext): Mixer {
  return new RecurrentMixer(ctx, minGruScan);
}
