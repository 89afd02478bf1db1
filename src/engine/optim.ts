import type { TrainConfig } from './config';
import { allocFloats, type Floats } from './floats';
import type { ArenaKernels, Kernels } from './kernels';
import type { Params } from './params';

/**
 * Optimizers with PyTorch's exact update rules (torch.optim, single-tensor
 * path), over the flat parameter buffer so each update is one loop.
 */
export interface Optimizer {
  /** Applies one update with learning rate `lr` from params.grad. */
  step(lr: number): void;
  /** clipGradNorm(params.grad, maxNorm), where this optimizer's kernels may run it. */
  clip(maxNorm: number): number;
  /** Number of updates applied so far. */
  readonly steps: number;
  /** Named state buffers for checkpoints: `optim.<slot>.<param name>` tensors. */
  readonly slots: ReadonlyMap<string, Floats>;
  setSteps(n: number): void;
}

type Hyper = Pick<TrainConfig, 'optimizer' | 'momentum' | 'beta1' | 'beta2' | 'eps' | 'weightDecay'>;

/** State slot names as PyTorch's optimizer state_dict calls them. */
export function slotNames(optimizer: TrainConfig['optimizer'], momentum: number): string[] {
  switch (optimizer) {
    case 'sgd':
      return momentum > 0 ? ['momentum_buffer'] : [];
    case 'adagrad':
      return ['sum'];
    case 'rmsprop':
      return momentum > 0 ? ['square_avg', 'momentum_buffer'] : ['square_avg'];
    case 'adam':
    case 'adamw':
      return ['exp_avg', 'exp_avg_sq'];
  }
}

/**
 * `kernels`: where they offer a wasm arena, Adam/AdamW and the clipping of
 * float32 parameters run there (same bits as the TypeScript loops below).
 */
