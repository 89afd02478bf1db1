import type { ModelConfig } from '../../config';
import type { StepCache, StepGrads, StepThroughCell } from '../stepThrough';

interface LstmStep {
  readonly i: Float64Array;
  readonly f: Float64Array;
  readonly g: Float64Array;
  readonly o: Float64Array;
  readonly cPrev: Float64Array;
  /** tanh(c_t). */
  readonly tc: Float64Array;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * PyTorch's LSTM (gates i, f, g, o): c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t).
 * Its δ recursion runs through h and c: ∂E/∂h_t = Vᵀδo_t + W_hhᵀδ_{t+1},
 * δc_t = ∂E/∂h_t ⊙ o_t ⊙ (1 - tanh² c_t) + f_{t+1} ⊙ δc_{t+1}.
 */
export function lstmStepThrough(c: ModelConfig): StepThroughCell {
  const H = c.hidden;
  return {
    state: ['h', 'c'],
    recursionTex: String.raw`\frac{\partial E}{\partial h_t} = V^\top \delta o_t + W_{hh}^\top \delta_{t+1}, \quad \delta c_t = \frac{\partial E}{\partial h_t} \odot o_t \odot \left(1 - \tanh^2 c_t\right) + f_{t+1} \odot \delta c_{t+1}`,
    recurrentTex: String.raw`W_{hh}^\top \delta_{t+1}`,
    directTex: [null, String.raw`f_{t+1} \odot \delta c_{t+1}`],
    chainStateTex: '(h,c)',
    forward(xPre, hhPre, prev, next): StepCache {
      const s: LstmStep = {
        i: new Float64Array(H), f: new Float64Array(H), g: new Float64Array(H), o: new Float64Array(H),
        cPrev: Float64Array.from(prev[1]!), tc: new Float64Array(H),
      };
      for (let j = 0; j < H; j++) {
        s.i[j] = sigmoid(xPre[j]! + hhPre[j]!);
        s.f[j] = sigmoid(xPre[H + j]! + hhPre[H + j]!);
        s.g[j] = Math.tanh(xPre[2 * H + j]! + hhPre[2 * H + j]!);
        s.o[j] = sigmoid(xPre[3 * H + j]! + hhPre[3 * H + j]!);
        const ct = s.f[j]! * s.cPrev[j]! + s.i[j]! * s.g[j]!;
        s.tc[j] = Math.tanh(ct);
        next[1]![j] = ct;
        next[0]![j] = s.o[j]! * s.tc[j]!;
      }
      return s;
    },
    backward(cache, dNext): StepGrads {
      const s = cache as LstmStep;
      const d = new Float64Array(4 * H);
      const dcPrev = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dh = dNext[0]![j]!;
        const dc = dNext[1]![j]! + dh * s.o[j]! * (1 - s.tc[j]! * s.tc[j]!);
        d[j] = dc * s.g[j]! * s.i[j]! * (1 - s.i[j]!);
        d[H + j] = dc * s.cPrev[j]! * s.f[j]! * (1 - s.f[j]!);
        d[2 * H + j] = dc * s.i[j]! * (1 - s.g[j]! * s.g[j]!);
        d[3 * H + j] = dh * s.tc[j]! * s.o[j]! * (1 - s.o[j]!);
        dcPrev[j] = dc * s.f[j]!;
      }
      return { dXPre: d, dHhPre: d, dPrev: [new Float64Array(H), dcPrev] };
    },
    tangent(cache, dHhPre, dPrev): Float64Array[] {
      const s = cache as LstmStep;
      const dh = new Float64Array(H);
      const dc = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const di = s.i[j]! * (1 - s.i[j]!) * dHhPre[j]!;
        const df = s.f[j]! * (1 - s.f[j]!) * dHhPre[H + j]!;
        const dg = (1 - s.g[j]! * s.g[j]!) * dHhPre[2 * H + j]!;
        const dO = s.o[j]! * (1 - s.o[j]!) * dHhPre[3 * H + j]!;
        dc[j] = df * s.cPrev[j]! + s.f[j]! * dPrev[1]![j]! + di * s.g[j]! + s.i[j]! * dg;
        dh[j] = dO * s.tc[j]! + s.o[j]! * (1 - s.tc[j]! * s.tc[j]!) * dc[j]!;
      }
      return [dh, dc];
    },
    terms(cache, dNext, grads) {
      const s = cache as LstmStep;
      const dc = new Float64Array(H);
      for (let j = 0; j < H; j++) dc[j] = dNext[1]![j]! + dNext[0]![j]! * s.o[j]! * (1 - s.tc[j]! * s.tc[j]!);
      const gate = (k: number): Float64Array => grads.dXPre.slice(k * H, (k + 1) * H);
      return [
        { key: 'dh', tex: String.raw`\frac{\partial E}{\partial h_t}`, values: Float64Array.from(dNext[0]!) },
        { key: 'dc', tex: String.raw`\delta c_t`, values: dc },
        { key: 'f', tex: String.raw`f_t`, values: s.f },
        { key: 'di', tex: String.raw`\delta i_t`, values: gate(0) },
        { key: 'df', tex: String.raw`\delta f_t`, values: gate(1) },
        { key: 'dg', tex: String.raw`\delta g_t`, values: gate(2) },
        { key: 'do', tex: String.raw`\delta o_t^{\,\mathrm{gate}}`, values: gate(3) },
      ];
    },
  };
}
