import type { ModelConfig } from '../../config';
import type { DType } from '../../floats';
import { Params } from '../../params';
import type { BlockConfig } from './config';
import { tensorSpecs } from './specs';

/**
 * The engine's Params laid out for a block config (for code and tests that
 * hold a BlockConfig rather than a validated ModelConfig).
 */
export function blockParams(c: BlockConfig, dtype: DType = 'f32'): Params {
  return new Params({ activation: 'tanh', ...c } as ModelConfig, tensorSpecs(c), dtype);
}