export function createOptimizer(params: Params, hyper: Hyper, kernels?: Kernels): Optimizer {
  const adamLike = hyper.optimizer === 'adam' || hyper.optimizer === 'adamw';
  const fast = adamLike ? nativeAdam(params, hyper, kernels) ?? wasmAdam(params, hyper, kernels) : null;
  if (fast) return fast;
  const p = params.data;
  const g = params.grad;
  const slots = new Map<string, Floats>();
  for (const name of slotNames(hyper.optimizer, hyper.momentum)) slots.set(name, allocFloats(params.dtype, p.length));
  const { momentum: mu, beta1, beta2, eps, weightDecay: wd } = hyper;
  let steps = 0;

  // Runs of tensors with and without weight decay (TensorSpec.decay): one run
  // over the whole buffer for the cells, so their updates are those of 0.1.0.
  const runs = decayRuns(params, wd);

  const updates: Record<TrainConfig['optimizer'], (lr: number, start: number, end: number, wd: number) => void> = {
    sgd(lr, start, end, wd) {
      const buf = slots.get('momentum_buffer');
      for (let i = start; i < end; i++) {
        let d = g[i]! + wd * p[i]!;
        if (buf) {
          // First step: buf = g (no dampening), as torch.optim.SGD.
          d = buf[i] = steps === 0 ? d : mu * buf[i]! + d;
        }
        p[i] -= lr * d;
      }
    },
    adagrad(lr, start, end, wd) {
      const sum = slots.get('sum')!;
      for (let i = start; i < end; i++) {
        const d = g[i]! + wd * p[i]!;
        sum[i] += d * d;
        p[i] -= (lr * d) / (Math.sqrt(sum[i]!) + eps);
      }
    },
    rmsprop(lr, start, end, wd) {
      // torch's default alpha; eps outside the root, no bias correction.
      const alpha = 0.99;
      const sq = slots.get('square_avg')!;
      const buf = slots.get('momentum_buffer');
      for (let i = start; i < end; i++) {
        const d = g[i]! + wd * p[i]!;
        sq[i] = alpha * sq[i]! + (1 - alpha) * d * d;
        const step = d / (Math.sqrt(sq[i]!) + eps);
        if (buf) {
          buf[i] = mu * buf[i]! + step;
          p[i] -= lr * buf[i]!;
        } else p[i] -= lr * step;
      }
    },
    adam(lr, start, end, wd) {
      adamUpdate(lr, start, end, wd, false);
    },
    adamw(lr, start, end, wd) {
      adamUpdate(lr, start, end, wd, true);
    },
  };

  function adamUpdate(lr: number, start: number, end: number, wd: number, decoupled: boolean): void {
    const m = slots.get('exp_avg')!;
    const v = slots.get('exp_avg_sq')!;
    const t = steps + 1;
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    const stepSize = lr / bc1;
    const shrink = decoupled ? 1 - lr * wd : 1;
    const l2 = decoupled ? 0 : wd;
    for (let i = start; i < end; i++) {
      if (decoupled) p[i] *= shrink;
      const d = g[i]! + l2 * p[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * d;
      v[i] = beta2 * v[i]! + (1 - beta2) * d * d;
      p[i] -= (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
    }
  }

  const update = updates[hyper.optimizer];
  return {
    step(lr: number) {
      for (const r of runs) update(lr, r.start, r.end, r.wd);
      steps++;
    },
    get steps() {
      return steps;
    },
    clip(maxNorm: number) {
      return clipGradNorm(g, maxNorm);
    },
    slots,
    setSteps(k: number) {
      steps = k;
    },
  };
}

interface OptimExports {
  adam_update: (p: number, g: number, m: number, v: number, n: number, hyper: number) => void;
  sum_squares: (g: number, n: number) => number;
  scale_f64: (g: number, n: number, coef: number) => void;
}

/**
 * The nine float64 of adam_update's `hyper` (wasm/optim.as) for update t:
 * beta1, 1-beta1, beta2, 1-beta2, lr/bc1, √bc2, eps, shrink, l2.
 */
function adamHyper(h: Float64Array, hyper: Hyper, lr: number, t: number, wd: number): void {
  const { beta1, beta2, eps } = hyper;
  const decoupled = hyper.optimizer === 'adamw';
  h[0] = beta1; h[1] = 1 - beta1; h[2] = beta2; h[3] = 1 - beta2;
  h[4] = lr / (1 - Math.pow(beta1, t)); h[5] = Math.sqrt(1 - Math.pow(beta2, t)); h[6] = eps;
  h[7] = decoupled ? 1 - lr * wd : 1;
  h[8] = decoupled ? 0 : wd;
}

/**
 * Adam/AdamW and the clipping natively, on the parameters and gradients where
 * they are (no copies), the update split over the kernels' threads: the
 * TypeScript loops' bits. Null without native kernels or for float64.
 */
function nativeAdam(params: Params, hyper: Hyper, kernels: Kernels | undefined): Optimizer | null {
  const native = kernels?.native;
  if (!native || params.dtype !== 'f32') return null;
  const threads = Math.max(1, kernels.threads ?? 1);
  const n = params.data.length;
  const p = params.data as Float32Array, g = params.grad as Float32Array;
  const m = new Float32Array(n), v = new Float32Array(n);
  const h = new Float64Array(9);
  const runs = decayRuns(params, hyper.weightDecay);
  let steps = 0;
  return {
    clip(maxNorm: number) {
      const norm = Math.sqrt(native.sumSquares(g, n));
      if (maxNorm > 0) {
        const coef = maxNorm / (norm + 1e-6);
        if (coef < 1) native.scale(g, n, coef);
      }
      return norm;
    },
    step(lr: number) {
      for (const r of runs) {
        adamHyper(h, hyper, lr, steps + 1, r.wd);
        native.adam(p, g, m, v, r.start, r.end, h, threads);
      }
      steps++;
    },
    get steps() {
      return steps;
    },
    slots: new Map<string, Floats>([['exp_avg', m], ['exp_avg_sq', v]]),
    setSteps(k: number) {
      steps = k;
    },
  };
}

/**
 * Adam/AdamW in a wasm arena of its own: the moments live there, the
 * parameters and gradients are copied in (and the parameters out) around
 * each update. Null where the kernels offer no such arena.
 */
function wasmAdam(params: Params, hyper: Hyper, kernels: Kernels | undefined): Optimizer | null {
  if (params.dtype !== 'f32' || !kernels?.arena) return null;
  const n = params.data.length;
  const arena: ArenaKernels | null = kernels.arena(4 * n + 64, 0);
  const fn = arena?.wasm?.exports as Partial<OptimExports> | undefined;
  if (!arena?.wasm || typeof fn?.adam_update !== 'function' || typeof fn.sum_squares !== 'function' || typeof fn.scale_f64 !== 'function') return null;
  const { adam_update, sum_squares, scale_f64 } = fn as OptimExports;
  const host = arena.wasm;
  const p = params.data as Float32Array, g = params.grad as Float32Array;
  const pa = arena.f32(n), ga = arena.f32(n), m = arena.f32(n), v = arena.f32(n);
  const hyperBuf = arena.f32(18);
  const h = new Float64Array(hyperBuf.buffer, hyperBuf.byteOffset, 9);
  const at = { p: host.ptr(pa), g: host.ptr(ga), m: host.ptr(m), v: host.ptr(v), h: host.ptr(hyperBuf) };
  const slots = new Map<string, Floats>([['exp_avg', m], ['exp_avg_sq', v]]);
  const runs = decayRuns(params, hyper.weightDecay);
  let steps = 0;
  // Whether ga holds params.grad as it is now (clip() copied, maybe scaled, it).
  let staged = false;
  return {
    clip(maxNorm: number) {
      ga.set(g);
      staged = true;
      const norm = Math.sqrt(sum_squares(at.g, n));
      if (maxNorm > 0) {
        const coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
          scale_f64(at.g, n, coef);
          g.set(ga);
        }
      }
      return norm;
    },
    step(lr: number) {
      if (!staged) ga.set(g);
      staged = false;
      pa.set(p);
      for (const r of runs) {
        adamHyper(h, hyper, lr, steps + 1, r.wd);
        const off = r.start * 4;
        adam_update(at.p + off, at.g + off, at.m + off, at.v + off, r.end - r.start, at.h);
      }
      p.set(pa);
      steps++;
    },
    get steps() {
      return steps;
    },
    slots,
    setSteps(k: number) {
      steps = k;
    },
  };
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: scales every
 * gradient by min(1, max / (norm + 1e-6)); returns the norm before clipping.
 */
export function clipGradNorm(grad: Floats, maxNorm: number): number {
  const norm = Math.sqrt(sumSquares(grad));
  if (maxNorm > 0) {
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] *= coef;
  }
  return norm;
}

/** Σ g² in float64, in index order (0.1.0's order: a resumed run clips as it did; wasm/optim.as sum_squares keeps it). */
function sumSquares(g: Floats): number {
  let ss = 0;
  for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  return ss;
}

/**
 * The parameter buffer as runs of consecutive tensors with the same weight
 * decay: `wd` where the family's TensorSpec says the tensor decays (absent:
 * it does), 0 where it says it does not.
 */
export function decayRuns(params: Params, wd: number): { start: number; end: number; wd: number }[] {
  const runs: { start: number; end: number; wd: number }[] = [];
  params.tensors.forEach((t, k) => {
    const w = params.specs[k]!.decay === false ? 0 : wd;
    const last = runs[runs.length - 1];
    if (last && last.wd === w && last.end === t.offset) last.end = t.offset + t.size;
    else runs.push({ start: t.offset, end: t.offset + t.size, wd: w });
  });
  if (runs.length === 0) runs.push({ start: 0, end: params.data.length, wd });
  return runs;
}
