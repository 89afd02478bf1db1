import type { ModelConfig } from './config';
import type { DType } from './floats';
import { createParams } from './models/build';
import type { Params } from './params';
import { Rng } from './rng';
import type { Vocab } from './vocab';

/** A network with its vocabulary: everything inference needs. */
export interface Model {
  readonly config: ModelConfig;
  readonly vocab: Vocab;
  readonly params: Params;
}

export function createModel(config: Omit<ModelConfig, 'vocabSize'>, vocab: Vocab, seed: number, dtype: DType = 'f32'): { model: Model; rng: Rng } {
  const params = createParams({ ...config, vocabSize: vocab.size }, dtype);
  const rng = new Rng(seed);
  params.initialize(rng);
  return { model: { config: params.config, vocab, params }, rng };
}
