/**
 * Parity of the block models with PyTorch: each fixture in
 * test/fixtures/blocks/*.json (see make_block_fixtures.py) holds a nanoGPT
 * state_dict, two windows, a carried-in state for the recurrent families and
 * what PyTorch computed in float64. The engine must reproduce the logits'
 * probabilities, the loss, the state after each window, every gradient of
 * both windows, and the parameters after two SGD steps with the state
 * carried between them — in float64 to round-off, in float32 within float32
 * tolerance.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DType } from '../../src/engine/floats';
import { tsKernels } from '../../src/engine/kernels';
import type { BlockFamily } from '../../src/engine/models/blocks/config';
import { BlockNetwork } from '../../src/engine/models/blocks/network';
import { blockParams } from '../../src/engine/models/blocks/params';
import { TIED_ALIASES } from '../../src/engine/models/blocks/specs';

interface WindowEntry {
  inputs: number[][];
  targets: number[][];
  logits: number[];
  loss: number;
  hT: number[][];
  grads: Record<string, number[]>;
}

interface Fixture {
  torch_version: string;
  config: { family: BlockFamily; hidden: number; layers: number; heads: number; context: number; vocab: number; seq: number; batch: number };
  lr: number;
  state_dict_keys: string[];
  params: Record<string, { shape: number[]; data: number[] }>;
  h0: number[][];
  windows: WindowEntry[];
  params_after: Record<string, number[]>;
}

const FIXTURE_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'blocks');
const fixtureFiles = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json')).sort();
const loadFixture = (file: string): Fixture => JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as Fixture;

const TOLERANCE: Record<DType, { abs: number; rel: number }> = {
  f64: { abs: 1e-11, rel: 1e-9 },
  f32: { abs: 1e-5, rel: 1e-4 },
};

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, dtype: DType): void {
  const { abs, rel } = TOLERANCE[dtype];
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    assert.ok(Number.isFinite(a), `${what}[${i}] is ${a}`);
    const excess = Math.abs(a - expected[i]!) - (abs + rel * Math.abs(expected[i]!));
    if (excess > worst) {
      worst = excess;
      worstAt = i;
    }
  }
  assert.ok(worstAt < 0, `${what}[${worstAt}] = ${actual[worstAt]} but PyTorch has ${expected[worstAt]}`);
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

function setUp(fx: Fixture, dtype: DType, mutate?: (name: string, data: number[]) => number[]) {
  const { family, hidden, layers, heads, context, vocab, seq: T, batch: B } = fx.config;
  const params = blockParams({ cell: family, hidden, layers, heads, context, vocabSize: vocab }, dtype);
  for (const t of params.tensors) {
    const p = fx.params[t.name];
    assert.ok(p, `fixture has no ${t.name}`);
    assert.deepEqual([...t.shape], p.shape, `shape of ${t.name}`);
    params.view(t.name).set(mutate ? mutate(t.name, p.data) : p.data);
  }
  const net = new BlockNetwork(params, B, T, tsKernels);
  const load = (w: WindowEntry): void => {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        net.tokens[t * B + b] = w.inputs[t]![b]!;
        net.targets[t * B + b] = w.targets[t]![b]!;
      }
    }
  };
  net.carried.forEach((c, i) => c.data.set(fx.h0[i]!));
  return { params, net, load, T, B };
}

describe('block models: PyTorch parity (test/fixtures/blocks)', () => {
  it('has the three generated fixtures', () => {
    for (const f of ['gpt_C8_L2.json', 'mingru_C8_L2.json', 'minlstm_C8_L2.json']) assert.ok(fixtureFiles.includes(f), `missing fixture ${f}`);
  });

  for (const file of fixtureFiles) {
    const fx = loadFixture(file);
    describe(file, () => {
      it('tensor names are nanoGPT\'s state_dict (the mask buffer excluded, lm_head.weight tied to wte)', () => {
        const { params } = setUp(fx, 'f64');
        assert.deepEqual(params.tensors.map((t) => t.name), Object.keys(fx.params), 'same names in the same order');
        assert.deepEqual(
          [...params.tensors.map((t) => t.name), ...Object.keys(TIED_ALIASES)].sort(),
          [...fx.state_dict_keys].sort(),
        );
      });

      for (const dtype of ['f64', 'f32'] as const) {
        it(`${dtype}: two windows — loss, probabilities, carried state, every gradient, parameters after two SGD steps`, () => {
          const { params, net, load } = setUp(fx, dtype);
          const V = fx.config.vocab;
          fx.windows.forEach((w, k) => {
            load(w);
            params.grad.fill(0);
            const loss = net.forward();
            assertClose([loss], [w.loss], `window ${k + 1} loss`, dtype);
            assert.equal(net.scored, w.targets.flat().filter((y) => y >= 0).length);
            assertClose(net.probs, softmaxRows(w.logits, V), `window ${k + 1} probabilities`, dtype);
            net.backward();
            for (const t of params.tensors) assertClose(params.gradView(t.name), w.grads[t.name]!, `window ${k + 1} grad ${t.name}`, dtype);
            for (let i = 0; i < params.data.length; i++) params.data[i] -= fx.lr * params.grad[i]!;
            net.carryState();
            assert.equal(net.carried.length, w.hT.length);
            net.carried.forEach((c, i) => assertClose(c.data, w.hT[i]!, `window ${k + 1} final state of block ${i}`, dtype));
          });
          for (const t of params.tensors) assertClose(params.view(t.name), fx.params_after[t.name]!, `${t.name} after two steps`, dtype);
        });
      }
    });
  }

  it('can fail: a gate-order or q/k-order bug is detected', () => {
    for (const [file, tensor, blocks] of [
      ['mingru_C8_L2.json', 'transformer.h.1.mix.to_gates.weight', 2],
      ['minlstm_C8_L2.json', 'transformer.h.1.mix.to_gates.weight', 3],
      ['gpt_C8_L2.json', 'transformer.h.1.attn.c_attn.weight', 3],
    ] as const) {
      const fx = loadFixture(file);
      const C = fx.config.hidden;
      const { net, load } = setUp(fx, 'f64', (name, data) => {
        if (name !== tensor) return data;
        const n = C * C;
        // Swap the first two row blocks (z/h, f/i, q/k).
        return [...data.slice(n, 2 * n), ...data.slice(0, n), ...data.slice(2 * n, blocks * n)];
      });
      load(fx.windows[0]!);
      const loss = net.forward();
      assert.throws(() => assertClose([loss], [fx.windows[0]!.loss], 'loss', 'f64'), file);
    }
  });
});
