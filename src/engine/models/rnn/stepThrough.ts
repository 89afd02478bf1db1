import type { ModelConfig } from '../../config';
import type { StepCache, StepGrads, StepThroughCell } from '../stepThrough';
import type { Activation } from './activation';

interface RnnStep {
  /** f′(s_t). */
  readonly fprime: Float64Array;
}

function activate(f: Activation, s: number): number {
  return f === 'tanh' ? Math.tanh(s) : f === 'relu' ? (s > 0 ? s : 0) : 1 / (1 + Math.exp(-s));
}

/** f′ from the output y = f(s), as the training kernels compute it. */
function slope(f: Activation, y: number): number {
  return f === 'tanh' ? 1 - y * y : f === 'relu' ? (y > 0 ? 1 : 0) : y * (1 - y);
}

/** The design document's vanilla RNN: s_t = U x_t + W h_{t-1} + b, h_t = f(s_t), δh_t = (Vᵀδo_t + Wᵀδh_{t+1}) ⊙ f′(s_t). */
export function rnnStepThrough(c: ModelConfig): StepThroughCell {
  const f: Activation = c.activation;
  const H = c.hidden;
  return {
    state: ['h'],
    recursionTex: String.raw`\delta h_t = \left(V^\top \delta o_t + W^\top \delta h_{t+1}\right) \odot f'(s_t)`,
    recurrentTex: String.raw`W^\top \delta h_{t+1}`,
    directTex: [null],
    chainStateTex: 'h',
    forward(xPre, hhPre, _prev, next): StepCache {
      const fprime = new Float64Array(H);
      const h = next[0]!;
      for (let i = 0; i < H; i++) {
        h[i] = activate(f, xPre[i]! + hhPre[i]!);
        fprime[i] = slope(f, h[i]!);
      }
      return { fprime } satisfies RnnStep;
    },
    backward(cache, dNext): StepGrads {
      const { fprime } = cache as RnnStep;
      const d = new Float64Array(H);
      for (let i = 0; i < H; i++) d[i] = dNext[0]![i]! * fprime[i]!;
      return { dXPre: d, dHhPre: d, dPrev: [new Float64Array(H)] };
    },
    tangent(cache, dHhPre): Float64Array[] {
      const { fprime } = cache as RnnStep;
      const dh = new Float64Array(H);
      for (let i = 0; i < H; i++) dh[i] = fprime[i]! * dHhPre[i]!;
      return [dh];
    },
    terms(cache, _dNext, grads) {
      return [
        { key: 'fprime', tex: String.raw`f'(s_t)`, values: (cache as RnnStep).fprime },
        { key: 'delta', tex: String.raw`\delta h_t`, values: grads.dHhPre },
      ];
    },
  };
}
