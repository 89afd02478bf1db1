/**
 * Checkpoints that are valid JSON and safetensors but extreme or damaged:
 * optimizer state and train_state that no run could produce, huge metadata,
 * hostile strings echoed in messages, and large models decoded without copies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CheckpointError, MAX_CHECKPOINT_STEP, decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint';
import { DEFAULT_TRAIN, checkRange, validateModelConfig, type TrainConfig } from '../../src/engine/config';
import { ConfigError } from '../../src/engine/errors';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { quoteForMessage } from '../../src/engine/quote';
import { MAX_METADATA_ENTRIES, decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/engine/safetensors';
import { Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { joinFile, splitFile } from '../fuzz/checkpoints';

const TEXT = 'a small text for a small model, with some repetition. '.repeat(8);
const TRAIN: TrainConfig = { ...DEFAULT_TRAIN, batch: 2, seq: 5 };

function trained(optimizer: TrainConfig['optimizer']): Uint8Array {
  const vocab = Vocab.fromText(TEXT);
  const { model, rng } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 5, layers: 1 }, vocab, 1);
  const train = { ...TRAIN, optimizer };
  const trainer = new Trainer(model, train, vocab.encode(TEXT).tokens, tsKernels, rng);
  trainer.step();
  return encodeCheckpoint(model, train, trainer);
}

function withTensors(file: Uint8Array, edit: (t: NamedTensor[]) => void, meta?: (m: Record<string, string>) => void): Uint8Array {
  const d = decodeSafetensors(file);
  const list = [...d.tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data.slice() }));
  const m = { ...d.metadata };
  edit(list);
  meta?.(m);
  return encodeSafetensors(list, m);
}

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeCheckpoint(bytes),
    (e: unknown) => {
      assert.ok(e instanceof CheckpointError, String(e));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n') && e.message.length < 300, e.message.slice(0, 400));
      return true;
    },
  );
}

describe('optimizer state and train_state are validated like the weights', () => {
  it('refuses NaN or negative sums of squares and non-finite moments, naming the tensor', () => {
    const adam = trained('adam');
    const set = (name: string, v: number) => withTensors(adam, (t) => void (t.find((x) => x.name === name)!.data[2] = v));
    refused(set('optim.exp_avg_sq.rnn.weight_hh_l0', NaN), /optimizer state optim\.exp_avg_sq\.rnn\.weight_hh_l0 contains NaN or infinite values/);
    refused(set('optim.exp_avg_sq.decoder.bias', -1e-3), /optim\.exp_avg_sq\.decoder\.bias contains negative values/);
    refused(set('optim.exp_avg.rnn.bias_ih_l0', Infinity), /optim\.exp_avg\.rnn\.bias_ih_l0 contains NaN or infinite/);
    // A negative first moment is an ordinary value.
    assert.doesNotThrow(() => decodeCheckpoint(set('optim.exp_avg.rnn.bias_ih_l0', -5)));
    refused(
      withTensors(trained('adagrad'), (t) => void (t.find((x) => x.name === 'optim.sum.decoder.weight')!.data[0] = -1)),
      /optim\.sum\.decoder\.weight contains negative values/,
    );
    refused(
      withTensors(trained('rmsprop'), (t) => void (t.find((x) => x.name === 'optim.square_avg.decoder.weight')!.data[0] = NaN)),
      /optim\.square_avg\.decoder\.weight contains NaN/,
    );
    refused(withTensors(adam, (t) => void (t.find((x) => x.name === 'train.h_l0')!.data[0] = NaN)), /training state "train\.h_l0" contains NaN/);
    refused(
      withTensors(adam, (t) => void t.push({ name: 'optim.exp_avg.rnn.weight_xx', shape: [1], data: new Float32Array(1) })),
      /optimizer state "optim\.exp_avg\.rnn\.weight_xx" for a weight the model does not have/,
    );
  });

  it('refuses a step of 2^53 − 1 and other counters out of range, and accepts the largest allowed', () => {
    const adam = trained('adam');
    const state = (patch: Record<string, unknown>) =>
      withTensors(adam, () => {}, (m) => void (m.train_state = JSON.stringify({ ...JSON.parse(m.train_state!), ...patch })));
    refused(state({ step: 2 ** 53 - 1 }), /"train_state" is malformed: step is 9007199254740991, expected a whole number from 0 to 2\^52/);
    refused(state({ charsSeen: -1 }), /charsSeen is -1/);
    refused(state({ position: 1.5 }), /position is 1\.5/);
    refused(state({ epoch: 'x'.repeat(100_000) }), /epoch is "x+…"/);
    refused(state({ rng: [0, 0, 0, 0] }), /rng must be four 32-bit unsigned integers, not all zero/);
    refused(state({ rng: [1, 2, 3] }), /rng must be/);
    refused(state({ dataHash: 'h'.repeat(65) }), /dataHash must be a string of at most 64/);
    const top = decodeCheckpoint(state({ step: MAX_CHECKPOINT_STEP }));
    assert.equal(top.trainState!.step, MAX_CHECKPOINT_STEP);
    // step + the CLI's largest --steps stays exact.
    assert.ok(Number.isSafeInteger(MAX_CHECKPOINT_STEP + 1e12));
  });
});

describe('hostile strings in messages are capped', () => {
  it('a 10,000-entry shape gives a short message (was 2 MB on one line)', () => {
    const file = withTensors(trained('adam'), (t) => {
      const w = t.find((x) => x.name === 'decoder.weight')!;
      w.shape = [...new Array(9_998).fill(1), ...w.shape];
    });
    refused(file, /tensor decoder\.weight has shape \[1,1,1,.*…/);
  });

  it('config errors quote at most ~80 characters of the value', () => {
    assert.throws(() => validateModelConfig({ cell: 'x'.repeat(1_000_000), hidden: 4, layers: 1, vocabSize: 3 }), (e: Error) => e instanceof ConfigError && e.message.length < 200 && /got "x+…"/.test(e.message));
    assert.throws(() => checkRange('hidden', new Array(1e6).fill(7), { min: 1, max: 2 }), (e: Error) => e.message.length < 200 && /got \[7,7,7/.test(e.message));
    const { header, data } = splitFile(trained('sgd'));
    const meta = header.__metadata__ as Record<string, string>;
    meta.config = JSON.stringify({ ...JSON.parse(meta.config!), train: { optimizer: { deep: 'y'.repeat(1e6) } } });
    refused(joinFile(header, data), /invalid checkpoint config: optimizer must be one of .*, got \{"deep":"y+…/);
  });

  it('quoteForMessage escapes line breaks and cuts long values without serialising them', () => {
    assert.equal(quoteForMessage('a\nb\u2028c'), '"a\\nb\\u2028c"');
    const huge = new Array(5_000_000).fill(123456);
    const t0 = performance.now();
    const s = quoteForMessage(huge);
    assert.ok(performance.now() - t0 < 50, 'bounded time');
    assert.ok(s.length <= 90 && s.endsWith('…'), s);
    assert.equal(quoteForMessage([5, 20]), '[5,20]');
  });
});

describe('extreme but well-formed checkpoints', () => {
  it('a million metadata keys are refused from a scan of the header, in well under a second', () => {
    const d = decodeSafetensors(trained('sgd'));
    const meta: Record<string, string> = { ...d.metadata };
    for (let i = 0; i < 1_000_000; i++) meta[`k${i}`] = '';
    const file = encodeSafetensors([...d.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), meta);
    const t0 = performance.now();
    refused(file, /header holds more than \d+ strings/);
    assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
    // Just above the entry limit, but few enough strings to be parsed: refused by count.
    const some: Record<string, string> = { ...d.metadata };
    for (let i = 0; i <= MAX_METADATA_ENTRIES; i++) some[`k${i}`] = '';
    refused(encodeSafetensors([...d.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), some), /__metadata__ has 10\d\d entries, more than the limit of 1024/);
  });

  it('with takeBytes the weights are the file\'s own memory, not a copy', () => {
    const bytes = trained('adam');
    const owned = decodeCheckpoint(bytes, { takeBytes: true });
    assert.equal(owned.model.params.data.buffer, bytes.buffer);
    for (const t of owned.resumeTensors.values()) assert.equal(t.buffer, bytes.buffer);
    // Without it, nothing is shared: the caller may reuse its bytes.
    const copied = decodeCheckpoint(bytes);
    assert.notEqual(copied.model.params.data.buffer, bytes.buffer);
    for (const t of copied.resumeTensors.values()) assert.notEqual(t.buffer, bytes.buffer);
    assert.deepEqual(Array.from(copied.model.params.data), Array.from(owned.model.params.data));
    // Inference needs no gradient buffer until a backward pass asks for one.
    assert.equal((owned.model.params as unknown as { gradient: unknown }).gradient, null);
  });
});
