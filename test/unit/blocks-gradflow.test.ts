/**
 * The Gradient Flow panel's numbers for the block models, against float64
 * central differences: ‖∂e_t/∂x_k‖ on the residual stream entering each
 * block, as traceGradientFlow records it (the panel's rows).
 *
 * The stream entering block i cannot be perturbed from outside the network,
 * so the checks perturb an input that equals it exactly:
 * - gpt, any block i: a gpt of blocks i..L-1 (the same weights) whose
 *   position embedding row k is set to x_k − wte[token_k], so its stream
 *   entering its first block IS the full model's stream entering block i;
 *   ∂e_t/∂wpe'[k] is then ∂e_t/∂x_k.
 * - minGRU / minLSTM, block 0: x_k = wte[token_k] with token_k appearing
 *   once in the window; ∂e_t/∂wte[token_k] minus the tied decoder's own
 *   part, (p_t[v] − [y_t = v])·LN_f(x_t), is ∂e_t/∂x_k.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelConfig } from '../../src/engine/config';
import { traceGradientFlow } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import type { Model } from '../../src/engine/model';
import { createNetwork, createParams } from '../../src/engine/models/build';
import { infoOf } from '../../src/engine/models/catalog';
import type { BlockNetwork } from '../../src/engine/models/blocks/network';
import { gradFlowWindow } from '../../src/engine/gradflowSnapshot';
import { Rng } from '../../src/engine/rng';
import { Vocab } from '../../src/engine/vocab';
import { centralDifference, relErr } from './helpers/numeric';

const TEXT = 'abcdefgh';
const vocab = Vocab.fromText(TEXT + 'xyz');
const C = 8;

function randomModel(over: Partial<ModelConfig>, seed: number): Model {
  const config: ModelConfig = { cell: 'gpt', activation: 'tanh', hidden: C, layers: 3, vocabSize: vocab.size, ...over };
  const params = createParams(config, 'f64');
  const rng = new Rng(seed);
  for (const t of params.tensors) {
    const v = params.view(t.name);
    const ln = t.name.includes('ln_') && t.name.endsWith('.weight');
    for (let i = 0; i < v.length; i++) v[i] = (ln ? 1 : 0) + (rng.uniform() * 2 - 1) * (ln ? 0.2 : 0.5);
  }
  return { config, vocab, params };
}

/** e_t (the loss of the prediction made at step t alone) of a model on tokens, float64. */
function errorAt(model: Model, tokens: number[], t: number): number {
  const T = tokens.length - 1;
  const net = createNetwork(model.params, { B: 1, T, kernels: tsKernels });
  net.resetState();
  for (let k = 0; k < T; k++) {
    net.tokens[k] = tokens[k]!;
    net.targets[k] = k === t ? tokens[k + 1]! : -1;
  }
  return net.forward(null);
}

const norm = (g: number[]): number => Math.sqrt(g.reduce((a, b) => a + b * b, 0));

/** The stream entering block i of a forward of the whole window (exact: float64 buffers). */
function streamInto(model: Model, tokens: number[], i: number): Float64Array {
  const T = tokens.length - 1;
  const net = createNetwork(model.params, { B: 1, T, kernels: tsKernels }) as unknown as BlockNetwork;
  net.resetState();
  net.tokens.set(tokens.slice(0, T));
  net.targets.fill(-1);
  net.forward(null);
  return Float64Array.from(net.stream[2 * i]!);
}

/** A gpt of blocks i..L-1 of `model` whose stream entering its first block is `x` (see the file comment). */
function gptFrom(model: Model, i: number, tokens: number[], x: Float64Array): Model {
  const config: ModelConfig = { ...model.config, layers: model.config.layers - i };
  const params = createParams(config, 'f64');
  for (const t of params.tensors) {
    const m = /^transformer\.h\.(\d+)\.(.*)$/.exec(t.name);
    const from = m ? `transformer.h.${Number(m[1]) + i}.${m[2]}` : t.name;
    params.view(t.name).set(model.params.view(from));
  }
  const wte = params.view('transformer.wte.weight');
  const wpe = params.view('transformer.wpe.weight');
  wpe.fill(0);
  for (let k = 0; k < tokens.length - 1; k++) for (let j = 0; j < C; j++) wpe[k * C + j] = x[k * C + j]! - wte[tokens[k]! * C + j]!;
  return { config, vocab, params };
}

