/**
 * Checkpoints to mutate, and the invariant every decoded one must hold.
 * Shared by the property test (test/unit/checkpoint-property.test.ts) and
 * the long fuzz (`npm run fuzz`).
 */
import assert from 'node:assert/strict';

import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/engine/checkpoint';
import { DEFAULT_TRAIN, type CellType, type OptimizerName, type TrainConfig } from '../../src/engine/config';
import { DivergenceError } from '../../src/engine/errors';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { buildSession } from '../../src/engine/session';
import { Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';

const TEXT = 'the cat sat on the mat, and then ran 😀 to the house.\n'.repeat(4);

/** Small trained checkpoints: every cell, every optimizer (and its slots), with and without training state. */
export function baseCheckpoints(): Uint8Array[] {
  const vocab = Vocab.fromText(TEXT);
  const tokens = vocab.encode(TEXT).tokens;
  const plans: [CellType, OptimizerName, number, number][] = [
    ['lstm', 'adam', 0, 2],
    ['gru', 'rmsprop', 0.5, 1],
    ['rnn', 'adagrad', 0, 1],
    ['rnn', 'sgd', 0.9, 2],
    ['gru', 'adamw', 0, 1],
  ];
  const out: Uint8Array[] = [];
  plans.forEach(([cell, optimizer, momentum, layers], i) => {
    const train: TrainConfig = { ...DEFAULT_TRAIN, batch: 2, seq: 4, optimizer, momentum, lr: 1e-2, seed: i };
    const { model, rng } = createModel({ cell, activation: i === 2 ? 'relu' : 'tanh', hidden: 4, layers }, vocab, i + 1);
    const trainer = new Trainer(model, train, tokens, tsKernels, rng);
    for (let k = 0; k < 2; k++) trainer.step();
    out.push(encodeCheckpoint(model, train, trainer, { sources: '["t.txt"]' }));
    if (i === 0) out.push(encodeCheckpoint(model, train, null));
  });
  return out;
}

/** The header JSON of a file and where its data starts. */
export function splitFile(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return { header, data: bytes.subarray(8 + n) };
}

/** A file from a header object (written as is, not validated) and a data buffer. */
export function joinFile(header: unknown, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header) ?? 'null');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

export type Outcome = 'refused' | 'resumed' | 'diverged';

/**
 * The decoder's contract: it either throws a CheckpointError with a short
 * one-line message, or what it returns survives encode → decode unchanged,
 * and a run resumes from it for one step (refusing only by DivergenceError,
 * the engine's answer to weights that overflow).
 */
export function checkInvariant(bytes: Uint8Array, resume = true): Outcome {
  let ck: Checkpoint;
  try {
    ck = decodeCheckpoint(bytes);
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw new Error(`decoder threw ${String(e)} instead of a CheckpointError`, { cause: e });
    assert.ok(!/[\n\r\u2028\u2029]/.test(e.message), `one-line message: ${JSON.stringify(e.message).slice(0, 300)}`);
    assert.ok(e.message.length <= 400, `short message (${e.message.length} characters): ${e.message.slice(0, 300)}`);
    return 'refused';
  }
  // Inference decoding accepts whatever the full decode accepts, with the same weights.
  const light = decodeCheckpoint(bytes, { weightsOnly: true });
  assert.deepEqual(bytesOf(light.model.params.data), bytesOf(ck.model.params.data));

  // The model alone round-trips bit for bit.
  const again = decodeCheckpoint(encodeCheckpoint(ck.model, ck.train, null, ck.extra));
  assert.deepEqual(again.model.config, ck.model.config);
  assert.deepEqual(again.model.vocab.chars, ck.model.vocab.chars);
  assert.deepEqual(again.train, ck.train);
  assert.deepEqual(again.extra, ck.extra);
  assert.deepEqual(bytesOf(again.model.params.data), bytesOf(ck.model.params.data));
  if (!resume) return 'resumed';

  // A run continues from it (on a text of its own characters, in small windows), and saves again.
  const text = ck.model.vocab.chars.join('').repeat(Math.ceil(64 / ck.model.vocab.size) + 1);
  const session = buildSession({
    text,
    shape: ck.model.config,
    train: { ...ck.train, batch: 2, seq: 3 },
    init: { label: 'the checkpoint', checkpoint: ck },
    maxMemoryBytes: 256 * 1024 ** 2,
    kernels: tsKernels,
    threads: 1,
  });
  const saved = decodeCheckpoint(encodeCheckpoint(session.model, session.train, session.trainer, ck.extra));
  if (ck.trainState) {
    const { step, epoch, charsSeen, rng } = ck.trainState;
    assert.deepEqual({ step, epoch, charsSeen, rng }, pick(saved.trainState!));
    for (const [name, t] of saved.resumeTensors) {
      const before = ck.resumeTensors.get(name);
      if (name.startsWith('optim.') && before) assert.deepEqual(bytesOf(t), bytesOf(before), name);
    }
  }
  checkEngineState(session.trainer);
  try {
    session.trainer.step();
  } catch (e) {
    if (e instanceof DivergenceError) return 'diverged';
    throw e;
  }
  // An update that overflows finite weights is the step's divergence check's to catch, not the decoder's.
  if (!session.model.params.data.every(Number.isFinite)) return 'diverged';
  // What a resumed run saves, the tool loads again.
  decodeCheckpoint(encodeCheckpoint(session.model, session.train, session.trainer, ck.extra));
  return 'resumed';
}

const SUMS_OF_SQUARES = new Set(['exp_avg_sq', 'sum', 'square_avg']);

/** What a restored trainer holds is state a run could have reached: finite moments, non-negative sums of squares, exact counters. */
function checkEngineState(trainer: Trainer): void {
  for (const [slot, buf] of trainer.optimizer.slots) {
    for (let i = 0; i < buf.length; i++) {
      const v = buf[i]!;
      assert.ok(Number.isFinite(v) && (!SUMS_OF_SQUARES.has(slot) || v >= 0), `optimizer ${slot}[${i}] = ${v} after restore`);
    }
  }
  const { step, epoch, position, charsSeen } = trainer.state;
  for (const [k, v] of Object.entries({ step, epoch, position, charsSeen })) {
    // Exact after the CLI's largest --steps more.
    assert.ok(Number.isSafeInteger(v) && v >= 0 && Number.isSafeInteger(v + 1e12), `${k} = ${v} after restore`);
  }
}

function pick(s: { step: number; epoch: number; charsSeen: number; rng: readonly number[] }): object {
  return { step: s.step, epoch: s.epoch, charsSeen: s.charsSeen, rng: s.rng };
}

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Where each tensor's values are in a file, for value edits. */
export function tensorSpans(bytes: Uint8Array): { name: string; start: number; count: number }[] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const { header } = splitFile(bytes);
  const spans: { name: string; start: number; count: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = (v as { data_offsets: [number, number] }).data_offsets;
    spans.push({ name, start: 8 + n + b, count: (e - b) / 4 });
  }
  return spans;
}
