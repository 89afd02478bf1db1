import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import { DataError, DivergenceError } from '../../src/engine/errors';
import { createNetwork, createParams } from '../../src/engine/models';
import type { StackedCellsNetwork } from '../../src/engine/models/stacked/network';
import { tsKernels } from '../../src/engine/kernels';
import { gptEvaluationWindows } from '../../src/engine/models/blocks/family';
import { createModel, type Model } from '../../src/engine/model';
import { createOptimizer } from '../../src/engine/optim';
import { Rng } from '../../src/engine/rng';
import { Stepper } from '../../src/engine/sampling';
import { learningRate } from '../../src/engine/schedule';
import { evaluateStream, splitTokens, streamLayout, Trainer, type StepResult } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { centralDifference } from './helpers/numeric';

const CELLS: CellType[] = ['rnn', 'lstm', 'gru'];
/** The block families (DESIGN §2b), in the tests that hold for every family. */
const BLOCKS: CellType[] = ['gpt', 'mingru', 'minlstm'];

/** The first `n` bytes of tinyshakespeare (ASCII), read in place from the shared data folder. */
function shakespeare(n: number): string {
  const fd = openSync('/work/shared/data/tinyshakespeare.txt', 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function assertBitwiseEqual(a: Float32Array | Float64Array, b: Float32Array | Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths differ`);
  const x = bytesOf(a);
  const y = bytesOf(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) assert.fail(`${what}: first difference at float ${Math.floor(i / 4)} (${a[Math.floor(i / 4)]} vs ${b[Math.floor(i / 4)]})`);
  }
}

/** gpt's own settings for a window of `seq`: 2 heads, the context the window. */
function own(cell: CellType, seq: number): { heads?: number; context?: number } {
  return cell === 'gpt' ? { heads: 2, context: seq } : {};
}

function makeTrainer(text: string, cell: CellType, layers: number, hidden: number, train: TrainConfig) {
  const vocab = Vocab.fromText(text);
  const tokens = vocab.encode(text).tokens;
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers, ...own(cell, train.seq) }, vocab, train.seed);
  return { trainer: new Trainer(model, train, tokens, tsKernels, rng), model, tokens, vocab };
}

describe('Trainer: resume from a checkpoint is bit-exact', () => {
  const text = shakespeare(300);
  const config: TrainConfig = {
    ...DEFAULT_TRAIN,
    batch: 3,
    seq: 7,
    dropout: 0.2,
    optimizer: 'adam',
    lr: 1e-2,
    clip: 0.5,
    schedule: 'cosine',
    warmupSteps: 3,
    decaySteps: 40,
    lrMinFraction: 0.1,
    seed: 11,
  };

  for (const cell of [...CELLS, ...BLOCKS]) {
    it(`${cell}, 2 layers, dropout, adam + clip, across an epoch boundary`, () => {
      const { trainer: probe } = makeTrainer(text, cell, 2, 12, config);
      const perEpoch = probe.stepsPerEpoch;
      assert.equal(perEpoch, Math.floor(Math.floor((text.length - 1) / 3) / 7));
      // Resume mid-epoch with the boundary ahead, exactly at the boundary, and in the second epoch.
      for (const N of [perEpoch - 4, perEpoch, perEpoch + 2]) {
        assert.ok(2 * N > perEpoch, 'the run must cross an epoch boundary');
        const { trainer: straight, model: m1 } = makeTrainer(text, cell, 2, 12, config);
        const straightResults: StepResult[] = [];
        for (let k = 0; k < 2 * N; k++) straightResults.push(straight.step());
        assert.ok(straightResults.some((r) => r.clipped), 'clipping should trigger at least once');

        const { trainer: first, model: m2, tokens } = makeTrainer(text, cell, 2, 12, config);
        for (let k = 0; k < N; k++) first.step();
        const file = encodeCheckpoint(m2, config, first);
        // Training on after saving must not affect the saved bytes.
        const ck = decodeCheckpoint(file.slice());
        assert.ok(ck.trainState);
        assert.deepEqual(ck.train, config);
        const resumed = new Trainer(ck.model, ck.train, tokens, tsKernels, new Rng(999));
        resumed.restore(ck.trainState, ck.resumeTensors);
        const resumedResults: StepResult[] = [];
        for (let k = 0; k < N; k++) resumedResults.push(resumed.step());

        assertBitwiseEqual(ck.model.params.data, m1.params.data, `${cell} N=${N}: weights`);
        assert.deepEqual(resumedResults, straightResults.slice(N), `${cell} N=${N}: step results`);
        assert.deepEqual(resumed.state, straight.state, `${cell} N=${N}: train state`);
        for (const [slot, buf] of straight.optimizer.slots) {
          assertBitwiseEqual(resumed.optimizer.slots.get(slot)!, buf, `${cell} N=${N}: optimizer ${slot}`);
        }
        assert.equal(resumed.state.epoch, Math.floor((2 * N) / perEpoch));
      }
    });
  }

  it('the test can fail: resuming without the optimizer moments or the RNG differs', () => {
    const N = 6;
    const { trainer: straight, model: m1 } = makeTrainer(text, 'lstm', 2, 12, config);
    for (let k = 0; k < 2 * N; k++) straight.step();
    const { trainer: first, model: m2, tokens } = makeTrainer(text, 'lstm', 2, 12, config);
    for (let k = 0; k < N; k++) first.step();
    const ck = decodeCheckpoint(encodeCheckpoint(m2, config, first));
    // Drop the moments: Adam restarts from zero and the weights diverge.
    const noMoments = new Map([...ck.resumeTensors].filter(([name]) => !name.startsWith('optim.')));
    const resumed = new Trainer(ck.model, ck.train, tokens, tsKernels, new Rng(1));
    resumed.restore(ck.trainState!, noMoments);
    for (let k = 0; k < N; k++) resumed.step();
    assert.notDeepEqual(bytesOf(ck.model.params.data), bytesOf(m1.params.data));
  });
});

describe('Trainer: windows and carried state (batch 1, no validation split)', () => {
  it('step k reads chars [kT, (k+1)T) and predicts [kT+1, (k+1)T], state carried then reset at epoch end', () => {
    const text = shakespeare(64);
    const vocab = Vocab.fromText(text);
    const all = vocab.encode(text).tokens;
    const { train, val } = splitTokens(all, 0);
    assert.equal(train.length, all.length);
    assert.equal(val.length, 0);
    const T = 5;
    const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 1, seq: T, dropout: 0, optimizer: 'sgd', lr: 0.5, clip: 0, valFraction: 0 };
    const { model, rng } = createModel({ cell: 'gru', activation: 'tanh', hidden: 8, layers: 2 }, vocab, 3);
    const trainer = new Trainer(model, config, train, tsKernels, rng);
    const perEpoch = Math.floor((train.length - 1) / T);
    assert.equal(trainer.stepsPerEpoch, perEpoch);

    // A shadow graph on a copy of the weights, carrying its own state, must
    // see exactly the loss the trainer reports for each window.
    const shadowParams = createParams(model.config, 'f32');
    const shadow = (createNetwork(shadowParams, { B: 1, T: T, kernels: tsKernels }) as StackedCellsNetwork);
    shadow.resetState();
    for (const c of trainer.graph.carried) assert.ok(c.data.every((v) => v === 0), 'starts from a zero state');

    for (let k = 0; k < 2 * perEpoch + 2; k++) {
      const w = k % perEpoch;
      shadowParams.data.set(model.params.data);
      for (let t = 0; t < T; t++) {
        shadow.tokens[t] = train[w * T + t]!;
        shadow.targets[t] = train[w * T + t + 1]!;
      }
      const expectedLoss = shadow.forward();
      const r = trainer.step();
      assert.deepEqual([...trainer.graph.tokens], [...train.subarray(w * T, (w + 1) * T)], `tokens of step ${k}`);
      assert.deepEqual([...trainer.graph.targets], [...train.subarray(w * T + 1, (w + 1) * T + 1)], `targets of step ${k}`);
      assert.equal(r.loss, expectedLoss, `loss of step ${k} from the carried state`);
      assert.equal(r.epoch, Math.floor((k + 1) / perEpoch));
      const endOfEpoch = (k + 1) % perEpoch === 0;
      assert.equal(trainer.state.position, endOfEpoch ? 0 : w + 1);
      for (let l = 0; l < shadow.layers.length; l++) {
        const H = shadow.H;
        const carried = trainer.graph.carried.find((c) => c.name === `h_l${l}`)!.data;
        if (endOfEpoch) assert.ok(carried.every((v) => v === 0), `state reset after epoch end (step ${k})`);
        else {
          assert.deepEqual([...carried], [...shadow.layers[l]!.h.subarray(T * H, (T + 1) * H)], `carried state after step ${k}`);
          assert.ok(carried.some((v) => v !== 0));
        }
      }
      if (endOfEpoch) shadow.resetState();
      else shadow.carryState();
    }
    assert.equal(trainer.state.charsSeen, (2 * perEpoch + 2) * T);
  });

  it('with batch B, stream b reads from b·L (L = streamLength)', () => {
    const text = shakespeare(200);
    const vocab = Vocab.fromText(text);
    const tokens = vocab.encode(text).tokens;
    const B = 4, T = 6;
    const { streamLength: L } = streamLayout(tokens.length, B, T);
    const config: TrainConfig = { ...DEFAULT_TRAIN, batch: B, seq: T, optimizer: 'sgd', lr: 0.1 };
    const { model, rng } = createModel({ cell: 'rnn', activation: 'tanh', hidden: 4, layers: 1 }, vocab, 1);
    const trainer = new Trainer(model, config, tokens, tsKernels, rng);
    for (let k = 0; k < 3; k++) {
      trainer.step();
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          assert.equal(trainer.graph.tokens[t * B + b], tokens[b * L + k * T + t]);
          assert.equal(trainer.graph.targets[t * B + b], tokens[b * L + k * T + t + 1]);
        }
      }
    }
  });
});

describe('Trainer: learning', () => {
  const text = 'the cat sat on the mat. '.repeat(40);
  for (const cell of CELLS) {
    it(`${cell} learns a repetitive text (loss falls well below its start)`, () => {
      const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 4, seq: 12, optimizer: 'adam', lr: 2e-2, clip: 5, seed: 5 };
      const { trainer, vocab } = makeTrainer(text, cell, 1, 24, config);
      const first = trainer.step().loss;
      // An untrained model is close to uniform over the vocabulary.
      assert.ok(Math.abs(first - Math.log(vocab.size)) < 0.5, `initial loss ${first} vs ln V = ${Math.log(vocab.size)}`);
      let last = 0;
      for (let k = 0; k < 150; k++) last = trainer.step().loss;
      assert.ok(last < 0.25 * first, `${cell}: loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
    });
  }
});

