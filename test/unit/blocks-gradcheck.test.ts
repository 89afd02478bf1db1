/**
 * Float64 central-difference gradient checks for the block models (DESIGN
 * §2b): each new operation alone (LayerNorm, GELU, causal attention, the
 * minGRU / minLSTM recurrences with carried state and g at its a = 0 seam),
 * then whole 2-block networks of each family, where the tied embedding /
 * decoder and the residual stream are exercised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Floats } from '../../src/engine/floats';
import { tsKernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import type { BlockConfig, BlockFamily } from '../../src/engine/models/blocks/config';
import { erf, erfc, erfReference, normalCdf32, normalPdf32 } from '../../src/engine/models/blocks/erf';
import type { Mixer } from '../../src/engine/models/blocks/mixer';
import { BlockNetwork, MIXERS, newBlockGradientRecord } from '../../src/engine/models/blocks/network';
import { gelu, geluGrad, layerNormBackward, layerNormForward, normalCdf } from '../../src/engine/models/blocks/ops';
import { tsRowOps } from '../../src/engine/models/blocks/rowOps';
import { gActivation, gGrad } from '../../src/engine/models/blocks/recurrent';
import { blockParams } from '../../src/engine/models/blocks/params';
import type { Params } from '../../src/engine/params';
import { centralDifference, relErr } from './helpers/numeric';

/** Worst error of analytic against numeric gradients: relative, or absolute·1e6 where both are tiny (round-off dominates there). */
function worstError(analytic: ArrayLike<number>, data: Floats, loss: () => number, indices?: number[]): { worst: number; checked: number } {
  let worst = 0;
  let checked = 0;
  const idx = indices ?? Array.from({ length: data.length }, (_, i) => i);
  for (const i of idx) {
    const numeric = centralDifference(data, i, loss);
    const a = analytic[i]!;
    if (Math.abs(numeric) < 1e-10 && Math.abs(a) < 1e-10) continue;
    const err = Math.max(Math.abs(a), Math.abs(numeric)) < 1e-6 ? Math.abs(a - numeric) * 1e6 : relErr(a, numeric);
    if (err > worst) worst = err;
    checked++;
  }
  return { worst, checked };
}

function randomFill(a: Floats, rng: Rng, scale: number, centre = 0): void {
  for (let i = 0; i < a.length; i++) a[i] = centre + (rng.uniform() * 2 - 1) * scale;
}

/** Σ c ⊙ y: a scalar whose gradient with respect to y is c, to test an operation on its own. */
function dot(c: Floats, y: Floats): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i]! * y[i]!;
  return s;
}

function config(family: BlockFamily, over: Partial<BlockConfig> = {}): BlockConfig {
  return { cell: family, hidden: 8, layers: 2, vocabSize: 5, heads: 2, context: 6, ...over };
}

/** Parameters large enough that gates, GELU and softmax leave their linear regions. */
function randomParams(c: BlockConfig, seed: number): Params {
  const params = blockParams(c, 'f64');
  const rng = new Rng(seed);
  for (const t of params.tensors) {
    const v = params.view(t.name);
    if (t.name.includes('ln_')) randomFill(v, rng, 0.3, t.name.endsWith('weight') ? 1 : 0);
    else randomFill(v, rng, 0.6);
  }
  return params;
}

