/**
 * The experiment runner over the real engine, in process, on tiny runs:
 * halving survivors end exactly where an uninterrupted run of the same length
 * ends, an interrupted experiment resumes to the same results, and a folder
 * holding another experiment is refused.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint, type Checkpoint } from '../../src/engine/checkpoint';
import { resolveRun } from '../../src/engine/run';
import { EngineTrainer, runInput } from '../../src/cli/experiment/engineTrainer';
import { RESULTS_FILE, planExperiment, runExperiment, type ExperimentOutcome } from '../../src/cli/experiment/runner';
import type { RunTrainer, TrainRequest } from '../../src/cli/experiment/trainer';
import { Output } from '../../src/cli/output';
import type { TrainReporter } from '../../src/cli/progress';
import type { ResultRow } from '../../src/shared/experiment';
import { parseHistory, type RunHistory } from '../../src/shared/history';
import { makeText } from './helpers/text';

class SilentOutput extends Output {
  constructor() {
    super(false);
  }
  override event(): void {}
  override info(): void {}
  override result(): void {}
}

/** Counts the checkpoints it is told about; reports nothing. */
class CountingReporter implements TrainReporter {
  constructor(private readonly onCheckpoint: () => void = () => {}) {}
  start(): void {}
  step(): void {}
  val(): void {}
  checkpoint(): void {
    this.onCheckpoint();
  }
  finish(): void {}
  done(): void {}
}

let root = '';
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-experiment-'));
  fs.writeFileSync(path.join(root, 'notes.txt'), makeText(3000));
});
after(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

let count = 0;
function experimentFile(obj: unknown): string {
  const file = path.join(root, `e${count++}.rnnlab.json`);
  fs.writeFileSync(file, JSON.stringify(obj, null, 2));
  return file;
}

// Two layers, so dropout (and with it the random state a resume must carry on) is in play.
const BASE = { cell: 'lstm', hidden: 12, layers: 2, seq: 8, batch: 4, dropout: 0.1 };

/** `stopAfterCheckpoints`: stop cleanly once this many checkpoints were saved (each run polls after every step). */
async function run(file: string, out: string, opts: { resume?: boolean; saveEvery?: number; stopAfterCheckpoints?: number; trainer?: EngineTrainer } = {}): Promise<ExperimentOutcome> {
  const trainer = opts.trainer ?? new EngineTrainer({ sliceMs: 0 });
  const plan = planExperiment(file, trainer, { yes: false, maxMemoryBytes: 2 ** 30 });
  let checkpoints = 0;
  return runExperiment(plan, {
    out,
    resume: opts.resume ?? false,
    saveEvery: opts.saveEvery ?? 0,
    saveSeconds: Infinity,
    maxMemoryBytes: 2 ** 30,
    output: new SilentOutput(),
    trainer,
    reporter: () => new CountingReporter(() => checkpoints++),
    shouldStop: () => opts.stopAfterCheckpoints !== undefined && checkpoints >= opts.stopAfterCheckpoints,
  });
}

function readRows(dir: string): ResultRow[] {
  return fs.readFileSync(path.join(dir, RESULTS_FILE), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ResultRow);
}

/** A row without what depends on the machine's speed. */
function untimed(r: ResultRow): Omit<ResultRow, 'seconds' | 'charsPerSec'> {
  const { seconds: _s, charsPerSec: _c, ...rest } = r;
  return rest;
}

function checkpointOf(dir: string, id: string): Checkpoint {
  return decodeCheckpoint(fs.readFileSync(path.join(dir, `${id}.safetensors`)));
}

function assertSameTraining(a: Checkpoint, b: Checkpoint, what: string): void {
  assert.deepEqual(a.trainState, b.trainState, `${what}: train state`);
  assert.ok(Buffer.from(a.model.params.data.buffer).equals(Buffer.from(b.model.params.data.buffer)), `${what}: weights differ`);
  assert.deepEqual([...a.resumeTensors.keys()].sort(), [...b.resumeTensors.keys()].sort());
  for (const [name, t] of a.resumeTensors) assert.ok(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(b.resumeTensors.get(name)!.buffer, b.resumeTensors.get(name)!.byteOffset, b.resumeTensors.get(name)!.byteLength)), `${what}: ${name} differs`);
}