describe('Trainer: determinism', () => {
  const text = shakespeare(400);
  const run = (seed: number): Float32Array | Float64Array => {
    const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 2, seq: 8, dropout: 0.3, seed };
    const { trainer, model } = makeTrainer(text, 'lstm', 2, 10, config);
    for (let k = 0; k < 15; k++) trainer.step();
    return model.params.data;
  };
  it('the same seed gives bitwise identical weights, another seed different ones', () => {
    const a = run(7);
    const b = run(7);
    const c = run(8);
    assertBitwiseEqual(a, b, 'same seed');
    assert.notDeepEqual(bytesOf(a), bytesOf(c));
  });
  it('with the same initial weights, the seed still drives dropout', () => {
    const config: TrainConfig = { ...DEFAULT_TRAIN, batch: 2, seq: 8, dropout: 0.3 };
    const vocab = Vocab.fromText(text);
    const tokens = vocab.encode(text).tokens;
    const results = [1, 2].map((seed) => {
      const { model } = createModel({ cell: 'gru', activation: 'tanh', hidden: 10, layers: 2 }, vocab, 1);
      const trainer = new Trainer(model, config, tokens, tsKernels, new Rng(seed));
      for (let k = 0; k < 5; k++) trainer.step();
      return Float32Array.from(model.params.data);
    });
    assert.notDeepEqual(bytesOf(results[0]!), bytesOf(results[1]!));
  });
});

