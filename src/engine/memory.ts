import { gateCount, type ModelConfig, type TrainConfig } from './config';
import { slotNames } from './optim';

/** Default ceiling for one training run's buffers. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

export function parameterCount(c: ModelConfig): number {
  const GH = gateCount(c.cell) * c.hidden;
  let n = 0;
  for (let l = 0; l < c.layers; l++) n += GH * ((l === 0 ? c.vocabSize : c.hidden) + c.hidden + 2);
  return n + c.vocabSize * (c.hidden + 1);
}

/**
 * Bytes a training run will allocate (float32), estimated before anything is
 * allocated so an impossible model is refused with a message, not an OOM.
 */
export function estimateTrainingBytes(c: ModelConfig, t: Pick<TrainConfig, 'batch' | 'seq' | 'optimizer' | 'momentum'>): number {
  const P = parameterCount(c);
  const H = c.hidden;
  const GH = gateCount(c.cell) * H;
  const TB = t.batch * t.seq;
  const paramBytes = P * 4 * (2 + slotNames(t.optimizer, t.momentum).length);
  const perLayer = TB * GH * (c.cell === 'gru' ? 3 : 2) + TB * H * 5 + t.batch * GH;
  const activations = c.layers * perLayer + TB * c.vocabSize;
  // The kernels' transposes of the largest operands.
  const scratch = TB * Math.max(GH, c.vocabSize) + TB * H;
  return paramBytes + (activations + scratch) * 4;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** Floating-point operations of one character's forward and backward pass (matrix products only). */
export function flopsPerChar(c: ModelConfig): number {
  const GH = gateCount(c.cell) * c.hidden;
  const H = c.hidden;
  let f = 0;
  // Layer 0's input is a gather; above it the input projection, ∇W_ih and ∂x are products too.
  for (let l = 0; l < c.layers; l++) f += l === 0 ? 6 * GH * H : 12 * GH * H;
  return f + 6 * c.vocabSize * H;
}
