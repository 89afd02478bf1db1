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

  it('says in one line why a block model has no step-through, and rejects a bad error step', async () => {
    const vocab = Vocab.fromText(TEXT);
    const { model } = createModel({ cell: 'gpt', activation: 'tanh', hidden: 8, layers: 1, heads: 2, context: 32 }, vocab, 1);
    await client.request({ kind: 'infer/load', modelId: 'p', checkpoint: encodeCheckpoint(model, DEFAULT_TRAIN, null) });
    await assert.rejects(client.request({ kind: 'infer/stepThrough', modelId: 'p', text: TEXT, errorAt: 0 }), /the step-through follows the recurrent cells' equations; .+ has none \(train an RNN, LSTM or GRU\)/);
    await assert.rejects(client.request({ kind: 'infer/stepThrough', modelId: 'g', text: 'abc', errorAt: 5 }), /errorAt must be a step from 0 to 1/);
  });
});