describe('block operations (float64 central differences)', () => {
  it('erf matches its first-principles reference and known values', () => {
    let worst = 0;
    for (let x = -7; x <= 7; x += 0.001) {
      const r = x < 0 ? -erfReference(-x) : erfReference(x);
      worst = Math.max(worst, Math.abs(erf(x) - r));
    }
    assert.ok(worst < 1e-14, `erf differs from the reference by ${worst}`);
    // Tabulated values (Abramowitz & Stegun 7.1).
    assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 1e-15);
    assert.ok(Math.abs(erf(0.5) - 0.5204998778130465) < 1e-15);
    assert.ok(Math.abs(erf(2) - 0.9953222650189527) < 1e-15);
    assert.equal(erf(0), 0);
    assert.ok(Math.abs(erf(1e-12) / 1e-12 - 2 / Math.sqrt(Math.PI)) < 1e-14, 'small arguments keep relative accuracy');
  });

  it('the float32 Φ (interpolated table, no sign branch) is within float32 rounding', () => {
    let near = 0;
    let far = 0;
    for (let x = -12; x < 9; x += 0.000731) {
      const ref = normalCdf(x);
      const err = Math.abs(normalCdf32(x) - ref) / ref;
      if (x > -7) near = Math.max(near, err);
      else far = Math.max(far, err);
    }
    assert.ok(near < 2.5e-8 && far < 7e-8, `worst relative error ${near} (|x| < 7), ${far} beyond`);
    let pdf = 0;
    for (let x = -7; x < 7; x += 0.000731) {
      const ref = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      pdf = Math.max(pdf, Math.abs(normalPdf32(x) - ref) / ref);
    }
    assert.ok(pdf < 3e-8, `φ: worst relative error ${pdf}`);
    assert.ok(Math.abs(erfc(5) - 1.5374597944280351e-12) / 1.5374597944280351e-12 < 1e-13, 'erfc keeps its relative accuracy in the tail');
    assert.ok(Math.abs(normalCdf(-7) - 1.279812543885835e-12) / 1.279812543885835e-12 < 1e-12, 'so does Φ on the left');
  });

  it('GELU derivative', () => {
    let worst = 0;
    for (let x = -6; x <= 6; x += 0.0173) {
      const numeric = (gelu(x + 1e-5) - gelu(x - 1e-5)) / 2e-5;
      const a = geluGrad(x);
      worst = Math.max(worst, Math.abs(a) < 1e-6 ? Math.abs(a - numeric) * 1e6 : relErr(a, numeric));
    }
    assert.ok(worst < 1e-6, `worst ${worst}`);
    assert.ok(Math.abs(gelu(1) - 0.8413447460685429) < 1e-15, 'GELU(1) = Φ(1)');
  });

  it('LayerNorm: ∂x, ∂weight, ∂bias', () => {
    const rows = 3, C = 7;
    const rng = new Rng(1);
    const x = new Float64Array(rows * C);
    const p = new Float64Array(2 * C);
    const c = new Float64Array(rows * C);
    randomFill(x, rng, 2, 0.5);
    randomFill(p, rng, 1);
    randomFill(c, rng, 1);
    const y = new Float64Array(rows * C);
    const mean = new Float64Array(rows);
    const rstd = new Float64Array(rows);
    const loss = (): number => {
      layerNormForward(y, x, rows, C, p, 0, C, mean, rstd, 1e-5);
      return dot(c, y);
    };
    loss();
    const dx = new Float64Array(rows * C).fill(0.25);
    const grad = new Float64Array(2 * C);
    layerNormBackward(dx, true, c, x, rows, C, p, grad, 0, C, mean, rstd);
    for (let i = 0; i < dx.length; i++) dx[i] -= 0.25; // accumulate = true added onto what was there
    const ex = worstError(dx, x, loss);
    const ep = worstError(grad, p, loss);
    assert.equal(ex.checked, rows * C);
    assert.ok(ex.worst < 1e-6 && ep.worst < 1e-6, `dx ${ex.worst}, dp ${ep.worst}`);
  });

  it('g(a) is continuous at a = 0 and differentiated there as torch.where does (the right branch)', () => {
    assert.equal(gActivation(0), 0.5);
    assert.ok(Math.abs(gActivation(-1e-12) - 0.5) < 1e-12);
    assert.equal(gGrad(0, gActivation(0)), 1);
    const right = (gActivation(1e-7) - gActivation(0)) / 1e-7;
    const left = (gActivation(0) - gActivation(-1e-7)) / 1e-7;
    assert.ok(Math.abs(right - 1) < 1e-6 && Math.abs(left - 0.25) < 1e-6, `one-sided slopes ${right}, ${left}`);
    for (const a of [-3, -0.2, 0.3, 2]) {
      const numeric = (gActivation(a + 1e-6) - gActivation(a - 1e-6)) / 2e-6;
      assert.ok(relErr(gGrad(a, gActivation(a)), numeric) < 1e-8);
    }
  });
});

/** One mixer alone: u [T·B, C] → out, scalar Σ c ⊙ out; checks ∂u and every parameter of the block. */
function mixerCase(family: BlockFamily, seed: number, withState: boolean) {
  const c = config(family, { layers: 1 });
  const params = randomParams(c, seed);
  const B = 2, T = 5, C = c.hidden;
  const rng = new Rng(seed + 1);
  const mixer: Mixer = MIXERS[family]({ params, kernels: tsKernels, data: params.data, grad: params.grad, ops: tsRowOps(tsKernels), host: null, block: 0, B, T, dropout: 0, alloc: (n) => new Float64Array(n) });
  const u = new Float64Array(T * B * C);
  randomFill(u, rng, 1.5);
  const cw = new Float64Array(T * B * C);
  randomFill(cw, rng, 1);
  const h0 = new Float64Array(B * C);
  if (withState) randomFill(h0, rng, 1);
  const out = new Float64Array(T * B * C);
  const loss = (): number => {
    for (const t of mixer.carried) t.data.set(h0);
    mixer.forward(u, out, null);
    return dot(cw, out);
  };
  return { params, mixer, u, cw, out, loss, h0, B, T, C };
}