describe('Trainer: divergence', () => {
  it('throws DivergenceError and keeps the weights from before the failing step', () => {
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);
    const config: TrainConfig = { ...DEFAULT_TRAIN, optimizer: 'sgd', lr: 10, clip: 0, batch: 4, seq: 10 };
    const vocab = Vocab.fromText(text);
    const tokens = vocab.encode(text).tokens;
    const { model, rng } = createModel({ cell: 'rnn', activation: 'relu', hidden: 16, layers: 1 }, vocab, 1);
    const trainer = new Trainer(model, config, tokens, tsKernels, rng);
    let before = Float32Array.from(model.params.data);
    let error: unknown = null;
    for (let k = 0; k < 200 && error === null; k++) {
      before = Float32Array.from(model.params.data);
      try {
        trainer.step();
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof DivergenceError, `expected DivergenceError, got ${String(error)}`);
    assert.equal(error.step, trainer.state.step + 1);
    assert.match(error.message, /diverged at step \d+/);
    assert.match(error.message, /lower the learning rate|gradient clipping/);
    assertBitwiseEqual(model.params.data, before, 'weights after the failing step');
    assert.ok(model.params.data.every((v) => Number.isFinite(v)));
  });
});

describe('dropout between layers', () => {
  const setUp = (cell: CellType, dropout: number, dtype: 'f32' | 'f64') => {
    const params = createParams({ cell, activation: 'tanh', hidden: 40, layers: 2, vocabSize: 6 }, dtype);
    params.initialize(new Rng(3));
    for (let i = 0; i < params.data.length; i++) params.data[i] *= 2;
    const graph = (createNetwork(params, { B: 3, T: 5, kernels: tsKernels, dropout: dropout }) as StackedCellsNetwork);
    const rng = new Rng(4);
    for (let r = 0; r < 15; r++) {
      graph.tokens[r] = Math.floor(rng.uniform() * 6);
      graph.targets[r] = Math.floor(rng.uniform() * 6);
    }
    return { params, graph };
  };

  it('masks are 0 or 1/(1-p) with a drop rate near p, and only in training mode', () => {
    const p = 0.25;
    const { params, graph } = setUp('lstm', p, 'f32');
    const evalLoss = graph.forward(null);
    const plain = (createNetwork(params, { B: 3, T: 5, kernels: tsKernels, dropout: 0 }) as StackedCellsNetwork);
    plain.tokens.set(graph.tokens);
    plain.targets.set(graph.targets);
    assert.equal(evalLoss, plain.forward(null), 'no dropout without an rng');
    const trainLoss = graph.forward(new Rng(9));
    assert.notEqual(trainLoss, evalLoss);
    const mask = (graph as unknown as { masks: Float32Array[] }).masks[1]!;
    assert.equal(mask.length, 5 * 3 * 40);
    let dropped = 0;
    for (const m of mask) {
      assert.ok(m === 0 || Math.abs(m - 1 / (1 - p)) < 1e-6, `mask value ${m}`);
      if (m === 0) dropped++;
    }
    // 600 Bernoulli(0.25) draws: 150 ± 10.6 (1σ); allow 5σ.
    assert.ok(Math.abs(dropped - 150) < 53, `${dropped} of 600 dropped`);
  });

  for (const cell of CELLS) {
    it(`${cell}: gradients with a fixed dropout mask match central differences (float64)`, () => {
      const { params, graph } = setUp(cell, 0.4, 'f64');
      const loss = (): number => graph.forward(new Rng(77));
      params.grad.fill(0);
      loss();
      graph.backward();
      const analytic = Float64Array.from(params.grad);
      // The first layer's recurrent weights: their gradient flows back through the mask.
      const t = params.tensor('rnn.weight_hh_l0');
      let worst = 0;
      for (let i = t.offset; i < t.offset + t.size; i += 7) {
        const numeric = centralDifference(params.data, i, loss);
        worst = Math.max(worst, Math.abs(numeric - analytic[i]!) / Math.max(Math.abs(numeric), Math.abs(analytic[i]!), 1e-6));
      }
      assert.ok(worst < 1e-4, `worst relative error ${worst}`);
    });
  }
});

