import type { ModelConfig, TrainConfig } from './config';
import { infoOf } from './models/catalog';
import { slotNames } from './optim';
import { runThreads } from './threadCount';

/** Default ceiling for one training run's buffers. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

/** Weights of a model: the sum of its family's tensors. */
export function parameterCount(c: ModelConfig): number {
  let n = 0;
  for (const t of infoOf(c.cell).tensors(c)) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Bytes a training run will allocate (float32), estimated before anything is
 * allocated so an impossible model is refused with a message, not an OOM:
 * parameters, gradients and optimizer slots, plus the family's network.
 */
export function estimateTrainingBytes(c: ModelConfig, t: Pick<TrainConfig, 'batch' | 'seq' | 'optimizer' | 'momentum'>): number {
  const paramBytes = parameterCount(c) * 4 * (2 + slotNames(t.optimizer, t.momentum).length);
  return paramBytes + infoOf(c.cell).networkBytes(c, t);
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** Floating-point operations of one character's forward and backward pass (matrix products only). */
export function flopsPerChar(c: ModelConfig): number {
  return infoOf(c.cell).flopsPerChar(c);
}

/**
 * Training characters per second expected of `c` from the machine's speed
 * (`speed`: training GFLOP/s on 1, 2, ... threads, trainingSpeed.ts) on the
 * threads a run of `batch` streams gets (`threadsSetting`, 0 = automatic);
 * undefined without a speed.
 */
export function expectedCharsPerSec(c: ModelConfig, batch: number, speed: readonly number[] | undefined, threadsSetting = 0): number | undefined {
  if (!speed || speed.length === 0) return undefined;
  const gflops = speed[Math.min(runThreads(threadsSetting, batch), speed.length) - 1]!;
  return gflops > 0 ? (gflops * 1e9) / flopsPerChar(c) : undefined;
}
