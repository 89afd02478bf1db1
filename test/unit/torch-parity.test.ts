/**
 * Parity with PyTorch 1.13: every fixture in test/fixtures/torch/*.json holds
 * a model's state_dict, one batch, a non-zero initial state and what PyTorch
 * computed from them (see test/fixtures/make_torch_fixtures.py). The engine
 * must reproduce the loss, the probabilities, the final state, every gradient,
 * and the parameters after two steps of each optimizer.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CellType, OptimizerName, TrainConfig } from '../../src/engine/config';
import { DEFAULT_TRAIN } from '../../src/engine/config';
import { createNetwork, createParams } from '../../src/engine/models';
import type { StackedCellsNetwork } from '../../src/engine/models/stacked/network';
import { tsKernels } from '../../src/engine/kernels';
import { clipGradNorm, createOptimizer } from '../../src/engine/optim';

interface StepEntry {
  hyper: Record<string, unknown>;
  clip: number;
  losses: number[];
  grad_norms: number[];
  clip_coefs?: number[];
  params_after: Record<string, number[]>;
}

interface Fixture {
  torch_version: string;
  config: { cell: CellType; activation: 'tanh' | 'relu'; hidden: number; layers: number; vocab: number; batch: number; seq: number };
  params: Record<string, { shape: number[]; data: number[] }>;
  inputs: number[][];
  targets: number[][];
  h0: number[];
  c0?: number[];
  logits: number[];
  hT: number[];
  cT?: number[];
  loss: number;
  grads: Record<string, number[]>;
  steps: Record<string, StepEntry>;
}

const FIXTURE_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'torch');
const fixtureFiles = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json')).sort();

function loadFixture(file: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as Fixture;
}

const ABS = 1e-5;
const REL = 1e-4;

/** Asserts |a - e| <= ABS + REL·|e| elementwise, naming the first offender. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Number.isFinite(a), `${what}[${i}] is ${a}`);
    const excess = Math.abs(a - e) - (ABS + REL * Math.abs(e));
    if (excess > worst) {
      worst = excess;
      worstAt = i;
    }
  }
  assert.ok(worstAt < 0, `${what}[${worstAt}] = ${actual[worstAt]} but PyTorch has ${expected[worstAt]}`);
}

function assertScalarClose(actual: number, expected: number, what: string): void {
  assertClose([actual], [expected], what);
}

/** Builds params from the fixture's state_dict (by name) and a graph with the fixture's batch and initial state. */
function setUp(fx: Fixture, mutate?: (name: string, data: number[]) => number[]) {
  const { cell, activation, hidden, layers, vocab, batch: B, seq: T } = fx.config;
  const params = createParams({ cell, activation, hidden, layers, vocabSize: vocab }, 'f32');
  assert.deepEqual(
    params.tensors.map((t) => t.name).sort(),
    Object.keys(fx.params).sort(),
    'engine tensor names must be exactly the state_dict names',
  );
  for (const t of params.tensors) {
    const p = fx.params[t.name]!;
    assert.deepEqual([...t.shape], p.shape, `shape of ${t.name}`);
    params.view(t.name).set(mutate ? mutate(t.name, p.data) : p.data);
  }
  const graph = (createNetwork(params, { B: B, T: T, kernels: tsKernels }) as StackedCellsNetwork);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      graph.tokens[t * B + b] = fx.inputs[t]![b]!;
      graph.targets[t * B + b] = fx.targets[t]![b]!;
    }
  }
  const n = B * hidden;
  const setState = (): void => {
    graph.layers.forEach((s, l) => {
      s.h.set(fx.h0.slice(l * n, (l + 1) * n), 0);
      if (cell === 'lstm') s.c.set(fx.c0!.slice(l * n, (l + 1) * n), 0);
    });
  };
  setState();
  return { params, graph, setState, n };
}

function softmaxRows(logits: number[], V: number): number[] {
  const out = new Array<number>(logits.length);
  for (let o = 0; o < logits.length; o += V) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
    for (let v = 0; v < V; v++) out[o + v] = Math.exp(logits[o + v]! - max) / sum;
  }
  return out;
}

