/**
 * The engine's run loop (src/engine/run/loop.ts): slicing changes nothing,
 * budgets and cadences hold, a resume through startRun is exact, and no
 * checkpoint handed to the sink holds diverged weights.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeCheckpoint } from '../../src/engine/checkpoint';
import { evaluateStream } from '../../src/engine/trainer';
import { RunLoop, type RunCheckpoint, type RunProgress, type RunSink, type RunValidation } from '../../src/engine/run/loop';
import { resolveRun, type RunInput } from '../../src/engine/run/resolve';
import { startRun } from '../../src/engine/run/start';
import { buildSession } from '../../src/engine/session';
import { tsKernels } from '../../src/engine/kernels';

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(30);

function recorder() {
  const progress: RunProgress[] = [];
  const validations: RunValidation[] = [];
  const checkpoints: RunCheckpoint[] = [];
  const sink: RunSink = {
    progress: (p) => progress.push(p),
    validation: (v) => validations.push(v),
    checkpoint: (c) => checkpoints.push({ ...c, bytes: c.bytes.slice() }),
  };
  return { progress, validations, checkpoints, sink };
}

function loopFor(input: RunInput, sink: RunSink, progressMs = 0, periodicValChars?: number): RunLoop {
  const r = resolveRun({ cell: 'gru', hidden: 12, layers: 2, dropout: 0.1, seq: 8, batch: 4, valFraction: 0.1, seed: 3, ...input }, null);
  const session = buildSession({ text: TEXT, shape: r.model, train: r.train, init: null, maxMemoryBytes: 1 << 30, kernels: tsKernels, threads: 1 });
  return new RunLoop(session, { limits: r.limits, progressMs, ...(periodicValChars ? { periodicValChars } : {}) }, sink);
}

describe('RunLoop', () => {
  it('one step per slice or all at once: the same weights, events and checkpoints', () => {
    const input = { steps: 25, validateEvery: 10, saveEvery: 7 };
    const a = recorder();
    const whole = loopFor(input, a.sink).runToEnd();
    const b = recorder();
    const sliced = loopFor(input, b.sink);
    let outcome = null;
    let slices = 0;
    while (!outcome) {
      outcome = sliced.runFor(0);
      slices++;
    }
    assert.ok(slices >= 25, `${slices} slices`);
    assert.equal(whole.reason, 'steps');
    assert.equal(outcome.reason, 'steps');
    assert.equal(outcome.step, 25);
    assert.deepEqual(a.progress.map((p) => [p.step, p.loss, p.lr]), b.progress.map((p) => [p.step, p.loss, p.lr]));
    assert.deepEqual(a.progress.map((p) => p.step), Array.from({ length: 25 }, (_, i) => i + 1), 'every step logged with progressMs 0');
    assert.deepEqual(a.validations.map((v) => v.step), [10, 20, 25]);
    assert.deepEqual(a.checkpoints.map((c) => [c.step, c.final]), [[7, false], [14, false], [21, false], [25, true]]);
    assert.deepEqual(b.checkpoints.map((c) => [c.step, c.final]), [[7, false], [14, false], [21, false], [25, true]]);
    assert.ok(Buffer.from(a.checkpoints.at(-1)!.bytes).equals(Buffer.from(b.checkpoints.at(-1)!.bytes)), 'the final checkpoints are byte-identical');
  });

  it('periodic validation reads at most periodicValChars of the held-out tail, the final one all of it', () => {
    const r = recorder();
    loopFor({ steps: 6, validateEvery: 3 }, r.sink, 0, 40).runToEnd();
    assert.deepEqual(r.validations.map((v) => [v.step, v.chars]), [[3, 39], [6, 39], [6, 134]]);
  });

  it('character and step budgets; stop() ends with a final validation and checkpoint', () => {
    const chars = recorder();
    const o = loopFor({ maxChars: 100 }, chars.sink).runToEnd();
    assert.equal(o.reason, 'chars');
    assert.equal(o.step, 4, '4 steps of 32 characters reach 100');
    const s = recorder();
    const loop = loopFor({ maxSteps: 0, validateEvery: 0 }, s.sink);
    assert.equal(loop.runFor(0), null);
    assert.equal(loop.runFor(0), null);
    const stopped = loop.stop();
    assert.equal(stopped.reason, 'stopped');
    assert.equal(stopped.step, 2);
    assert.deepEqual(s.checkpoints.map((c) => [c.step, c.final]), [[2, true]]);
    assert.deepEqual(s.validations.map((v) => v.step), [2]);
    assert.equal(loop.runFor(10), stopped, 'an ended loop stays ended');
  });

  it('a resume through startRun continues exactly: N + N steps equal 2N', () => {
    const settings = { cell: 'lstm', hidden: 10, layers: 2, dropout: 0.2, seq: 8, batch: 3, valFraction: 0.05, seed: 9, validateEvery: 0 };
    const full = recorder();
    startRun({ text: TEXT, settings: { ...settings, steps: 20 }, kernels: tsKernels }, full.sink).loop.runToEnd();
    const half = recorder();
    startRun({ text: TEXT, settings: { ...settings, steps: 10 }, kernels: tsKernels }, half.sink).loop.runToEnd();
    const rest = recorder();
    const resumed = startRun(
      { text: TEXT, settings: { steps: 10, validateEvery: 0 }, resume: { checkpoint: decodeCheckpoint(half.checkpoints.at(-1)!.bytes), label: 'half' }, kernels: tsKernels },
      rest.sink,
    );
    assert.equal(resumed.session.startStep, 10);
    const o = resumed.loop.runToEnd();
    assert.equal(o.step, 20);
    const a = decodeCheckpoint(full.checkpoints.at(-1)!.bytes);
    const b = decodeCheckpoint(rest.checkpoints.at(-1)!.bytes);
    assert.deepEqual(b.trainState, a.trainState);
    assert.ok(Buffer.from(b.model.params.data.buffer).equals(Buffer.from(a.model.params.data.buffer)), 'bit-identical weights');
  });

  it('divergence: the outcome says so, and every checkpoint handed over has finite weights and a finite held-out loss', () => {
    for (const optimizer of ['sgd', 'rmsprop', 'adagrad'] as const) {
      const r = recorder();
      const o = loopFor({ cell: 'rnn', activation: 'relu', hidden: 64, layers: 1, dropout: 0, optimizer, lr: 10, clip: 0, steps: 300, saveEvery: 1 }, r.sink).runToEnd();
      assert.equal(o.reason, 'diverged', optimizer);
      assert.match(o.divergence!.message, /^training diverged at step \d+ \(loss .*\): lower the learning rate or set gradient clipping$/);
      assert.doesNotMatch(o.divergence!.message, /kept|written/, 'the engine says nothing about files');
      assert.equal(o.savedStep, r.checkpoints.at(-1)?.step ?? null);
      for (const c of r.checkpoints) {
        const ck = decodeCheckpoint(c.bytes);
        const val = ck.model.vocab.encode(TEXT).tokens.subarray(Math.floor(TEXT.length * 0.9));
        assert.ok(Number.isFinite(evaluateStream(ck.model, val, tsKernels).loss), `${optimizer}: checkpoint of step ${c.step}`);
      }
    }
  });
});

describe('trainToFile (the Node API for scripts and experiments)', () => {
  it('fresh, then resumed for more steps: checkpoint and history saved, one history across both', async () => {
    const { trainToFile } = await import('../../src/cli/loop');
    const { loadCheckpoint } = await import('../../src/cli/checkpointFile');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-run-'));
    try {
      const out = path.join(dir, 'trial.safetensors');
      const settings = { cell: 'gru', hidden: 8, layers: 1, seq: 8, batch: 2, validateEvery: 5 };
      const first = await trainToFile({ text: TEXT, settings: { ...settings, steps: 10 }, out, kernels: tsKernels });
      assert.equal(first.outcome.reason, 'steps');
      assert.equal(first.outcome.step, 10);
      assert.equal(first.historyError, null);
      assert.equal(first.historyPath, path.join(dir, 'trial.history.jsonl'));
      const more = await trainToFile({ text: TEXT, settings: { steps: 5 }, init: { path: out, checkpoint: loadCheckpoint(out) }, out, kernels: tsKernels });
      assert.equal(more.outcome.step, 15);
      assert.equal(loadCheckpoint(out).trainState!.step, 15);
      assert.deepEqual(more.history.sessions.map((s) => s.startStep), [0, 10]);
      assert.deepEqual(more.history.validations.map((v) => v.step), [5, 10, 15]);
      assert.equal(more.history.steps.at(-1)!.step, 15);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