describe('mixers alone (float64 central differences)', () => {
  for (const family of ['gpt', 'mingru', 'minlstm'] as const) {
    it(`${family}: ∂u and ∂θ${family === 'gpt' ? '' : ' with a carried-in state'}`, () => {
      const { params, mixer, u, cw, loss } = mixerCase(family, 11, family !== 'gpt');
      params.grad.fill(0);
      loss();
      const du = new Float64Array(u.length);
      mixer.backward(Float64Array.from(cw), u, du);
      const eu = worstError(du, u, loss);
      const ep = worstError(params.grad, params.data, loss);
      assert.equal(eu.checked, u.length, 'every input reaches the output');
      assert.ok(ep.checked > 0);
      assert.ok(eu.worst < 1e-6 && ep.worst < 1e-6, `du ${eu.worst.toExponential(2)}, dθ ${ep.worst.toExponential(2)}`);
    });
  }

  it('gpt attention is causal: the output at t does not depend on inputs after t', () => {
    const { mixer, u, out, B, C } = mixerCase('gpt', 5, false);
    mixer.forward(u, out, null);
    const before = Float64Array.from(out);
    for (let k = 3 * B * C; k < u.length; k++) u[k] += 1;
    mixer.forward(u, out, null);
    for (let k = 0; k < 3 * B * C; k++) assert.equal(out[k], before[k]);
    assert.notDeepEqual(Array.from(out.subarray(3 * B * C)), Array.from(before.subarray(3 * B * C)));
  });

  for (const family of ['mingru', 'minlstm'] as const) {
    it(`${family}: two windows with carryState equal one window twice as long; resetState zeroes`, () => {
      const c = config(family, { layers: 1 });
      const params = randomParams(c, 21);
      const B = 2, T = 3, C = c.hidden;
      const mk = (t: number) => MIXERS[family]({ params, kernels: tsKernels, data: params.data, grad: params.grad, ops: tsRowOps(tsKernels), host: null, block: 0, B, T: t, dropout: 0, alloc: (n) => new Float64Array(n) });
      const long = mk(2 * T);
      const short = mk(T);
      const rng = new Rng(3);
      const u = new Float64Array(2 * T * B * C);
      randomFill(u, rng, 1.5);
      const h0 = new Float64Array(B * C);
      randomFill(h0, rng, 1);
      long.carried[0]!.data.set(h0);
      short.carried[0]!.data.set(h0);
      const outLong = new Float64Array(2 * T * B * C);
      long.forward(u, outLong, null);
      const out1 = new Float64Array(T * B * C);
      const out2 = new Float64Array(T * B * C);
      short.forward(u.subarray(0, T * B * C), out1, null);
      short.carryState();
      assert.equal(short.carried[0]!.name, 'h_b0');
      assert.deepEqual(Array.from(short.carried[0]!.data), Array.from(out1.subarray((T - 1) * B * C)));
      short.forward(u.subarray(T * B * C), out2, null);
      assert.deepEqual(Array.from(out1), Array.from(outLong.subarray(0, T * B * C)));
      for (let k = 0; k < out2.length; k++) assert.ok(Math.abs(out2[k]! - outLong[T * B * C + k]!) < 1e-14);
      short.resetState();
      assert.ok(short.carried[0]!.data.every((v) => v === 0));
    });
  }

  it('mingru: g at a = 0 exactly (zero weight row and bias) gets torch.where\'s derivative 1', () => {
    const { params, mixer, u, cw, loss, C } = mixerCase('mingru', 13, true);
    // Row C + 2 of to_gates is a_h for channel 2: make it exactly 0 everywhere.
    const w = params.offset('transformer.h.0.mix.to_gates.weight');
    const b = params.offset('transformer.h.0.mix.to_gates.bias');
    params.data.fill(0, w + (C + 2) * C, w + (C + 3) * C);
    params.data[b + C + 2] = 0;
    params.grad.fill(0);
    loss();
    mixer.backward(Float64Array.from(cw), u, new Float64Array(u.length));
    // The bias of a_h sees g'(0): the one-sided difference from the right must match.
    const i = b + C + 2;
    const base = loss();
    params.data[i] = 1e-7;
    const right = (loss() - base) / 1e-7;
    params.data[i] = 0;
    assert.ok(relErr(params.grad[i]!, right) < 1e-5, `analytic ${params.grad[i]} vs right-hand ${right}`);
  });
});

