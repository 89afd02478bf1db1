import { ConfigError } from '../../errors';
import { slotNames } from '../../optim';
import type { TrainConfig } from '../../config';
import { gptShape, mixerGates, type BlockConfig } from './config';

/** Parameters of a block model, the tied decoder counted once (nanoGPT's get_num_params with wpe included). */
export function blockParameterCount(c: BlockConfig): number {
  const { hidden: C, layers: L, vocabSize: V } = c;
  const mixer = c.cell === 'gpt' ? 3 * C * C + 3 * C + C * C + C : mixerGates(c.cell) * C * (C + 1);
  const mlp = 4 * C * C + 4 * C + 4 * C * C + C;
  const block = 4 * C + mixer + mlp;
  return V * C + (c.cell === 'gpt' ? gptShape(c).context * C : 0) + L * block + 2 * C;
}

/** Floats the attention of one gpt block holds for a window: the T²·heads·B weights (and their dropout copies) plus its T·B·C buffers. */
function attentionFloats(c: BlockConfig, B: number, T: number, dropout: boolean): number {
  const TBC = T * B * c.hidden;
  const weights = B * gptShape(c).heads * T * T;
  return 15 * TBC + weights * (dropout ? 3 : 1) + T * T + (dropout ? TBC : 0);
}

/**
 * Floats a BlockNetwork allocates for a window of T steps and B streams,
 * buffer for buffer (the network's own count, allocatedFloats, is tested to
 * agree).
 */
export function blockActivationFloats(c: BlockConfig, B: number, T: number, dropout: boolean): number {
  const { hidden: C, layers: L, vocabSize: V } = c;
  const TB = T * B;
  const TBC = TB * C;
  const mixer = c.cell === 'gpt'
    ? attentionFloats(c, B, T, dropout)
    : 3 * TB * mixerGates(c.cell) * C + (T + 1) * B * C + B * C;
  const block = 2 * TBC + 4 * TB + 8 * TBC + (dropout ? TBC : 0) + mixer;
  const stream = (2 * L + 1) * TBC + (dropout ? TBC : 0);
  // LN_f's output and stats, the logits, three [T·B, C] and two [T·B, 4C] backward/GELU scratches.
  return stream + L * block + TBC + 2 * TB + TB * V + 3 * TBC + 8 * TBC;
}

/** The kernels' transposed copies of the largest product operands (TypeScript kernels; wasm copies no more). */
export function blockKernelScratchFloats(c: BlockConfig, B: number, T: number): number {
  const TB = T * B;
  return TB * Math.max(4 * c.hidden, c.vocabSize) + TB * 4 * c.hidden;
}

/**
 * Bytes a block model's training run allocates (float32): parameters,
 * gradients and optimizer slots, the activations of one window (attention's
 * T²·heads·B weights included), and the kernels' scratch.
 */
export function estimateBlockTrainingBytes(
  c: BlockConfig,
  t: Pick<TrainConfig, 'batch' | 'seq' | 'optimizer' | 'momentum' | 'dropout'>,
): number {
  const P = blockParameterCount(c);
  const paramBytes = P * 4 * (2 + slotNames(t.optimizer, t.momentum).length);
  const floats = blockActivationFloats(c, t.batch, t.seq, t.dropout > 0) + blockKernelScratchFloats(c, t.batch, t.seq);
  return paramBytes + floats * 4;
}

/** Bytes of one window's attention weights over all blocks: the part that grows as T². */
export function attentionWeightBytes(c: BlockConfig, batch: number, seq: number, dropout: boolean): number {
  if (c.cell !== 'gpt') return 0;
  return c.layers * batch * gptShape(c).heads * seq * seq * (dropout ? 3 : 1) * 4;
}

/** Throws a one-line ConfigError when a block model's run would need more than `limitBytes`. */
export function checkBlockMemory(
  c: BlockConfig,
  t: Pick<TrainConfig, 'batch' | 'seq' | 'optimizer' | 'momentum' | 'dropout'>,
  limitBytes: number,
): void {
  const needed = estimateBlockTrainingBytes(c, t);
  if (needed <= limitBytes) return;
  const att = attentionWeightBytes(c, t.batch, t.seq, t.dropout > 0);
  const share = att > needed / 4
    ? `, ${mib(att)} of it attention weights (layers × batch × heads × seq²): lower --seq, --batch or --heads`
    : ': use a smaller model, batch or sequence';
  throw new ConfigError(
    `this ${c.cell} run needs about ${mib(needed)} (${blockParameterCount(c).toLocaleString('en-US')} parameters, batch ${t.batch} × sequence ${t.seq}), ` +
      `more than the limit of ${mib(limitBytes)}${share}`,
  );
}

function mib(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
