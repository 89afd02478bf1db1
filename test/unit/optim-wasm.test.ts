/**
 * Adam/AdamW and gradient clipping in wasm (src/engine/wasm/optim.as) give
 * the TypeScript optimizer's parameters, moments and norms bit for bit: both
 * compute in float64 on float32 storage with the same operations in the
 * same order. Block parameters, so the updates run over runs with and
 * without weight decay, and an odd count, so the loops' tails run too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TRAIN } from '../../src/engine/config';
import { tsKernels } from '../../src/engine/kernels';
import { blockParams } from '../../src/engine/models/blocks/params';
import { clipGradNorm, createOptimizer, decayRuns } from '../../src/engine/optim';
import { Rng } from '../../src/engine/rng';
import { availableKernels, nativeKernels, withThreads } from '../../src/engine/wasm';

const native = nativeKernels();
// The native kernels also on two threads, over a model large enough that the update is split between them.
const wasmBackends = [
  ...availableKernels().filter((k) => k !== tsKernels && typeof k.arena === 'function').map((kernels) => ({ kernels, hidden: 15 })),
  ...(native ? [{ kernels: withThreads(native, 2), hidden: 95 }] : []),
];

function setup(hidden: number) {
  // width 15 (or 95), vocabulary 13: runs of odd length
  const params = blockParams({ cell: 'gpt', hidden, layers: 2, vocabSize: 13, heads: 5, context: 8 });
  params.initialize(new Rng(3));
  return params;
}

function bits(a: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(a).buffer);
}

describe('wasm Adam/AdamW and clipping match the TypeScript optimizer bit for bit', () => {
  it('there is a wasm backend to test', () => {
    assert.ok(wasmBackends.length > 0);
  });
  for (const { kernels, hidden } of wasmBackends) {
    for (const optimizer of ['adam', 'adamw'] as const) {
      it(`${kernels.name}${kernels.threads && kernels.threads > 1 ? ` on ${kernels.threads} threads` : ''}, ${optimizer}: six steps with clipping on and off (width ${hidden})`, () => {
        const hyper = { ...DEFAULT_TRAIN, optimizer, weightDecay: 0.1, beta2: 0.95 };
        const a = setup(hidden), b = setup(hidden);
        const runs = decayRuns(a, hyper.weightDecay);
        assert.ok(runs.length > 2 && runs.some((r) => (r.end - r.start) % 2 === 1), 'runs with and without decay, some of odd length');
        const ts = createOptimizer(a, hyper);
        const wa = createOptimizer(b, hyper, kernels);
        assert.notEqual(wa.slots.get('exp_avg')!.buffer, ts.slots.get('exp_avg')!.buffer);
        const rng = new Rng(5);
        for (let s = 0; s < 6; s++) {
          for (let i = 0; i < a.grad.length; i++) a.grad[i] = b.grad[i] = (rng.uniform() - 0.5) * (s + 1);
          // clipping bites on odd steps, not on even ones
          const max = s % 2 ? 0.5 : 1e9;
          const n1 = ts.clip(max), n2 = wa.clip(max);
          assert.equal(n2, n1, `norm at step ${s}`);
          assert.deepEqual(bits(b.grad), bits(a.grad), `clipped gradient at step ${s}`);
          ts.step(3e-3);
          wa.step(3e-3);
          assert.deepEqual(bits(b.data), bits(a.data), `parameters after step ${s}`);
          for (const slot of ['exp_avg', 'exp_avg_sq']) assert.deepEqual(bits(wa.slots.get(slot)!), bits(ts.slots.get(slot)!), `${slot} after step ${s}`);
        }
        assert.equal(wa.steps, 6);
      });
    }
  }
  it('clipGradNorm is the float64 norm of the gradient summed in index order', () => {
    const g = new Float32Array(1001);
    const rng = new Rng(1);
    let ss = 0;
    for (let i = 0; i < g.length; i++) { g[i] = rng.uniform() - 0.5; ss += g[i]! * g[i]!; }
    const norm = clipGradNorm(g, 0);
    assert.equal(norm, Math.sqrt(ss));
  });
});