describe('learningRate schedules', () => {
  const base = { lr: 0.1, schedule: 'constant' as const, warmupSteps: 0, decaySteps: 0, lrMinFraction: 0 };
  it('constant is constant', () => {
    for (const s of [0, 1, 10, 1e6]) assert.equal(learningRate(base, s), 0.1);
  });
  it('warm-up rises linearly to lr over warmupSteps, then holds (constant)', () => {
    const c = { ...base, warmupSteps: 10 };
    assert.ok(Math.abs(learningRate(c, 0) - 0.01) < 1e-15);
    for (let s = 1; s < 10; s++) assert.ok(learningRate(c, s) > learningRate(c, s - 1));
    assert.ok(Math.abs(learningRate(c, 9) - 0.1) < 1e-15);
    assert.equal(learningRate(c, 10), 0.1);
    assert.equal(learningRate(c, 500), 0.1);
  });
  for (const schedule of ['linear', 'cosine'] as const) {
    it(`${schedule}: starts at lr after warm-up, falls monotonically to lrMinFraction·lr, then holds`, () => {
      const c = { ...base, schedule, warmupSteps: 5, decaySteps: 105, lrMinFraction: 0.1 };
      assert.equal(learningRate(c, 5), 0.1);
      for (let s = 6; s <= 105; s++) assert.ok(learningRate(c, s) < learningRate(c, s - 1), `${schedule} at ${s}`);
      assert.ok(Math.abs(learningRate(c, 105) - 0.01) < 1e-12);
      assert.ok(Math.abs(learningRate(c, 10_000) - 0.01) < 1e-12);
      // Midpoint: both schedules pass through the mean of lr and the floor.
      assert.ok(Math.abs(learningRate(c, 55) - 0.055) < 1e-12);
      // Cosine is flatter at the ends than linear.
      const early = learningRate(c, 15);
      if (schedule === 'linear') assert.ok(Math.abs(early - (0.1 - 0.09 * 0.1)) < 1e-12);
      else assert.ok(early > 0.1 - 0.09 * 0.1);
    });
  }
});