/** Maps the fixture's torch.optim hyperparameters onto our TrainConfig fields. */
function hyperFor(name: string, entry: StepEntry): { config: TrainConfig; lr: number } {
  const h = entry.hyper;
  const optimizer: OptimizerName = name.startsWith('sgd') ? 'sgd' : (name as OptimizerName);
  // Fields our optimizers do not implement must be at PyTorch's defaults.
  if ('dampening' in h) assert.equal(h.dampening, 0, 'dampening is not supported');
  if ('nesterov' in h) assert.equal(h.nesterov, false, 'nesterov is not supported');
  if ('maximize' in h) assert.equal(h.maximize, false, 'maximize is not supported');
  if ('amsgrad' in h) assert.equal(h.amsgrad, false, 'amsgrad is not supported');
  if ('centered' in h) assert.equal(h.centered, false, 'centered RMSprop is not supported');
  if ('lr_decay' in h) assert.equal(h.lr_decay, 0, 'Adagrad lr_decay is not supported');
  if ('initial_accumulator_value' in h) assert.equal(h.initial_accumulator_value, 0);
  // Our RMSprop hard-codes torch's default alpha.
  if (optimizer === 'rmsprop') assert.equal(h.alpha, 0.99, 'engine RMSprop uses alpha = 0.99');
  const betas = (h.betas as number[] | undefined) ?? [DEFAULT_TRAIN.beta1, DEFAULT_TRAIN.beta2];
  const config: TrainConfig = {
    ...DEFAULT_TRAIN,
    optimizer,
    lr: h.lr as number,
    momentum: (h.momentum as number | undefined) ?? 0,
    beta1: betas[0]!,
    beta2: betas[1]!,
    eps: (h.eps as number | undefined) ?? DEFAULT_TRAIN.eps,
    weightDecay: (h.weight_decay as number | undefined) ?? 0,
    clip: entry.clip,
  };
  return { config, lr: h.lr as number };
}

describe('PyTorch parity (test/fixtures/torch)', () => {
  it('has (at least) the six generated fixtures', () => {
    for (const f of ['gru_L1.json', 'gru_L2.json', 'lstm_L1.json', 'lstm_L2.json', 'rnn_relu_L2.json', 'rnn_tanh_L1.json']) {
      assert.ok(fixtureFiles.includes(f), `missing fixture ${f}`);
    }
  });

  for (const file of fixtureFiles) {
    const fx = loadFixture(file);
    const { cell, hidden: H, layers: L, vocab: V, batch: B, seq: T } = fx.config;

    describe(file, () => {
      it('forward: loss, probabilities and final state', () => {
        const { graph, n } = setUp(fx);
        const loss = graph.forward();
        assertScalarClose(loss, fx.loss, 'loss');
        assert.equal(graph.scored, T * B);
        assertClose(graph.probs, softmaxRows(fx.logits, V), 'probabilities');
        for (let l = 0; l < L; l++) {
          const s = graph.layers[l]!;
          assertClose(s.h.subarray(T * n, (T + 1) * n), fx.hT.slice(l * n, (l + 1) * n), `hT layer ${l}`);
          if (cell === 'lstm') {
            assertClose(s.c.subarray(T * n, (T + 1) * n), fx.cT!.slice(l * n, (l + 1) * n), `cT layer ${l}`);
          }
        }
        assert.equal(fx.hT.length, L * B * H);
      });

      it('backward: every gradient', () => {
        const { params, graph } = setUp(fx);
        params.grad.fill(0);
        graph.forward();
        graph.backward();
        for (const t of params.tensors) assertClose(params.gradView(t.name), fx.grads[t.name]!, `grad ${t.name}`);
      });

      for (const [name, entry] of Object.entries(fx.steps)) {
        it(`optimizer ${name}: parameters after two steps`, () => {
          const { params, graph, setState } = setUp(fx);
          const { config, lr } = hyperFor(name, entry);
          const opt = createOptimizer(params, config);
          for (let k = 0; k < 2; k++) {
            setState();
            params.grad.fill(0);
            const loss = graph.forward();
            assertScalarClose(loss, entry.losses[k]!, `${name} loss before step ${k + 1}`);
            graph.backward();
            const norm = clipGradNorm(params.grad, entry.clip);
            assertScalarClose(norm, entry.grad_norms[k]!, `${name} gradient norm before step ${k + 1}`);
            opt.step(lr);
          }
          assert.equal(opt.steps, 2);
          for (const t of params.tensors) {
            assertClose(params.view(t.name), entry.params_after[t.name]!, `${name}: ${t.name} after two steps`);
          }
        });
      }
    });
  }

  it('can fail: swapping two gates of an LSTM (or a different eps for Adagrad) is detected', () => {
    const fx = loadFixture('lstm_L1.json');
    const H = fx.config.hidden;
    // Swap the i and f blocks of weight_hh_l0: a gate-order bug.
    const { graph } = setUp(fx, (name, data) => {
      if (name !== 'rnn.weight_hh_l0') return data;
      const rows = H * H;
      return [...data.slice(rows, 2 * rows), ...data.slice(0, rows), ...data.slice(2 * rows)];
    });
    const loss = graph.forward();
    assert.throws(() => assertClose([loss], [fx.loss], 'loss'));

    const entry = fx.steps.adagrad!;
    const { params, graph: g2, setState } = setUp(fx);
    const { config, lr } = hyperFor('adagrad', entry);
    const opt = createOptimizer(params, { ...config, eps: 1e-2 });
    for (let k = 0; k < 2; k++) {
      setState();
      params.grad.fill(0);
      g2.forward();
      g2.backward();
      opt.step(lr);
    }
    assert.throws(() => {
      for (const t of params.tensors) assertClose(params.view(t.name), entry.params_after[t.name]!, t.name);
    });
  });
});
