/**
 * The block families with their networks: a BlockNetwork for training and
 * evaluation windows; token by token, the recurrent mixers step a one-token
 * network carrying h, and gpt a KV cache; gpt scores long texts in windows of
 * its context.
 */
import type { Floats } from '../../floats';
import type { Kernels } from '../../kernels';
import type { Params } from '../../params';
import type { EvalWindow, Family, FamilyInfo, TokenStepper } from '../family';
import { gptEvalWindows } from '../gpt/evalWindows';
import { GptKvCache } from '../gpt/kvCache';
import { gptShape } from './config';
import { BlockNetwork } from './network';

/** A gpt run token by token over a KV cache; its saved state is the cache itself (restored by copies). */
class GptStepper implements TokenStepper {
  private readonly cache: GptKvCache;

  constructor(params: Params, kernels: Kernels) {
    this.cache = new GptKvCache(params, kernels);
  }

  get probs(): Floats {
    return this.cache.probs;
  }

  reset(): void {
    this.cache.reset();
  }

  feed(token: number): void {
    this.cache.step(token);
  }

  saveState(): Float32Array {
    // A float32 snapshot holds a float32 cache exactly; a float64 one (gradient checks) keeps only its tokens, re-run on load.
    if (this.cache.params.dtype === 'f32') return this.cache.snapshot();
    const tokens = this.cache.tokens;
    const out = new Float32Array(1 + tokens.length + this.cache.probs.length);
    out[0] = tokens.length;
    out.set(tokens, 1);
    out.set(this.cache.probs, 1 + tokens.length);
    return out;
  }

  loadState(state: Float32Array): void {
    if (this.cache.restore(state)) return;
    // A snapshot of another shape still starts with its tokens: re-run what fits.
    const n = Math.max(0, Math.min(Math.floor(state[0] ?? 0), state.length - 1));
    const tokens = Int32Array.from(state.subarray(1, 1 + n));
    this.cache.reset();
    if (n > 0 && tokens.every((t, i) => t === state[1 + i] && t >= 0 && t < this.cache.probs.length)) this.cache.append(tokens);
  }
}

/**
 * Every scored prediction of a long text sees between context/2 and
 * context - 1 characters of history (windows of the context, each half a
 * context after the last; see gptEvalWindows).
 */
export function gptEvaluationWindows(context: number, predictions: number): EvalWindow[] {
  return gptEvalWindows(predictions, context, Math.max(1, Math.floor(context / 2)));
}

export function blockFamily(info: FamilyInfo): Family {
  const attends = info.name === 'gpt';
  return {
    ...info,
    createNetwork: (params, shape) => new BlockNetwork(params, shape.B, shape.T, shape.kernels, shape.dropout ?? 0),
    ...(attends
      ? {
          createStepper: (params: Params, kernels: Kernels): TokenStepper => new GptStepper(params, kernels),
          evaluationWindows: (c, predictions) => gptEvaluationWindows(gptShape(c).context, predictions),
        }
      : {}),
  } satisfies Family;
}
