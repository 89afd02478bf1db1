/**
 * Every matrix backend against the TypeScript reference kernels: all four
 * operations, overwrite and accumulate, odd sizes (tails of every tile),
 * nonzero offsets, the vocabulary-sized products; then whole training runs
 * and validation losses, which must agree to float32 rounding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TRAIN, type CellType } from '../../src/engine/config';
import { tsKernels, type Kernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';
import { evaluateStream, splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { availableKernels, bestKernels, kernelsByName, wasmFlavorAvailable } from '../../src/engine/wasm';

const backends = availableKernels().filter((k) => k !== tsKernels);

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

type Op = 'gemmABt' | 'gemmAB' | 'gemmAtB';

/** Compares `k` with the reference on one product; operands sit at offsets 3/5/7 inside larger arrays. */
function compare(k: Kernels, op: Op, M: number, N: number, K: number, accumulate: boolean, rng: Rng): void {
  const aOff = 3, bOff = 5, oOff = 7;
  const a = random(aOff + M * K + 2, rng);
  const b = random(bOff + N * K + 2, rng);
  const init = random(oOff + M * N + 2, rng);
  const want = new Float32Array(init);
  const got = new Float32Array(init);
  tsKernels[op](want, oOff, a, aOff, b, bOff, M, N, K, accumulate);
  k[op](got, oOff, a, aOff, b, bOff, M, N, K, accumulate);
  // Inputs are in ±1, so an output (a sum of K products) is of size ~√K; the
  // two summation orders may differ by a relative 1e-5·√K of that.
  const scale = Math.sqrt(Math.max(K, 1));
  const tol = 1e-5 * scale * scale;
  for (let i = 0; i < got.length; i++) {
    const inside = i >= oOff && i < oOff + M * N;
    if (!inside) {
      assert.equal(got[i], init[i], `${k.name} ${op} wrote outside the destination at ${i}`);
      continue;
    }
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= tol)) {
      assert.fail(`${k.name} ${op} M=${M} N=${N} K=${K} acc=${accumulate}: element ${i - oOff} is ${got[i]}, reference ${want[i]} (tolerance ${tol})`);
    }
  }
}

const SIZES = [1, 3, 5, 17, 64, 129];

