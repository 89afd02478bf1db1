/**
 * The step-through as the extension host gets it: the built inference worker
 * answers `infer/stepThrough` for a loaded checkpoint with what the engine's
 * stepThroughView computes in-process, and a family without a step-through
 * (gpt) with its one-line reason.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCheckpoint, DEFAULT_TRAIN, encodeCheckpoint } from '../../src/engine';
import { stepThroughView } from '../../src/engine/bpttView';
import { createModel } from '../../src/engine/model';
import { Vocab } from '../../src/engine/vocab';
import { STEP_THROUGH_FACTOR_BUDGET_MS } from '../../src/shared/stepThroughProtocol';
import { inferenceClient, type InferenceClient } from '../../src/shared/workerClient';

const root = path.resolve(__dirname, '..', '..');
const INFERENCE = path.join(root, 'dist', 'inference-worker.js');
const TEXT = 'to be or not to be, that is the question. ';

describe('infer/stepThrough in the inference worker', () => {
  let client: InferenceClient;
  before(() => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
    client = inferenceClient(INFERENCE, () => undefined, () => undefined);
  });
  after(async () => {
    await client.dispose();
  });

  it('answers with the engine\'s view of the loaded weights', async () => {
    const vocab = Vocab.fromText(TEXT);
    const { model } = createModel({ cell: 'gru', activation: 'tanh', hidden: 12, layers: 2 }, vocab, 7);
    const bytes = encodeCheckpoint(model, DEFAULT_TRAIN, null);
    await client.request({ kind: 'infer/load', modelId: 'g', checkpoint: bytes.slice() });
    const got = await client.request({ kind: 'infer/stepThrough', modelId: 'g', text: TEXT.slice(0, 30), errorAt: 20 });
    // What the worker holds is the checkpoint's model (float32 weights), decoded as it decodes it.
    const expected = stepThroughView(decodeCheckpoint(bytes).model, TEXT.slice(0, 30), 20);
    assert.deepEqual(got, expected);
    assert.equal(got.T, 29);
    assert.equal(got.chain?.errorAt, 20);
    assert.deepEqual(got.terms[1]![5]!.map((t) => t.key), ['above', 'recurrent', 'direct0', 'dh', 'z', 'dr', 'dz', 'dn']);
    // Another error of the same window (the worker reuses the factor sizes it has): still the engine's numbers.
    const again = await client.request({ kind: 'infer/stepThrough', modelId: 'g', text: TEXT.slice(0, 30), errorAt: 25 });
    assert.deepEqual(again, stepThroughView(decodeCheckpoint(bytes).model, TEXT.slice(0, 30), 25));
  });

  it('answers a completion promptly while a large model\'s step-through computes, and bounds the step-through\'s time', async () => {
    const text = 'Whether \'tis nobler in the mind to suffer the slings and arrows of outrageous fortune, '.repeat(3);
    const vocab = Vocab.fromText(text);
    // An LSTM of 256 units on 64 steps: seconds of work in one piece.
    const { model } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 256, layers: 1 }, vocab, 5);
    const bytes = encodeCheckpoint(model, DEFAULT_TRAIN, null);
    await client.request({ kind: 'infer/load', modelId: 'big', checkpoint: bytes.slice() });
    const window = text.slice(10, 75);
    const started = performance.now();
    let stepThroughDone = 0;
    const stepping = client.request({ kind: 'infer/stepThrough', modelId: 'big', text: window, errorAt: 63 }, { timeoutMs: 60_000 }).then((v) => {
      stepThroughDone = performance.now();
      return v;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const c = await client.request({ kind: 'infer/complete', modelId: 'big', docKey: `d${i}`, prefix: 'To be, or not', maxLength: 8, temperature: 0, stop: ['\n'], count: 1, seed: 1 });
      latencies.push(performance.now() - t0);
      assert.equal(c.cancelled, false);
    }
    const completedAt = performance.now();
    const view = await stepping;
    assert.ok(stepThroughDone > completedAt, 'the completions were answered while the step-through was still computing');
    // A slice is ~10 ms and a completion a few ms: far below a second even on a busy machine (it was the whole step-through, seconds).
    assert.ok(Math.max(...latencies) < 1000, `completion latencies ${latencies.map(Math.round).join(', ')} ms`);
    // The factor sizes stop after their budget; forward and backward of this window take well under 4 s more.
    assert.ok(view.chain!.factorsFrom <= 63, 'at least the first factor is computed whatever the machine\'s load');
    assert.ok(stepThroughDone - started < STEP_THROUGH_FACTOR_BUDGET_MS + 4000, `step-through took ${Math.round(stepThroughDone - started)} ms`);
    const c = view.chain!;
    assert.ok(c.factorsFrom >= 1 && c.factorsFrom <= 64);
    for (let k = 1; k <= 63; k++) assert.equal(c.jacobianNorm[k] === null, k < c.factorsFrom, `factor ${k} is shown iff it was computed`);
    // What is shown is the engine's number (the chain's factors before the cut are exact, not approximated further).
    const expected = stepThroughView(decodeCheckpoint(bytes).model, window, 63).chain!;
    for (let k = c.factorsFrom; k <= 63; k++) assert.equal(c.jacobianNorm[k], expected.jacobianNorm[k], `factor ${k}`);
    assert.deepEqual(c.stateGradNorm, expected.stateGradNorm);
    assert.deepEqual(c.weightGradNorm, expected.weightGradNorm);
  });

  it('says in one line why a block model has no step-through, and rejects a bad error step', async () => {
    const vocab = Vocab.fromText(TEXT);
    const { model } = createModel({ cell: 'gpt', activation: 'tanh', hidden: 8, layers: 1, heads: 2, context: 32 }, vocab, 1);
    await client.request({ kind: 'infer/load', modelId: 'p', checkpoint: encodeCheckpoint(model, DEFAULT_TRAIN, null) });
    await assert.rejects(client.request({ kind: 'infer/stepThrough', modelId: 'p', text: TEXT, errorAt: 0 }), /the step-through follows the recurrent cells' equations; .+ has none \(train an RNN, LSTM or GRU\)/);
    await assert.rejects(client.request({ kind: 'infer/stepThrough', modelId: 'g', text: 'abc', errorAt: 5 }), /errorAt must be a step from 0 to 1/);
  });
});
