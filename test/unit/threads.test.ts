/**
 * Two threads for one training run (wasm/threads.ts): the split products
 * must give bit-identical results to one thread, so whole training runs with
 * threads = 2 and threads = 1 end with the same weights, byte for byte.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import type { Kernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';
import { evaluateStream, splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { SPLIT_MIN_MACS } from '../../src/engine/wasm/threads';
import { kernelsByName, kernelThreads, setSplitMinMacs, sharedArenaAvailable, splitCount, stopHelpers, WasmKernels, withThreads, type WasmFlavor } from '../../src/engine/wasm';

const flavors = (['relaxed', 'simd'] as WasmFlavor[]).filter((f) => sharedArenaAvailable(f));

after(() => {
  setSplitMinMacs(SPLIT_MIN_MACS);
  stopHelpers();
});

function text(n: number): string {
  const words = ['the ', 'quick ', 'brown ', 'fox ', 'jumps ', 'over ', 'a ', 'lazy ', 'dog', '. ', '\n', 'Zebra ', 'q? '];
  const rng = new Rng(7);
  let s = '';
  while (s.length < n) s += words[Math.floor(rng.uniform() * words.length)]!;
  return s;
}

function run(kernels: Kernels, cell: CellType, hidden: number, layers: number, train: TrainConfig, steps: number) {
  const vocab = Vocab.fromText(text(train.batch * train.seq * 3 + 10));
  const { tokens } = vocab.encode(text(train.batch * train.seq * 3 + 10));
  const { train: tr, val } = splitTokens(tokens, 0.1);
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers }, vocab, train.seed);
  const trainer = new Trainer(model, train, tr, kernels, rng);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push(trainer.step().loss);
  const evalLoss = evaluateStream(model, val, kernels).loss;
  return { weights: new Uint8Array(model.params.data.buffer.slice(0)), losses, evalLoss };
}

describe('threads', { skip: flavors.length === 0 ? 'no shared wasm memory here' : false }, () => {
  it('withThreads gives threaded wasm kernels, and leaves others alone', () => {
    const k = kernelsByName(flavors[0] === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd')!;
    const t2 = withThreads(k, 2);
    assert.ok(t2 instanceof WasmKernels);
    assert.equal(kernelThreads(t2), 2);
    assert.equal(kernelThreads(k), 1);
    assert.equal(withThreads(k, 1), k);
    assert.equal(withThreads(t2, 1), k);
    const ts = kernelsByName('typescript')!;
    assert.equal(withThreads(ts, 2), ts);
  });

  it('split products (by columns, by rows for narrow outputs) equal the unsplit ones bit for bit', () => {
    setSplitMinMacs(1);
    for (const flavor of flavors) {
      const shapes: [number, number, number][] = [[32, 2048, 64], [37, 129, 67], [301, 7, 33], [9, 15, 515], [64, 17, 1], [5, 64, 0]];
      for (const [M, N, K] of shapes) {
        const one = new WasmKernels(flavor).arena(2 * (M * K + N * K + M * N) + 64, 0)!;
        const two = withThreads(new WasmKernels(flavor), 2).arena!(2 * (M * K + N * K + M * N) + 64, 0)!;
        assert.equal(kernelThreads(two), 2);
        const rng = new Rng(M * 7 + N);
        const fill = (a: Float32Array): Float32Array => { for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1; return a; };
        const a = fill(new Float32Array(M * K)), b = fill(new Float32Array(N * K)), init = fill(new Float32Array(M * N));
        for (const accumulate of [false, true]) {
          const outs = [one, two].map((k) => {
            const ka = k.f32(M * K), kb = k.f32(N * K), ko = k.f32(M * N);
            ka.set(a); kb.set(b); ko.set(init);
            const before = splitCount();
            k.gemmABt(ko, 0, ka, 0, kb, 0, M, N, K, accumulate);
            if (k === two && K > 0 && (N >= 16 || M >= 8)) assert.ok(splitCount() > before, `${M}×${N}×${K} was not split`);
            const abt = Buffer.from(ko.slice().buffer);
            // gemmAtB on the same data read as a[K,M], b[K,N] (its own outer-product kernel).
            ko.set(init);
            const mid = splitCount();
            k.gemmAtB(ko, 0, ka, 0, kb, 0, M, N, K, accumulate);
            if (k === two && K > 0 && (N >= 16 || M >= 8)) assert.ok(splitCount() > mid, `AtB ${M}×${N}×${K} was not split`);
            return Buffer.concat([abt, Buffer.from(ko.slice().buffer)]);
          });
          assert.equal(Buffer.compare(outs[0]!, outs[1]!), 0, `${flavor} ${M}×${N}×${K} accumulate ${accumulate}`);
        }
      }
    }
  });

  it('split transposes and column sums equal the unsplit ones bit for bit', () => {
    setSplitMinMacs(1);
    for (const flavor of flavors) {
      for (const [rows, cols] of [[301, 2048], [37, 129], [64, 33], [5, 15]] as [number, number][]) {
        const n = rows * cols;
        const rng = new Rng(rows + cols);
        const a = new Float32Array(n);
        for (let i = 0; i < n; i++) a[i] = rng.uniform() * 2 - 1;
        const outs = [new WasmKernels(flavor).arena(3 * n + cols + 64, 0)!, withThreads(new WasmKernels(flavor), 2).arena!(3 * n + cols + 64, 0)!].map((k) => {
          const ka = k.f32(n), kt = k.f32(n), ks = k.f32(cols);
          ka.set(a);
          k.transpose(kt, 0, ka, 0, rows, cols);
          k.colSums(ks, ka, rows, cols);
          return [Buffer.from(kt.slice().buffer), Buffer.from(ks.slice().buffer)];
        });
        assert.equal(Buffer.compare(outs[0]![0]!, outs[1]![0]!), 0, `${flavor} transpose ${rows}×${cols}`);
        assert.equal(Buffer.compare(outs[0]![1]!, outs[1]![1]!), 0, `${flavor} column sums ${rows}×${cols}`);
      }
    }
  });

  const cases: [CellType, number, number, number, number, number][] = [
    // cell, hidden, layers, batch, seq, dropout
    ['lstm', 67, 2, 13, 11, 0.2],
    ['gru', 53, 2, 9, 17, 0],
    ['rnn', 129, 1, 17, 15, 0],
    ['lstm', 130, 1, 32, 20, 0],
    ['gru', 64, 1, 32, 12, 0],
  ];
  for (const flavor of flavors) {
    for (const [cell, hidden, layers, batch, seq, dropout] of cases) {
      it(`${flavor}: 20 ${cell} steps (H ${hidden}, L ${layers}, B ${batch}, T ${seq}) on 2 threads are bit-identical to 1`, () => {
        const one = new WasmKernels(flavor);
        const two = withThreads(one, 2);
        assert.equal(kernelThreads(two), 2);
        const train: TrainConfig = { ...DEFAULT_TRAIN, batch, seq, dropout, seed: 11, lr: 0.01 };
        // Split every product these small sizes have (the real threshold would skip most).
        setSplitMinMacs(1);
        const a = run(one, cell, hidden, layers, train, 20);
        const before = splitCount();
        const b = run(two, cell, hidden, layers, train, 20);
        assert.ok(splitCount() > before + 20 * seq, 'the products were not split');
        assert.deepEqual(b.losses, a.losses);
        assert.equal(b.evalLoss, a.evalLoss);
        assert.equal(Buffer.compare(Buffer.from(a.weights), Buffer.from(b.weights)), 0, 'weights differ');
      });
    }
  }
});