/** A whole 2-block network with a carried-in state for the recurrent families; dropout replays the same masks each call. */
function networkCase(family: BlockFamily, seed: number, dropout = 0, over: Partial<BlockConfig> = {}) {
  const c = config(family, over);
  const params = randomParams(c, seed);
  const B = 2, T = 4;
  const net = new BlockNetwork(params, B, T, tsKernels, dropout);
  const rng = new Rng(seed + 7);
  for (let r = 0; r < B * T; r++) {
    net.tokens[r] = Math.floor(rng.uniform() * c.vocabSize);
    net.targets[r] = r === 3 ? -1 : Math.floor(rng.uniform() * c.vocabSize);
  }
  const states = net.carried.map((t) => Float64Array.from({ length: t.data.length }, () => rng.uniform() - 0.5));
  const loss = (): number => {
    net.carried.forEach((t, i) => t.data.set(states[i]!));
    return net.forward(dropout > 0 ? new Rng(99) : null);
  };
  return { params, net, loss, B, T, c };
}

function checkNetwork(family: BlockFamily, seed: number, dropout = 0): number {
  const { params, net, loss } = networkCase(family, seed, dropout);
  params.grad.fill(0);
  loss();
  assert.equal(net.scored, 7, 'a target < 0 is not scored');
  net.backward();
  const { worst, checked } = worstError(Float64Array.from(params.grad), params.data, loss);
  assert.ok(checked > params.count * 0.8, `only ${checked} of ${params.count} gradients were non-zero`);
  return worst;
}

describe('block networks, 2 blocks (float64 central differences)', () => {
  for (const family of ['gpt', 'mingru', 'minlstm'] as const) {
    it(`${family}: every parameter, tied wte included`, () => {
      const worst = checkNetwork(family, 31);
      assert.ok(worst < 1e-5, `worst relative error ${worst.toExponential(2)}`);
    });
    it(`${family}: with dropout (the same masks replayed)`, () => {
      const worst = checkNetwork(family, 32, 0.3);
      assert.ok(worst < 1e-5, `worst relative error ${worst.toExponential(2)}`);
    });
  }

  it('the tied weight gets both its embedding and its decoder gradient', () => {
    const { params, net, loss, c } = networkCase('mingru', 41);
    params.grad.fill(0);
    loss();
    net.backward();
    const wte = params.tensor('transformer.wte.weight');
    // A token that is never an input still gets a decoder gradient (it is a wrong answer at every scored row).
    const seen = new Set(net.tokens);
    const unseen = [...Array(c.vocabSize).keys()].find((v) => !seen.has(v));
    assert.ok(unseen !== undefined, 'the case leaves a token out of the inputs');
    const row = params.grad.subarray(wte.offset + unseen * c.hidden, wte.offset + (unseen + 1) * c.hidden);
    assert.ok(row.some((g) => g !== 0));
    const idx = Array.from({ length: wte.size }, (_, k) => wte.offset + k);
    const { worst } = worstError(Float64Array.from(params.grad), params.data, loss, idx);
    assert.ok(worst < 1e-5);
  });

  it('the residual-stream record is ‖∂E/∂x_t‖ (block 0 of a gpt at B = 1: the gradient of wpe row t)', () => {
    const c = config('gpt');
    const params = randomParams(c, 51);
    const T = 5;
    const net = new BlockNetwork(params, 1, T, tsKernels);
    for (let t = 0; t < T; t++) {
      net.tokens[t] = t % c.vocabSize;
      net.targets[t] = (t * 3 + 1) % c.vocabSize;
    }
    net.record = newBlockGradientRecord(c.layers, T);
    params.grad.fill(0);
    net.forward();
    net.backward();
    const wpe = params.tensor('transformer.wpe.weight');
    for (let t = 0; t < T; t++) {
      let ss = 0;
      for (let j = 0; j < c.hidden; j++) ss += params.grad[wpe.offset + t * c.hidden + j]! ** 2;
      assert.ok(relErr(net.record.hGradNorm[0]![t]!, Math.sqrt(ss)) < 1e-12, `t = ${t}`);
      assert.ok(net.record.hGradNorm[1]![t]! > 0);
    }
  });

  it('detects a wrong gradient (the check itself can fail)', () => {
    const { params, net, loss } = networkCase('gpt', 61);
    params.grad.fill(0);
    loss();
    net.backward();
    const i = params.offset('transformer.h.1.attn.c_attn.weight') + 3;
    const numeric = centralDifference(params.data, i, loss);
    assert.ok(relErr(params.grad[i]! * 1.01, numeric) > 1e-3);
  });
});

