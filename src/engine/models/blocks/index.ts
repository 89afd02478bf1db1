/** Shared machinery of the block families (gpt, mingru, minlstm): config, tensors, network, sizes. */
export * from './config';
export { TIED_ALIASES, decays, tensorSpecs, type BlockParamHolder } from './specs';
export { blockParams } from './params';
export { BlockNetwork, MIXERS, newBlockGradientRecord, type BlockGradientRecord } from './network';
export type { CarriedTensor, Mixer, MixerContext, MixerFactory } from './mixer';
export {
  attentionWeightBytes, blockActivationFloats, blockKernelScratchFloats, blockParameterCount, checkBlockMemory, estimateBlockTrainingBytes,
} from './memory';
export { blockFamily, gptEvaluationWindows } from './family';
export { blockFlopsPerChar } from './flops';
export { BLOCK_TRAIN_DEFAULTS, blockInfo } from './info';
export { erf, erfc } from './erf';
export { gptEvalWindows } from '../gpt/evalWindows';
