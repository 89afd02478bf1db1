import type { Kernels } from '../engine';

/**
 * This machine's speed with the kernels training uses, in GFLOP/s with the
 * training overheads counted: a 20 ms loop of one representative product.
 * Feeds the time estimates of the training presets.
 */
export function measureGflops(kernels: Kernels, durationMs = 20): number {
  const M = 32, N = 256, K = 256;
  const a = new Float32Array(M * K).fill(0.5);
  const b = new Float32Array(N * K).fill(0.25);
  const out = new Float32Array(M * N);
  kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false); // warm-up
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false);
    reps++;
  }
  // Training overheads (elementwise work, softmax, optimizer) take roughly a third on top.
  return ((2 * M * N * K * reps) / ((performance.now() - start) / 1000) / 1e9) * 0.75;
}
