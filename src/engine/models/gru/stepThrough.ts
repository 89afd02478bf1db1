import type { ModelConfig } from '../../config';
import type { StepCache, StepGrads, StepThroughCell } from '../stepThrough';

interface GruStep {
  readonly r: Float64Array;
  readonly z: Float64Array;
  readonly n: Float64Array;
  /** W_hn h_{t-1} + b_hn. */
  readonly hn: Float64Array;
  readonly hPrev: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * PyTorch's GRU (gates r, z, n; the reset gate after the recurrent product):
 * h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}. Its δ recursion has a direct path:
 * ∂E/∂h_t = Vᵀδo_t + W_hhᵀδ_{t+1} + z_{t+1} ⊙ ∂E/∂h_{t+1}.
 */
export function gruStepThrough(c: ModelConfig): StepThroughCell {
  const H = c.hidden;
  return {
    state: ['h'],
    recursionTex: String.raw`\frac{\partial E}{\partial h_t} = V^\top \delta o_t + W_{hh}^\top \delta_{t+1} + z_{t+1} \odot \frac{\partial E}{\partial h_{t+1}}`,
    recurrentTex: String.raw`W_{hh}^\top \delta_{t+1}`,
    directTex: [String.raw`z_{t+1} \odot \frac{\partial E}{\partial h_{t+1}}`],
    chainStateTex: 'h',
    forward(xPre, hhPre, prev, next): StepCache {
      const s: GruStep = { r: new Float64Array(H), z: new Float64Array(H), n: new Float64Array(H), hn: new Float64Array(H), hPrev: Float64Array.from(prev[0]!) };
      for (let j = 0; j < H; j++) {
        s.r[j] = sigmoid(xPre[j]! + hhPre[j]!);
        s.z[j] = sigmoid(xPre[H + j]! + hhPre[H + j]!);
        s.hn[j] = hhPre[2 * H + j]!;
        s.n[j] = Math.tanh(xPre[2 * H + j]! + s.r[j]! * s.hn[j]!);
        next[0]![j] = (1 - s.z[j]!) * s.n[j]! + s.z[j]! * s.hPrev[j]!;
      }
      return s;
    },
    backward(cache, dNext): StepGrads {
      const s = cache as GruStep;
      const dX = new Float64Array(3 * H);
      const dHh = new Float64Array(3 * H);
      const direct = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dh = dNext[0]![j]!;
        const dn = dh * (1 - s.z[j]!) * (1 - s.n[j]! * s.n[j]!);
        const dr = dn * s.hn[j]! * s.r[j]! * (1 - s.r[j]!);
        const dz = dh * (s.hPrev[j]! - s.n[j]!) * s.z[j]! * (1 - s.z[j]!);
        dX[j] = dHh[j] = dr;
        dX[H + j] = dHh[H + j] = dz;
        dX[2 * H + j] = dn;
        dHh[2 * H + j] = dn * s.r[j]!;
        direct[j] = dh * s.z[j]!;
      }
      return { dXPre: dX, dHhPre: dHh, dPrev: [direct] };
    },
    tangent(cache, dHhPre, dPrev): Float64Array[] {
      const s = cache as GruStep;
      const dh = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dr = s.r[j]! * (1 - s.r[j]!) * dHhPre[j]!;
        const dz = s.z[j]! * (1 - s.z[j]!) * dHhPre[H + j]!;
        const dn = (1 - s.n[j]! * s.n[j]!) * (dr * s.hn[j]! + s.r[j]! * dHhPre[2 * H + j]!);
        dh[j] = -dz * s.n[j]! + (1 - s.z[j]!) * dn + dz * s.hPrev[j]! + s.z[j]! * dPrev[0]![j]!;
      }
      return [dh];
    },
    terms(cache, dNext, grads) {
      const s = cache as GruStep;
      const gate = (k: number): Float64Array => grads.dXPre.slice(k * H, (k + 1) * H);
      return [
        { key: 'dh', tex: String.raw`\frac{\partial E}{\partial h_t}`, values: Float64Array.from(dNext[0]!) },
        { key: 'z', tex: String.raw`z_t`, values: s.z },
        { key: 'dr', tex: String.raw`\delta r_t`, values: gate(0) },
        { key: 'dz', tex: String.raw`\delta z_t`, values: gate(1) },
        { key: 'dn', tex: String.raw`\delta n_t`, values: gate(2) },
      ];
    },
  };
}
