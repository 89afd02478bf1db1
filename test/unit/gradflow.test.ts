/**
 * Gradient-flow snapshots from the real trainer worker (the built bundle,
 * driven through WorkerClient like the extension host): `train/gradflow`
 * events arrive every `gradflowEvery` steps with consistent shapes, and the
 * snapshot helper traces every error of a short window.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createModel, DEFAULT_TRAIN, tsKernels, Vocab } from '../../src/engine';
import { chooseRows, gradFlowWindow } from '../../src/engine/gradflowSnapshot';
import { traceGradientFlow } from '../../src/engine/instrument';
import { trainerClient, type TrainerClient } from '../../src/shared/workerClient';
import type { TrainerEvent, TrainGradflowEvent } from '../../src/shared/trainerProtocol';

const root = path.resolve(__dirname, '..', '..');
const TRAINER = path.join(root, 'dist', 'trainer-worker.js');
const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);

before(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
});

describe('gradient-flow snapshots', () => {
  const clients: TrainerClient[] = [];
  after(async () => {
    for (const c of clients) await c.dispose();
  });

  it('the trainer worker posts train/gradflow every N steps with consistent shapes', async () => {
    const events: TrainerEvent[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const client = trainerClient(TRAINER, (e) => {
      events.push(e);
      if (e.kind === 'train/state' && (e.state === 'done' || e.state === 'failed')) done();
    }, () => done());
    clients.push(client);
    await client.request({
      kind: 'train/start', runId: 'gf', text: TEXT,
      model: { cell: 'rnn', activation: 'tanh', hidden: 12, layers: 2 },
      train: { ...DEFAULT_TRAIN, batch: 3, seq: 20, lr: 1e-2, clip: 0.5, valFraction: 0.1 },
      maxSteps: 40, maxMinutes: 0, valEvery: 0, checkpointSeconds: 3600, maxMemoryBytes: 1024 ** 3, metadata: {}, gradflowEvery: 10,
    });
    await finished;
    assert.equal(events.find((e) => e.kind === 'train/state' && e.state === 'failed'), undefined);
    const snaps = events.filter((e): e is TrainGradflowEvent => e.kind === 'train/gradflow');
    assert.ok(snaps.length >= 3 && snaps.length <= 5, `${snaps.length} snapshots in 40 steps at every 10`);
    assert.equal(snaps[0]!.step, 1, 'the first step is traced at once');
    const progress = events.filter((e) => e.kind === 'train/progress');
    for (const s of snaps) {
      assert.equal(s.runId, 'gf');
      assert.equal(s.T, 20);
      assert.equal([...s.text].length, 21, 'T steps read T + 1 characters');
      assert.ok(TEXT.includes(s.text), 'the window is a piece of the training text');
      assert.equal(s.hGradNorm.length, 2);
      assert.equal(s.wContribution.length, 2);
      for (const l of [0, 1]) {
        assert.equal(s.hGradNorm[l]!.length, 20);
        assert.equal(s.wContribution[l]!.length, 20);
        assert.equal(s.rowH[l]!.length, s.rowTs.length);
        assert.ok(s.rowH[l]!.every((r) => r.length === 20) && s.rowW[l]!.every((r) => r.length === 20));
      }
      assert.deepEqual(s.rowTs, Array.from({ length: 20 }, (_, t) => t), 'a short window traces every error e_t');
      // Nothing flows forward in time: ∂e_t/∂h_k = 0 for k > t, and > 0 at k = t.
      s.rowTs.forEach((t, i) => {
        assert.ok(s.rowH[1]![i]![t]! > 0);
        assert.ok(s.rowH[1]![i]!.slice(t + 1).every((v) => v === 0));
      });
      assert.deepEqual(Object.keys(s.paramGradNorms).sort(), Object.keys(s.windowParamNorms).sort());
      assert.ok(Object.keys(s.paramGradNorms).includes('rnn.weight_hh_l1'));
      // The global norm is the norm of the per-parameter norms (before clipping); clipping caps it at the threshold.
      const global = Math.hypot(...Object.values(s.paramGradNorms));
      assert.ok(Math.abs(global - s.gradNorm) / s.gradNorm < 1e-3, `‖per-parameter norms‖ ${global} vs global ${s.gradNorm}`);
      assert.equal(s.clipped, s.gradNorm > 0.5);
      assert.ok(s.clippedNorm <= s.gradNorm && (s.clipped ? Math.abs(s.clippedNorm - 0.5) < 1e-9 : s.clippedNorm === s.gradNorm));
      const p = progress.find((e) => e.kind === 'train/progress' && e.step === s.step);
      if (p && p.kind === 'train/progress') assert.equal(p.gradNorm, s.gradNorm, 'the same step as the progress event');
      JSON.stringify(s); // JSON-ready (history.json)
    }
  });

  it('gradFlowWindow: rows equal traceGradientFlow per error, and a time budget keeps T-1 and T/2', () => {
    const text = 'abcabcabdabcabcabd'.repeat(3);
    const vocab = Vocab.fromText(text);
    const { model } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 8, layers: 1 }, vocab, 3);
    const w = gradFlowWindow(model, text.slice(0, 31), tsKernels);
    assert.equal(w.T, 30);
    const g = traceGradientFlow(model, text.slice(0, 31), tsKernels, 17);
    w.rowH[0]![17]!.forEach((v, k) => assert.ok(Math.abs(v - g.hGradNorm[0]![k]!) <= 1e-3 * Math.abs(g.hGradNorm[0]![k]!) + 1e-30));
    assert.deepEqual(chooseRows(30, 2), [15, 29]);
    const few = chooseRows(64, 6);
    assert.ok(few.includes(63) && few.includes(32) && few.length >= 6 && few.length <= 7);
    const bounded = gradFlowWindow(model, text.slice(0, 31), tsKernels, { budgetMs: 0 });
    assert.deepEqual(bounded.rowTs, [15, 29]);
  });
});
