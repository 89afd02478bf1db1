/**
 * The block networks on every kernel backend: a window large enough for the
 * wasm arena (buffers in wasm memory, products in place) gives the loss,
 * probabilities and gradients of the TypeScript kernels, within float32
 * rounding, for each family, with two threads too where they exist.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tsKernels, type Kernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import type { BlockFamily } from '../../src/engine/models/blocks/config';
import { BlockNetwork } from '../../src/engine/models/blocks/network';
import { blockParams } from '../../src/engine/models/blocks/params';
import { availableKernels, stopHelpers, threadsAvailable, withThreads } from '../../src/engine/wasm';

const B = 4, T = 64;

function run(family: BlockFamily, kernels: Kernels) {
  const params = blockParams({ cell: family, hidden: 32, layers: 2, vocabSize: 11, heads: 4, context: T });
  const rng = new Rng(9);
  params.initialize(rng);
  // Larger than the init, so every nonlinearity matters.
  for (let i = 0; i < params.data.length; i++) params.data[i] += (rng.uniform() - 0.5) * 0.3;
  const net = new BlockNetwork(params, B, T, kernels);
  for (let r = 0; r < B * T; r++) {
    net.tokens[r] = Math.floor(rng.uniform() * 11);
    net.targets[r] = Math.floor(rng.uniform() * 11);
  }
  net.carried.forEach((c) => c.data.fill(0.25));
  params.grad.fill(0);
  const loss = net.forward();
  net.backward();
  return { loss, probs: Float32Array.from(net.probs), grad: Float32Array.from(params.grad), arena: net.kernels !== kernels };
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * scale + 1e-6, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe('block networks on every backend', () => {
  const backends = availableKernels().filter((k) => k !== tsKernels);
  for (const family of ['gpt', 'mingru', 'minlstm'] as const) {
    it(`${family}: wasm arena (1 and 2 threads) = TypeScript kernels`, () => {
      const ref = run(family, tsKernels);
      assert.ok(!ref.arena);
      for (const k of backends) {
        for (const threads of threadsAvailable() ? [1, 2] : [1]) {
          const got = run(family, withThreads(k, threads));
          assert.ok(got.arena, `${k.name}: the window is large enough for an arena`);
          assert.ok(Math.abs(got.loss - ref.loss) < 1e-5, `${k.name}×${threads} loss ${got.loss} vs ${ref.loss}`);
          assertClose(got.probs, ref.probs, `${k.name}×${threads} probs`);
          assertClose(got.grad, ref.grad, `${k.name}×${threads} grad`);
        }
      }
    });
  }
  it('stops the helper threads', () => stopHelpers());
});
