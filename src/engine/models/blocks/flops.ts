import { gptShape, mixerGates, type BlockConfig } from './config';

/**
 * Matrix-product FLOPs of one character forward and backward (backward is
 * twice forward): the mixer's projections (and for gpt q kᵀ and P v over a
 * full context, the whole square PyTorch computes before masking; the wasm
 * kernels skip the masked half, the TypeScript ones do not), the MLP, and
 * the tied decoder.
 */
export function blockFlopsPerChar(c: BlockConfig): number {
  const { hidden: C, layers: L, vocabSize: V } = c;
  const mixer = c.cell === 'gpt' ? 2 * 4 * C * C + 2 * 2 * gptShape(c).context * C : 2 * mixerGates(c.cell) * C * C;
  const mlp = 2 * 8 * C * C;
  return 3 * (L * (mixer + mlp) + 2 * V * C);
}
