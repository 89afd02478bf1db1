import type { Kernels } from './kernels';
import { withThreads } from './wasm';
import { availableCores } from './threadCount';

/**
 * The share of the products' speed a training step sustains: the elementwise
 * work, softmax, optimizer and the products' own smaller shapes. Fitted to
 * the presets' measured training rates (README, "Time estimates").
 */
export const TRAINING_EFFICIENCY = 0.5;

/**
 * This machine's speed with the kernels training uses, in GFLOP/s with the
 * training overheads counted, for 1 and (on two cores or more) 2 threads:
 * about 25 ms per count of one product of a training step's shape (a batch of
 * windows' rows through a gate matrix). Feeds the presets' time estimates.
 */
export function measureGflops(kernels: Kernels, durationMs = 25): number[] {
  const counts = availableCores() >= 2 ? [1, 2] : [1];
  return counts.map((n) => productGflops(withThreads(kernels, n), durationMs) * TRAINING_EFFICIENCY);
}

function productGflops(kernels: Kernels, durationMs: number): number {
  const M = 512, N = 512, K = 256;
  const a = new Float32Array(M * K).fill(0.5);
  const b = new Float32Array(N * K).fill(0.25);
  const out = new Float32Array(M * N);
  for (let i = 0; i < 2; i++) kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false); // warm-up
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false);
    reps++;
  }
  return (2 * M * N * K * reps) / ((performance.now() - start) / 1000) / 1e9;
}
