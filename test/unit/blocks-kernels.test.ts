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
import { availableKernels, setSplitMinMacs, SPLIT_MIN_MACS, splitCount, stopHelpers, threadsAvailable, withThreads } from '../../src/engine/wasm';

/** A window and width: the first with every row loop in whole SIMD vectors; the others leave tails (C 30, head size 10 or 15) and a window too short to split attention's backward. */
interface Shape { B: number; T: number; C: number; heads: number }
const SHAPES: Shape[] = [{ B: 4, T: 64, C: 32, heads: 4 }, { B: 5, T: 64, C: 30, heads: 3 }, { B: 40, T: 8, C: 30, heads: 2 }];

function run(family: BlockFamily, kernels: Kernels, { B, T, C, heads }: Shape = SHAPES[0]!) {
  const params = blockParams({ cell: family, hidden: C, layers: 2, vocabSize: 11, heads, context: T });
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
    for (const shape of SHAPES) it(`${family}: wasm arena (1 and 2 threads) = TypeScript kernels, B${shape.B} T${shape.T} C${shape.C}`, () => {
      const ref = run(family, tsKernels, shape);
      assert.ok(!ref.arena);
      for (const k of backends) {
        let one: ReturnType<typeof run> | null = null;
        for (const threads of threadsAvailable() ? [1, 2] : [1]) {
          // Every loop large enough to split is split here, so the threaded kernels are what is compared.
          const splits = splitCount();
          setSplitMinMacs(threads > 1 ? 1 : SPLIT_MIN_MACS);
          let got: ReturnType<typeof run>;
          try {
            got = run(family, withThreads(k, threads), shape);
          } finally {
            setSplitMinMacs(SPLIT_MIN_MACS);
          }
          // The native kernels split on their own pool (test/unit/nativeProducts.test.ts), which this count does not see.
          if (threads > 1 && !k.native) assert.ok(splitCount() > splits, `${k.name}×${threads}: work was split between threads`);
          assert.ok(got.arena, `${k.name}: the window is large enough for an arena`);
          assert.ok(Math.abs(got.loss - ref.loss) < 1e-5, `${k.name}×${threads} loss ${got.loss} vs ${ref.loss}`);
          assertClose(got.probs, ref.probs, `${k.name}×${threads} probs`);
          assertClose(got.grad, ref.grad, `${k.name}×${threads} grad`);
          // Every element is formed by one thread in the same order however the work is split.
          if (one) {
            assert.equal(got.loss, one.loss, `${k.name}×${threads}: the loss of one thread`);
            assert.deepEqual(got.grad, one.grad, `${k.name}×${threads}: the gradient of one thread, bit for bit`);
          } else one = got;
        }
      }
    });
  }
  it('stops the helper threads', () => stopHelpers());
});
