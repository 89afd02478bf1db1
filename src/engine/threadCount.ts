/**
 * How many threads a training run uses: the user's setting, or by default 2
 * wherever there are at least two cores and the batch has at least 8
 * streams, else 1. Never more by default: a run shares the machine with VS
 * Code and the user's other work. Two also on a 2-core machine (not
 * cores - 1 = 1): the second thread works only during the large products and
 * sleeps between them. Users who want the second core left free set
 * rnnLab.training.threads to 1. Shared by the run and the editor's time
 * estimates, so the estimate is for the threads the run will get.
 */
export function defaultThreads(cores = availableCores(), batch = Infinity): number {
  // A batch of a few streams has no product large enough to split (the bench
  // shows no gain below batch 8, and up to ~10 % lost to the shared memory).
  return cores <= 1 || batch < 8 ? 1 : 2;
}

/** The threads of a run whose threads setting is `setting` (0 or absent: defaultThreads). */
export function runThreads(setting: number | undefined, batch: number, cores = availableCores()): number {
  return setting && setting > 0 ? setting : defaultThreads(cores, batch);
}

export function availableCores(): number {
  try {
    const os = require('node:os') as { availableParallelism?: () => number; cpus(): unknown[] };
    return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  } catch {
    return 1;
  }
}