describe('gradient flow on the block models\' residual stream', () => {
  it('gpt: ‖∂e_t/∂x_k‖ entering every block equals central differences (a gpt of the upper blocks fed the stream through wpe)', () => {
    const model = randomModel({ cell: 'gpt', heads: 2, context: 16 }, 1);
    const tokens = Array.from(vocab.encode(TEXT).tokens);
    const T = tokens.length - 1;
    let checked = 0;
    for (const t of [T - 1, 3]) {
      const flow = traceGradientFlow(model, TEXT, tsKernels, t);
      assert.equal(flow.hGradNorm.length, 3, 'one row per block');
      for (let i = 0; i < 3; i++) {
        const sub = gptFrom(model, i, tokens, streamInto(model, tokens, i));
        assert.ok(Math.abs(errorAt(sub, tokens, t) - flow.loss) < 1e-12, 'the upper blocks fed the stream give the same e_t');
        const wpe = sub.params.data;
        const off = sub.params.offset('transformer.wpe.weight');
        for (let k = 0; k < T; k++) {
          const g = Array.from({ length: C }, (_, j) => centralDifference(wpe, off + k * C + j, () => errorAt(sub, tokens, t)));
          const want = norm(g);
          const got = flow.hGradNorm[i]![k]!;
          if (k > t) assert.equal(got, 0, `block ${i}, k ${k} > t ${t}: nothing flows back from the future`);
          else {
            assert.ok(want > 1e-6, `block ${i}, t ${t}, k ${k}: a gradient to check (${want})`);
            assert.ok(relErr(got, want) < 1e-6, `block ${i}, t ${t}, k ${k}: record ${got}, central differences ${want}`);
          }
          checked++;
        }
      }
    }
    assert.equal(checked, 2 * 3 * T);
  });

  for (const cell of ['mingru', 'minlstm'] as const) {
    it(`${cell}: ‖∂e_t/∂x_k‖ entering block 0 equals central differences (the embedding row, minus the tied decoder's part)`, () => {
      const model = randomModel({ cell, layers: 2 }, 2);
      const tokens = Array.from(vocab.encode(TEXT).tokens);
      assert.equal(new Set(tokens).size, tokens.length, 'every token of the window appears once');
      const T = tokens.length - 1;
      const V = vocab.size;
      const off = model.params.offset('transformer.wte.weight');
      const t = T - 1;
      const flow = traceGradientFlow(model, TEXT, tsKernels, t);
      // The decoder's part of ∂e_t/∂wte[v]: (p_t[v] − [y_t = v]) · LN_f(x_t), from the forward's probabilities and the final stream.
      const net = createNetwork(model.params, { B: 1, T, kernels: tsKernels }) as unknown as BlockNetwork;
      net.resetState();
      net.tokens.set(tokens.slice(0, T));
      net.targets.fill(-1);
      net.forward(null);
      const xf = net.stream[2 * model.config.layers]!;
      const w = model.params.view('transformer.ln_f.weight');
      const b = model.params.view('transformer.ln_f.bias');
      let mean = 0;
      for (let j = 0; j < C; j++) mean += xf[t * C + j]! / C;
      let v2 = 0;
      for (let j = 0; j < C; j++) v2 += (xf[t * C + j]! - mean) ** 2 / C;
      const lnf = Array.from({ length: C }, (_, j) => ((xf[t * C + j]! - mean) / Math.sqrt(v2 + 1e-5)) * w[j]! + b[j]!);
      for (let k = 0; k <= t; k++) {
        const v = tokens[k]!;
        const p = net.probs[t * V + v]! - (tokens[t + 1] === v ? 1 : 0);
        const g = Array.from({ length: C }, (_, j) => centralDifference(model.params.data, off + v * C + j, () => errorAt(model, tokens, t)) - p * lnf[j]!);
        const want = norm(g);
        const got = flow.hGradNorm[0]![k]!;
        assert.ok(want > 1e-6, `k ${k}: a gradient to check (${want})`);
        assert.ok(relErr(got, want) < 1e-6, `k ${k}: record ${got}, central differences ${want}`);
      }
    });
  }

  it('a snapshot says what its rows are: the family\'s gradient taps, and blocks (not cells)', () => {
    const gpt = randomModel({ cell: 'gpt', heads: 2, context: 16 }, 3);
    const w = gradFlowWindow({ ...gpt, params: gpt.params }, TEXT, tsKernels);
    assert.equal(w.network, 'blocks');
    assert.deepEqual(w.taps, infoOf('gpt').gradientTaps(gpt.config));
    assert.equal(w.taps![2], 'block 3: residual stream x');
    assert.equal(w.rowTs.length, TEXT.length - 1);
    const rnn = randomModel({ cell: 'rnn', layers: 1 }, 4);
    const r = gradFlowWindow(rnn, TEXT, tsKernels);
    assert.equal(r.network, 'cells');
    assert.deepEqual(r.taps, ['layer 1: h']);
  });
});