describe('block networks: what the panels read', () => {
  it('gradient record: nothing flows back from e_t to later steps; a one-step window\'s contribution is the weight gradient\'s norm', () => {
    for (const family of ['gpt', 'mingru', 'minlstm'] as const) {
      const c = config(family);
      const params = randomParams(c, 71);
      const T = 5;
      const net = new BlockNetwork(params, 1, T, tsKernels);
      for (let t = 0; t < T; t++) {
        net.tokens[t] = (t * 2) % c.vocabSize;
        net.targets[t] = t === 2 ? 1 : -1;
      }
      net.record = newBlockGradientRecord(c.layers, T);
      params.grad.fill(0);
      net.forward();
      net.backward();
      for (let i = 0; i < c.layers; i++) {
        for (let k = 0; k < T; k++) {
          const h = net.record.hGradNorm[i]![k]!;
          const w = net.record.wContribution[i]![k]!;
          if (k > 2) assert.ok(h === 0 && w === 0, `${family} block ${i}: step ${k} after the error`);
          else assert.ok(h > 0 && w > 0, `${family} block ${i}: step ${k}`);
        }
      }
      const one = new BlockNetwork(params, 1, 1, tsKernels);
      one.tokens[0] = 3;
      one.targets[0] = 2;
      one.record = newBlockGradientRecord(c.layers, 1);
      params.grad.fill(0);
      one.forward();
      one.backward();
      const name = family === 'gpt' ? 'attn.c_attn.weight' : 'mix.to_gates.weight';
      for (let i = 0; i < c.layers; i++) {
        const g = params.gradView(`transformer.h.${i}.${name}`);
        const norm = Math.sqrt(Array.from(g).reduce((s, v) => s + v * v, 0));
        assert.ok(relErr(one.record.wContribution[i]![0]!, norm) < 1e-12, `${family} block ${i}`);
      }
    }
  });

  it('quantities: the mixer state, gates in range, the residual stream, attention rows', () => {
    for (const family of ['gpt', 'mingru', 'minlstm'] as const) {
      const { net, loss, B, T, c } = networkCase(family, 81);
      loss();
      const C = c.hidden;
      const names = net.quantities.map((q) => q.name);
      assert.deepEqual(names, family === 'gpt' ? ['x'] : family === 'mingru' ? ['x', 'h', 'z', 'g'] : ['x', 'h', 'f', 'i', 'g']);
      const out = new Float32Array(T * C);
      net.readQuantity('x', 1, 1, out);
      const last = net.stream[2 * c.layers]!;
      for (let j = 0; j < C; j++) assert.equal(out[(T - 1) * C + j], Math.fround(last[((T - 1) * B + 1) * C + j]!));
      if (family === 'gpt') {
        const att = new Float32Array(T * T);
        net.readAttention(1, 1, 1, att);
        for (let t = 0; t < T; t++) {
          let s = 0;
          for (let k = 0; k < T; k++) s += att[t * T + k]!;
          assert.ok(Math.abs(s - 1) < 1e-6, `row ${t} sums to ${s}`);
          for (let k = t + 1; k < T; k++) assert.equal(att[t * T + k], 0);
        }
        continue;
      }
      net.readQuantity('h', 0, 1, out);
      net.carryState();
      const carried = net.carried[0]!.data;
      for (let j = 0; j < C; j++) assert.equal(out[(T - 1) * C + j], Math.fround(carried[C + j]!));
      for (const gate of names.slice(2, -1)) {
        net.readQuantity(gate, 1, 0, out);
        assert.ok(out.every((v) => v > 0 && v < 1), `${family} gate ${gate} is a sigmoid`);
      }
      net.readQuantity('g', 1, 0, out);
      assert.ok(out.every((v) => v > 0), 'g(a) > 0');
    }
  });
});