describe('streamLayout and short text', () => {
  it('splits (n - 1) predictions into B streams of whole windows', () => {
    assert.deepEqual(streamLayout(101, 4, 5), { streamLength: 25, stepsPerEpoch: 5 });
    assert.deepEqual(streamLayout(100, 4, 5), { streamLength: 24, stepsPerEpoch: 4 });
    assert.deepEqual(streamLayout(22, 1, 7), { streamLength: 21, stepsPerEpoch: 3 });
    assert.deepEqual(streamLayout(21, 1, 7), { streamLength: 20, stepsPerEpoch: 2 });
    assert.deepEqual(streamLayout(10, 3, 5), { streamLength: 3, stepsPerEpoch: 0 });
  });
  it('every window of an epoch stays inside the text', () => {
    for (const [n, B, T] of [[101, 4, 5], [1000, 7, 13], [57, 2, 9], [16, 3, 5]] as const) {
      const { streamLength: L, stepsPerEpoch: S } = streamLayout(n, B, T);
      assert.ok(S >= 1);
      // Last target of the last stream in the last window.
      assert.ok((B - 1) * L + (S - 1) * T + T < n, `n=${n} B=${B} T=${T}`);
    }
  });
  it('a text shorter than one batch is a DataError that says what to do', () => {
    const text = 'abcdefghij'; // 10 chars; batch 3 × seq 5 + 1 = 16 needed
    const vocab = Vocab.fromText(text);
    const { model, rng } = createModel({ cell: 'rnn', activation: 'tanh', hidden: 4, layers: 1 }, vocab, 1);
    assert.throws(
      () => new Trainer(model, { ...DEFAULT_TRAIN, batch: 3, seq: 5 }, vocab.encode(text).tokens, tsKernels, rng),
      (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.match(e.message, /has 10 characters but one batch needs at least 16/);
        assert.match(e.message, /batch 3 × sequence 5/);
        assert.match(e.message, /longer text|lower the batch size/);
        return true;
      },
    );
    // Exactly one batch is enough.
    const ok = 'abcdefghijklmnop';
    const v2 = Vocab.fromText(ok);
    const m2 = createModel({ cell: 'rnn', activation: 'tanh', hidden: 4, layers: 1 }, v2, 1);
    const t = new Trainer(m2.model, { ...DEFAULT_TRAIN, batch: 3, seq: 5 }, v2.encode(ok).tokens, tsKernels, m2.rng);
    assert.equal(t.stepsPerEpoch, 1);
  });
});