describe('kernel backends', () => {
  it('feature detection picks a backend and always offers the TypeScript kernels', () => {
    const all = availableKernels();
    assert.equal(all[all.length - 1], tsKernels);
    assert.equal(bestKernels(), all[0]);
    assert.equal(kernelsByName('typescript'), tsKernels);
    // Node 20+ runs SIMD128 unconditionally; relaxed SIMD behind a flag the loader sets.
    assert.ok(wasmFlavorAvailable('simd'), 'this runtime should validate the SIMD128 module');
    assert.ok(backends.length >= 1);
  });

  for (const k of backends) {
    describe(k.name, () => {
      for (const op of ['gemmABt', 'gemmAB', 'gemmAtB'] as const) {
        it(`${op} matches the reference for every size in {${SIZES.join(',')}}³, overwrite and accumulate`, () => {
          const rng = new Rng(11);
          for (const M of SIZES) for (const N of SIZES) for (const K of SIZES) {
            compare(k, op, M, N, K, false, rng);
            compare(k, op, M, N, K, true, rng);
          }
        });
        it(`${op} matches the reference at vocabulary size 3000, batch 1 and K beyond one block`, () => {
          const rng = new Rng(12);
          for (const [M, N, K] of [[1, 3000, 129], [33, 3000, 64], [3000, 17, 5], [5, 129, 3000], [1, 1, 1300], [2, 2048, 512]] as const) {
            compare(k, op, M, N, K, false, rng);
            compare(k, op, M, N, K, true, rng);
          }
        });
        it(`${op} in an arena with outer-product tiles matches the reference (T·B rows, whole and partial 8-column tiles, ragged row strips, K blocks)`, (t) => {
          const arena = k.arena?.(0, 4_000_000, { outerProducts: true });
          if (!arena) return t.skip('no arena on this backend');
          const rng = new Rng(15);
          for (const [M, N, K] of [[301, 64, 129], [257, 136, 5], [256, 8, 300], [300, 65, 33], [33, 64, 17]] as const) {
            compare(arena, op, M, N, K, false, rng);
            compare(arena, op, M, N, K, true, rng);
          }
        });
      }

      it('gemm with an empty dimension leaves or zeroes the destination like the reference', () => {
        const rng = new Rng(13);
        for (const op of ['gemmABt', 'gemmAB', 'gemmAtB'] as const) {
          compare(k, op, 0, 5, 3, false, rng);
          compare(k, op, 4, 0, 3, true, rng);
          compare(k, op, 4, 5, 0, false, rng);
          compare(k, op, 4, 5, 0, true, rng);
        }
      });

      for (const [M, N, K, outer] of [[5, 67, 33, false], [300, 64, 33, true]] as const) it(`a held operand is used without copying and other operands still work while it is held (${M}×${N}×${K}${outer ? ', outer-product arena' : ''})`, () => {
        const rng = new Rng(16);
        const kk = outer ? k.arena?.(0, 4_000_000, { outerProducts: true }) ?? k : k;
        const w = random(9 + N * K, rng);
        const other = random(N * K, rng);
        const a = random(M * K, rng);
        const want = new Float32Array(M * N);
        const got = new Float32Array(M * N);
        kk.hold?.(w, 9, N * K);
        try {
          for (const [b, off] of [[w, 9], [other, 0], [w, 9]] as const) {
            tsKernels.gemmABt(want, 0, a, 0, b, off, M, N, K, false);
            kk.gemmABt(got, 0, a, 0, b, off, M, N, K, false);
            for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4);
            // Unrelated products in between must not disturb the held copy.
            compare(kk, 'gemmAtB', 17, 64, 129, true, rng);
          }
        } finally {
          kk.release?.();
        }
      });

      it('transpose matches the reference', () => {
        const rng = new Rng(14);
        for (const [r, c] of [[1, 1], [3, 17], [129, 64], [5, 3000]] as const) {
          const a = random(2 + r * c, rng);
          const want = new Float32Array(4 + r * c);
          const got = new Float32Array(4 + r * c);
          tsKernels.transpose(want, 4, a, 2, r, c);
          k.transpose(got, 4, a, 2, r, c);
          assert.deepEqual(got, want);
        }
      });

      it('float64 operands run at full precision (delegated to the reference)', () => {
        const rng = new Rng(15);
        const a = Float64Array.from(random(17 * 5, rng));
        const b = Float64Array.from(random(3 * 5, rng));
        const want = new Float64Array(17 * 3);
        const got = new Float64Array(17 * 3);
        tsKernels.gemmABt(want, 0, a, 0, b, 0, 17, 3, 5, false);
        k.gemmABt(got, 0, a, 0, b, 0, 17, 3, 5, false);
        assert.deepEqual(got, want);
      });

      for (const cell of ['lstm', 'gru', 'rnn'] as CellType[]) {
        it(`20 training steps of a ${cell.toUpperCase()} give the reference's losses (within 1e-4) and validation loss`, () => {
          const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(40);
          const vocab = Vocab.fromText(text);
          const { train, val } = splitTokens(vocab.encode(text).tokens, 0.1);
          const run = (kernels: Kernels) => {
            const { model, rng } = createModel({ cell, activation: 'tanh', hidden: 37, layers: 2 }, vocab, 7);
            const trainer = new Trainer(model, { ...DEFAULT_TRAIN, batch: 3, seq: 11, valFraction: 0.1, lr: 0.01 }, train, kernels, rng);
            const losses: number[] = [];
            for (let s = 0; s < 20; s++) losses.push(trainer.step().loss);
            return { losses, val: evaluateStream(model, val, kernels).loss };
          };
          const ref = run(tsKernels);
          const got = run(k);
          assert.ok(ref.losses[19]! < ref.losses[0]!, 'the reference run should learn');
          for (let s = 0; s < 20; s++) {
            assert.ok(Math.abs(got.losses[s]! - ref.losses[s]!) < 1e-4, `step ${s}: ${got.losses[s]} vs ${ref.losses[s]}`);
          }
          assert.ok(Math.abs(got.val - ref.val) < 1e-4, `validation: ${got.val} vs ${ref.val}`);
        });
      }

      for (const [cell, activation, dropout] of [['rnn', 'relu', 0], ['rnn', 'sigmoid', 0.3], ['lstm', 'tanh', 0.3], ['gru', 'tanh', 0.3]] as const) {
        it(`the fused wasm elementwise path matches the reference: ${cell.toUpperCase()} ${activation}, dropout ${dropout}, 3 layers`, () => {
          const text = 'Sphinx of black quartz, judge my vow! How vexingly quick daft zebras jump. '.repeat(30);
          const vocab = Vocab.fromText(text);
          const { train } = splitTokens(vocab.encode(text).tokens, 0);
          const run = (kernels: Kernels) => {
            const { model, rng } = createModel({ cell, activation, hidden: 13, layers: 3 }, vocab, 5);
            const trainer = new Trainer(model, { ...DEFAULT_TRAIN, batch: 5, seq: 7, valFraction: 0, lr: 0.01, dropout }, train, kernels, rng);
            const out: number[] = [];
            for (let s = 0; s < 12; s++) {
              const r = trainer.step();
              out.push(r.loss, r.gradNorm);
            }
            return out;
          };
          const ref = run(tsKernels);
          const got = run(k);
          for (let i = 0; i < ref.length; i++) {
            assert.ok(Math.abs(got[i]! - ref[i]!) < 1e-4 * Math.max(1, Math.abs(ref[i]!)), `value ${i}: ${got[i]} vs ${ref[i]}`);
          }
        });
      }
    });
  }
});
