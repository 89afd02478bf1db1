/**
 * `infer/trace` through the real inference worker (dist/inference-worker.js,
 * spoken to through WorkerClient): the trace of a checkpointed model matches
 * the engine's traceHiddenStates on the same weights, for LSTM and GRU, and
 * bad requests fail cleanly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createModel, decodeCheckpoint, DEFAULT_TRAIN, encodeCheckpoint, traceHiddenStates, tsKernels, Vocab, type CellType } from '../../src/engine';
import { familyOf } from '../../src/engine/models';
import { quantitiesOf } from '../../src/shared/panels/hiddenStatesData';
import { inferenceClient, type InferenceClient } from '../../src/shared/workerClient';

const root = path.resolve(__dirname, '..', '..');
const INFERENCE = path.join(root, 'dist', 'inference-worker.js');
const TEXT = 'the cat sat on "the mat".\nthe dog sat on the log.\n';

function checkpointOf(cell: CellType): Uint8Array {
  const vocab = Vocab.fromText(TEXT.repeat(3));
  const { model } = createModel({ cell, activation: 'tanh', hidden: 12, layers: 2 }, vocab, 11);
  return encodeCheckpoint(model, DEFAULT_TRAIN, null);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 2e-4): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y)) assert.ok(Number.isNaN(x), `${what}[${i}]: ${x}, expected NaN`);
    else assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${what}[${i}]: ${x}, expected ${y}`);
  }
}

before(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
});

describe('inference worker: infer/trace', () => {
  const clients: InferenceClient[] = [];
  const client = () => {
    const c = inferenceClient(INFERENCE, () => undefined, () => undefined);
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) await c.dispose();
  });

  for (const cell of ['lstm', 'gru'] as const) {
    it(`traces a ${cell.toUpperCase()} like the engine: h${cell === 'lstm' ? ', c' : ''}, gates, nextProbs, surprisal`, async () => {
      const bytes = checkpointOf(cell);
      const { model } = decodeCheckpoint(bytes);
      const want = traceHiddenStates(model, TEXT, tsKernels);
      const c = client();
      await c.request({ kind: 'infer/load', modelId: 'm', checkpoint: bytes.slice() });
      const got = await c.request({ kind: 'infer/trace', modelId: 'm', text: TEXT });
      assert.equal(got.cell, cell);
      assert.equal(got.hidden, 12);
      assert.deepEqual(got.chars, [...TEXT]);
      assert.deepEqual(got.vocab, [...model.vocab.chars]);
      assert.equal(got.layers.length, 2);
      assert.ok(got.nextProbs instanceof Float32Array, 'typed arrays cross the thread boundary as typed arrays');
      for (let l = 0; l < 2; l++) {
        close(got.layers[l]!.h, want.layers[l]!.h, `layer ${l} h`);
        assert.equal(got.layers[l]!.h.length, TEXT.length * 12);
        if (cell === 'lstm') close(got.layers[l]!.c!, want.layers[l]!.c!, `layer ${l} c`);
        else assert.equal(got.layers[l]!.c, undefined);
        assert.deepEqual(quantitiesOf(got), familyOf(cell).quantities(model.config).map((q) => q.name));
        assert.deepEqual(quantitiesOf(got), { lstm: ['h', 'c', 'i', 'f', 'g', 'o'], gru: ['h', 'r', 'z', 'n'] }[cell]);
        for (const g of Object.keys(want.layers[l]!.gates)) close(got.layers[l]!.gates[g]!, want.layers[l]!.gates[g]!, `layer ${l} ${g}`);
      }
      close(got.nextProbs, want.nextProbs, 'nextProbs');
      close(got.surprisalBits, want.surprisalBits, 'surprisal', 1e-3);
      // Rows of nextProbs are distributions; the surprisal is -log2 of the next char's probability.
      const V = got.vocab.length;
      for (let t = 0; t < 5; t++) {
        let s = 0;
        for (let v = 0; v < V; v++) s += got.nextProbs[t * V + v]!;
        assert.ok(Math.abs(s - 1) < 1e-4);
        const p = got.nextProbs[t * V + got.vocab.indexOf(TEXT[t + 1]!)]!;
        assert.ok(Math.abs(got.surprisalBits[t]! + Math.log2(p)) < 1e-3);
      }
    });
  }

  it('marks characters the model does not know, and fails cleanly for unknown models and oversized text', async () => {
    const c = client();
    await c.request({ kind: 'infer/load', modelId: 'm', checkpoint: checkpointOf('lstm') });
    const got = await c.request({ kind: 'infer/trace', modelId: 'm', text: 'the €at' });
    assert.deepEqual(got.unknown, [4]);
    assert.ok(Number.isNaN(got.surprisalBits[3]!), 'no surprisal for an unknown next character');
    const empty = await c.request({ kind: 'infer/trace', modelId: 'm', text: '' });
    assert.equal(empty.chars.length, 0);
    await assert.rejects(c.request({ kind: 'infer/trace', modelId: 'nope', text: 'the' }), /not loaded/);
    await assert.rejects(c.request({ kind: 'infer/trace', modelId: 'm', text: 'a'.repeat(20_001) }), /at most 20000 characters/);
    // The worker is still fine afterwards.
    const again = await c.request({ kind: 'infer/trace', modelId: 'm', text: 'the' });
    assert.equal(again.chars.length, 3);
  });
});