describe('AdamW weight decay per tensor', () => {
  it('the block families decay their 2-D tensors only (nanoGPT); the cells decay every tensor', () => {
    const vocab = Vocab.fromText('abcdef');
    const hyper = { optimizer: 'adamw' as const, momentum: 0, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    for (const cell of ['lstm', 'gpt', 'mingru'] as CellType[]) {
      const { model } = createModel({ cell, activation: 'tanh', hidden: 4, layers: 1, ...own(cell, 4) }, vocab, 1);
      const params = model.params;
      const before = Float64Array.from(params.data);
      params.grad.fill(0);
      createOptimizer(params, hyper).step(0.5);
      for (const t of params.tensors) {
        const decays = cell === 'lstm' || t.shape.length >= 2;
        for (let i = t.offset; i < t.offset + t.size; i++) {
          const want = decays ? Math.fround(before[i]! * (1 - 0.5 * 0.1)) : before[i]!;
          assert.equal(params.data[i], want, `${cell} ${t.name}[${i - t.offset}]`);
        }
      }
    }
  });
});

describe('evaluateStream', () => {
  /** Mean -ln p(next) over one stream from a zero state, one character at a time. */
  function manual(model: Model, tokens: Int32Array): { loss: number; chars: number } {
    const stepper = new Stepper(model, tsKernels);
    let total = 0;
    let chars = 0;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const tok = tokens[i]!;
      stepper.feed(tok < 0 ? model.vocab.fallback : tok);
      const next = tokens[i + 1]!;
      if (next < 0) continue;
      total += -Math.log(stepper.probs[next]!);
      chars++;
    }
    return { loss: total / chars, chars };
  }

  it('gpt: a text longer than the context is scored window by window, each prediction once, as the KV cache computes it', () => {
    const text = shakespeare(181);
    const vocab = Vocab.fromText(text);
    const tokens = vocab.encode(text).tokens;
    const context = 16;
    const { model } = createModel({ cell: 'gpt', activation: 'tanh', hidden: 8, layers: 2, heads: 2, context }, vocab, 4);
    const windows = gptEvaluationWindows(context, 180);
    assert.ok(windows.length > 2);
    let total = 0;
    let chars = 0;
    const stepper = new Stepper(model, tsKernels);
    for (const w of windows) {
      stepper.reset();
      for (let t = 0; t < w.length; t++) {
        stepper.feed(tokens[w.start + t]!);
        if (w.start + t < w.scoreFrom) continue;
        total += -Math.log(stepper.probs[tokens[w.start + t + 1]!]!);
        chars++;
      }
    }
    assert.equal(chars, 180);
    const r = evaluateStream(model, tokens, tsKernels);
    assert.equal(r.chars, 180);
    assert.ok(Math.abs(r.loss - total / chars) < 1e-5, `${r.loss} vs ${total / chars}`);
    // A text within the context is one window: the KV cache's stream from the start.
    const short = tokens.subarray(0, context + 1);
    assert.ok(Math.abs(evaluateStream(model, short, tsKernels).loss - manual(model, short).loss) < 1e-5);
  });

  for (const cell of [...CELLS, 'mingru', 'minlstm'] as CellType[]) {
    it(`${cell}: equals a character-by-character computation for any chunk size`, () => {
      const text = shakespeare(181);
      const vocab = Vocab.fromText(text);
      const tokens = vocab.encode(text).tokens;
      const { model } = createModel({ cell, activation: 'tanh', hidden: 10, layers: 2 }, vocab, 4);
      const want = manual(model, tokens);
      for (const chunk of [1, 3, 7, 180, 1000]) {
        const r = evaluateStream(model, tokens, tsKernels, chunk);
        assert.equal(r.chars, 180);
        assert.ok(Math.abs(r.loss - want.loss) < 1e-6, `chunk ${chunk}: ${r.loss} vs ${want.loss}`);
        assert.ok(Math.abs(r.bpc - want.loss / Math.LN2) < 1e-6);
      }
      const a = evaluateStream(model, tokens, tsKernels, 3);
      const b = evaluateStream(model, tokens, tsKernels, 1000);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-6);
    });
  }

  it('does not score unknown characters (token < 0) and feeds them as the fallback', () => {
    const vocab = new Vocab(['a', 'b', ' ', 'c']);
    const { model } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 6, layers: 1 }, vocab, 2);
    const tokens = Int32Array.from([0, 1, -1, 3, 0, -1, 2, 1]);
    const want = manual(model, tokens);
    for (const chunk of [2, 3, 100]) {
      const r = evaluateStream(model, tokens, tsKernels, chunk);
      assert.equal(r.chars, 5);
      assert.ok(Number.isFinite(r.loss), `chunk ${chunk}: loss ${r.loss}`);
      assert.ok(Math.abs(r.loss - want.loss) < 1e-6, `chunk ${chunk}: ${r.loss} vs ${want.loss}`);
    }
  });

  it('has nothing to score in fewer than two characters', () => {
    const vocab = new Vocab(['a']);
    const { model } = createModel({ cell: 'rnn', activation: 'tanh', hidden: 2, layers: 1 }, vocab, 1);
    const r = evaluateStream(model, Int32Array.from([0]), tsKernels);
    assert.equal(r.chars, 0);
    assert.ok(Number.isNaN(r.loss));
  });
});
