/** The engine's public surface: pure numeric code, no I/O. */
export * from './config';
export * from './errors';
export * from './floats';
export { Graph, type GradientRecord } from './graph';
export { tsKernels, type Kernels } from './kernels';
export * from './model';
export { Params, type ParamTensor } from './params';
export { Rng, type RngState } from './rng';
export { Vocab } from './vocab';
export { decodeText, hashTokens } from './text';
export * from './memory';
export { clipGradNorm, createOptimizer, slotNames, type Optimizer } from './optim';
export { learningRate } from './schedule';
export * from './trainer';
export * from './checkpoint';
export * from './sampling';
export * from './instrument';
export * from './session';
