import type { ModelConfig } from '../config';
import type { DType } from '../floats';
import { Params } from '../params';
import type { GradientRecord, Network, NetworkShape } from './family';
import { infoOf } from './catalog';
import { familyOf } from './registry';

/** The parameters of a model config, laid out as its family declares (not initialised). */
export function createParams(config: ModelConfig, dtype: DType = 'f32'): Params {
  return new Params(config, infoOf(config.cell).tensors(config), dtype);
}

/** The network of the params' family for a window of `shape`. */
export function createNetwork(params: Params, shape: NetworkShape): Network {
  return familyOf(params.config.cell).createNetwork(params, shape);
}

/** A record sized for a network, for instrumentation runs. */
export function newGradientRecord(network: Network): GradientRecord {
  const mk = (): Float64Array[] => Array.from({ length: network.gradientTaps }, () => new Float64Array(network.T));
  return { hGradNorm: mk(), wContribution: mk() };
}