function history(dir: string, id: string): RunHistory {
  return parseHistory(fs.readFileSync(path.join(dir, `${id}.history.jsonl`), 'utf8'));
}

/** The training loss at every step two histories both logged (the loop logs at most ~10 steps a second, and always a session's first and last). */
function commonLosses(a: RunHistory, b: RunHistory): [number, number, number][] {
  const other = new Map(b.steps.map((p) => [p.step, p.loss]));
  return a.steps.filter((p) => other.has(p.step)).map((p) => [p.step, p.loss, other.get(p.step)!]);
}

describe('experiment runner', () => {
  it('halving: survivors continue from their checkpoints and end exactly as uninterrupted runs of the same length', async () => {
    const common = { text: 'notes.txt', valFraction: 0.1, budget: { steps: 12 }, base: BASE, grid: { lr: [0.003, 0.01, 0.03] }, seeds: [1] };
    const halvingDir = path.join(root, 'halving');
    const straightDir = path.join(root, 'straight');
    const halving = await run(experimentFile({ ...common, halving: { rungs: 2, keep: 0.5 } }), halvingDir);
    const straight = await run(experimentFile(common), straightDir);
    assert.equal(halving.interrupted, false);
    assert.equal(halving.rows.length, 3);
    const stopped = halving.rows.filter((r) => r.stoppedAt !== null);
    const survivors = halving.rows.filter((r) => r.stoppedAt === null);
    assert.equal(survivors.length, 2, 'ceil(3 × 0.5) continue');
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0]!.stoppedAt, 1);
    assert.equal(stopped[0]!.steps, 6, 'the first rung is keep × the budget');
    // The one stopped is the worst at rung 1; the survivors were better there.
    const rung1 = (id: string): number => history(halvingDir, id).validations.find((v) => v.step === 6)!.loss;
    for (const s of survivors) assert.ok(rung1(s.id) <= rung1(stopped[0]!.id));
    for (const s of survivors) {
      const twin = straight.rows.find((r) => r.id === s.id)!;
      assert.deepEqual(untimed(s), untimed(twin), `${s.id}: the row of the halving run equals the uninterrupted run's`);
      assertSameTraining(checkpointOf(halvingDir, s.id), checkpointOf(straightDir, s.id), s.id);
      const common = commonLosses(history(halvingDir, s.id), history(straightDir, s.id));
      assert.ok(common.some(([step]) => step === 12) && common.some(([step]) => step === 1), `${s.id}: both histories log the first and the last step`);
      for (const [step, a, b] of common) assert.equal(a, b, `${s.id}: the same loss at step ${step}`);
      // One history across the rungs: the rung-1 session, then the one that continued it at step 6.
      assert.deepEqual(history(halvingDir, s.id).sessions.map((x) => x.startStep), [0, 6]);
      // What trained is what the row says, as the run module resolves it for `rnn-lab train`.
      const ck = checkpointOf(halvingDir, s.id);
      const { cell, activation, hidden, layers, ...train } = s.settings;
      assert.deepEqual(ck.train, { ...train, valFraction: 0.1 });
      assert.deepEqual([ck.model.config.cell, ck.model.config.activation, ck.model.config.hidden, ck.model.config.layers], [cell, activation, hidden, layers]);
      const resolved = resolveRun(runInput(s.settings, 0.1), null);
      assert.deepEqual(resolved.train, ck.train);
    }
    assert.equal(survivors[0]!.steps, 12);
    assert.ok(survivors.every((r) => r.valLoss !== null && Number.isFinite(r.valLoss) && Math.abs(r.valBpc! - r.valLoss / Math.LN2) < 1e-12));
    // results.jsonl holds the rows in the order they finished: the stopped run after rung 1, then the survivors.
    assert.deepEqual(readRows(halvingDir).map((r) => r.id), [stopped[0]!.id, ...survivors.map((r) => r.id)]);
    const html = fs.readFileSync(path.join(halvingDir, 'report.html'), 'utf8');
    for (const r of halving.rows) assert.ok(html.includes(r.id));
  });

  it('an interrupted experiment resumes: finished runs are kept, the interrupted one continues from its checkpoint', async () => {
    const spec = { text: ['notes.txt'], valFraction: 0.1, budget: { steps: 8 }, base: BASE, grid: { cell: ['rnn', 'lstm', 'gru'] }, seeds: [3] };
    const file = experimentFile(spec);
    const whole = await run(experimentFile(spec), path.join(root, 'whole'));
    const dir = path.join(root, 'interrupted');
    // Stop in the middle of the second run, after its checkpoint at step 3 (the first run saved at 3, 6 and 8).
    const first = await run(file, dir, { saveEvery: 3, stopAfterCheckpoints: 3 + 1 });
    assert.equal(first.interrupted, true);
    assert.equal(first.rows.length, 1);
    assert.equal(checkpointOf(dir, whole.rows[1]!.id).trainState!.step, 3, 'the stopped run saved where it stopped');
    assert.equal(fs.existsSync(path.join(dir, `${whole.rows[2]!.id}.safetensors`)), false, 'the third run has not begun');

    const calls: TrainRequest[] = [];
    const recording = new EngineTrainer({ sliceMs: 0 });
    const train = recording.train.bind(recording);
    recording.train = (req) => {
      calls.push(req);
      return train(req);
    };
    await assert.rejects(() => run(file, dir), /already holds an experiment: add --resume/);
    const resumed = await run(file, dir, { resume: true, saveEvery: 3, trainer: recording });
    assert.equal(resumed.interrupted, false);
    assert.deepEqual(calls.map((c) => [c.id, c.checkpointIn !== null]), [[whole.rows[1]!.id, true], [whole.rows[2]!.id, false]], 'the finished run is not redone');
    assert.deepEqual(readRows(dir).map(untimed), whole.rows.map(untimed));
    for (const r of whole.rows) assertSameTraining(checkpointOf(dir, r.id), checkpointOf(path.join(root, 'whole'), r.id), r.id);
  });

  it('halving over three rungs with a scripted trainer: ⌈n·keep⌉ continue, a diverged run never does', async () => {
    // Each run's validation loss is set by its lr (lower is better); lr 0.003 and above diverge at step 3.
    const engine = new EngineTrainer();
    const calls: [string, number][] = [];
    const scripted: RunTrainer = {
      sizes: engine.sizes,
      families: engine.families,
      corpus: (text, f) => engine.corpus(text, f),
      refusal: () => null,
      train: async (req) => {
        const steps = (req.until as { steps: number }).steps;
        calls.push([req.id, steps]);
        const diverged = req.settings.lr >= 0.003 ? 3 : null;
        fs.writeFileSync(req.out, 'checkpoint');
        const loss = diverged === null ? req.settings.lr * 100 + 1 / steps : null;
        return { steps: diverged ?? steps, chars: steps * 32, seconds: 0.5, charsPerSec: 64, valLoss: loss, valBpc: loss === null ? null : loss / Math.LN2, params: 10, interrupted: false, diverged, saved: true };
      },
    };
    const file = experimentFile({ text: 'notes.txt', budget: { steps: 16 }, base: BASE, grid: { lr: [0.005, 0.001, 0.004, 0.003, 0.002] }, halving: { rungs: 3, keep: 0.5 } });
    const plan = planExperiment(file, scripted, { yes: false, maxMemoryBytes: 2 ** 30 });
    assert.deepEqual(plan.rungs, [{ steps: 4 }, { steps: 8 }, { steps: 16 }]);
    const out = path.join(root, 'scripted');
    const result = await runExperiment(plan, { out, resume: false, saveEvery: 0, saveSeconds: Infinity, maxMemoryBytes: 2 ** 30, output: new SilentOutput(), trainer: scripted, reporter: () => new CountingReporter(), shouldStop: () => false });
    const id = (lr: number): string => `lstm-lr${lr}-s42`;
    // Rung 1: all five, and ⌈5 · 0.5⌉ = 3 places, but only two runs did not diverge; rung 2: ⌈2 · 0.5⌉ = 1 continues.
    assert.deepEqual(calls, [
      [id(0.005), 4], [id(0.001), 4], [id(0.004), 4], [id(0.003), 4], [id(0.002), 4],
      [id(0.001), 8], [id(0.002), 8],
      [id(0.001), 16],
    ]);
    const byId = new Map(result.rows.map((r) => [r.id, r]));
    assert.deepEqual([...byId.keys()], [id(0.005), id(0.004), id(0.003), id(0.002), id(0.001)], 'rows in the order the runs finished');
    for (const lr of [0.005, 0.004, 0.003]) {
      assert.deepEqual([byId.get(id(lr))!.diverged, byId.get(id(lr))!.stoppedAt, byId.get(id(lr))!.valLoss], [3, 1, null], `lr ${lr}`);
    }
    assert.deepEqual([byId.get(id(0.002))!.stoppedAt, byId.get(id(0.002))!.steps, byId.get(id(0.002))!.diverged], [2, 8, null]);
    assert.deepEqual([byId.get(id(0.001))!.stoppedAt, byId.get(id(0.001))!.steps], [null, 16]);
  });

  it('character and time budgets: a run stops at the first step that reaches them, counted over rungs', async () => {
    // batch 4 × seq 8 = 32 characters a step: 200 characters end at step 7; halving's first rung (100) at step 4.
    const chars = await run(experimentFile({ text: 'notes.txt', budget: { chars: 200 }, base: BASE, grid: { lr: [0.01, 0.02] }, halving: { rungs: 2, keep: 0.5 } }), path.join(root, 'chars'));
    assert.deepEqual(chars.rows.map((r) => [r.steps, r.chars, r.stoppedAt]), [[4, 128, 1], [7, 224, null]]);
    const minutes = await run(experimentFile({ text: 'notes.txt', budget: { minutes: 0.002 }, base: BASE }), path.join(root, 'minutes'));
    const r = minutes.rows[0]!;
    assert.ok(r.seconds >= 0.12 && r.steps > 0, `${r.seconds} s, ${r.steps} steps`);
    assert.equal(r.chars, r.steps * 32);
  });

  it('refuses a folder that holds another experiment', async () => {
    const dir = path.join(root, 'other');
    await run(experimentFile({ text: 'notes.txt', budget: { steps: 2 }, base: BASE }), dir);
    await assert.rejects(() => run(experimentFile({ text: 'notes.txt', budget: { steps: 3 }, base: BASE }), dir, { resume: true }), /holds another experiment/);
  });

  it('refuses before anything trains: a missing text file, a run that cannot fit the text', () => {
    const trainer = new EngineTrainer();
    assert.throws(() => planExperiment(experimentFile({ text: ['notes.txt', 'gone.txt'], budget: { steps: 1 } }), trainer, { yes: false, maxMemoryBytes: 2 ** 30 }), /text\[1\]: no such file 'gone\.txt' \(paths are relative to the experiment file's folder/);
    assert.throws(() => planExperiment(experimentFile({ text: 'notes.txt', budget: { steps: 1 }, runs: [{ batch: 4 }, { batch: 64, seq: 100 }] }), trainer, { yes: false, maxMemoryBytes: 2 ** 30 }), /runs\[1\]: run lstm-batch64-seq100-s42: the training text has 2850 characters but one batch needs at least 6401/);
    const many = { text: 'notes.txt', budget: { steps: 1 }, grid: { lr: Array.from({ length: 51 }, (_, i) => 0.001 * (i + 1)) }, seeds: [1, 2] };
    assert.throws(() => planExperiment(experimentFile(many), trainer, { yes: false, maxMemoryBytes: 2 ** 30 }), /has 102 runs, more than 100: add --yes/);
    assert.equal(planExperiment(experimentFile(many), trainer, { yes: true, maxMemoryBytes: 2 ** 30 }).runs.length, 102);
  });

  it('checks every run with the run module\'s resolver, named as the file names the settings', () => {
    const trainer = new EngineTrainer();
    const plan = planExperiment(experimentFile({ text: 'notes.txt', budget: { steps: 4 }, base: BASE }), trainer, { yes: false, maxMemoryBytes: 2 ** 30 });
    const settings = plan.runs[0]!.settings;
    assert.equal(trainer.refusal(settings, plan.corpus, 2 ** 30), null);
    // What the expansion would never produce, the resolver still refuses, as `rnn-lab train` does.
    assert.equal(
      trainer.refusal({ ...settings, layers: 1 }, plan.corpus, 2 ** 30),
      'dropout 0.1 has no effect with layers 1: dropout acts between stacked layers; use layers 2 or more, or leave out dropout',
    );
    assert.match(trainer.refusal({ ...settings, optimizer: 'adam', momentum: 0.5 }, plan.corpus, 2 ** 30)!, /^momentum applies to optimizer sgd and rmsprop only/);
  });
});
