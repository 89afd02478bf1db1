/**
 * The review the editor shows before an experiment of an untrusted workspace
 * trains: the run count, the budget per run and in all (halving trains only
 * the survivors of each rung further), and the run with the largest training
 * memory, by the engine's own estimate.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { estimateTrainingBytes } from '../../src/engine/memory';
import { EngineTrainer } from '../../src/cli/experiment/engineTrainer';
import { planExperiment } from '../../src/cli/experiment/runner';
import { runTrainingBytes } from '../../src/shared/experiment/engineTrainer';
import { reviewPlan, totalBudget } from '../../src/shared/experiment/review';
import { makeText } from './helpers/text';

let root = '';
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-review-'));
  fs.writeFileSync(path.join(root, 'notes.txt'), makeText(3000));
});
after(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function review(spec: unknown) {
  const file = path.join(root, 'e.rnnlab.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  const plan = planExperiment(file, new EngineTrainer(), { yes: true, maxMemoryBytes: 2 ** 31 });
  return { plan, review: reviewPlan(plan, (run) => runTrainingBytes(run.settings, plan.corpus.vocabSize)) };
}

describe('experiment review', () => {
  it('adds the budget up over the rungs, each rung trained by the survivors of the one before', () => {
    // 6 runs, rungs ending at 25, 50, 100 steps; 3 then 2 runs continue.
    assert.deepEqual(totalBudget(6, [{ steps: 25 }, { steps: 50 }, { steps: 100 }], 0.5), { steps: 6 * 25 + 3 * 25 + 2 * 50 });
    assert.deepEqual(totalBudget(4, [{ minutes: 5 }], 1), { minutes: 20 });
    assert.deepEqual(totalBudget(3, [{ chars: 1000 }], 1), { chars: 3000 });
  });

  it('names the run count, the budgets, the text and the run of the largest training memory', () => {
    const { plan, review: r } = review({
      name: 'sizes',
      text: 'notes.txt',
      budget: { steps: 40 },
      base: { cell: 'lstm', hidden: 8, layers: 1, seq: 8, batch: 4 },
      grid: { hidden: [8, 32, 16] },
      seeds: [1, 2],
    });
    assert.equal(r.name, 'sizes');
    assert.equal(r.runs, 6);
    assert.equal(r.perRun, '40 steps');
    assert.equal(r.inAll, '240 steps');
    assert.deepEqual(r.textFiles, [path.join(root, 'notes.txt')]);
    assert.equal(r.fingerprint, plan.fingerprint);
    const widest = plan.runs.find((x) => x.settings.hidden === 32 && x.id === r.largest.id);
    assert.ok(widest, `the largest is a hidden-32 run, not ${r.largest.id}`);
    assert.equal(r.largest.params, widest.params);
    // The engine's estimate of that run, the one the memory limit is checked against.
    const expected = estimateTrainingBytes({ ...widest.settings, vocabSize: plan.corpus.vocabSize } as never, widest.settings as never);
    assert.equal(r.largest.bytes, expected);
    assert.ok(plan.runs.every((x) => runTrainingBytes(x.settings, plan.corpus.vocabSize) <= r.largest.bytes));
  });

  it('with halving, fewer steps in all than every run training the whole budget', () => {
    const { review: r } = review({
      text: 'notes.txt',
      budget: { steps: 100 },
      base: { cell: 'rnn', hidden: 8, layers: 1, seq: 8, batch: 4 },
      grid: { lr: [0.001, 0.002, 0.004, 0.008] },
      halving: { rungs: 2, keep: 0.5 },
    });
    assert.equal(r.perRun, '100 steps');
    assert.equal(r.inAll, `${4 * 50 + 2 * 50} steps`);
  });
});
