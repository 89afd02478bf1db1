/**
 * The step-through of backpropagation through time (engine/bptt.ts): every
 * term it shows is checked against float64 central differences of the
 * model's own loss, its forward against the network the trainer runs, its
 * chain against explicit finite-difference Jacobians, and its per-step
 * ∂e_τ/∂W against the Gradient Flow panel's instrumentation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traceBptt, traceBpttInSteps, type Perturbation, STEP_THROUGH_MAX_STEPS } from '../../src/engine/bptt';
import type { Activation, CellType } from '../../src/engine/config';
import { ConfigError } from '../../src/engine/errors';
import { traceGradientFlow, traceHiddenStates } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import { createModel, type Model } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';
import { Vocab } from '../../src/engine/vocab';
import { centralDifference, relErr } from './helpers/numeric';

const TEXT = 'abcab cbaac';
const EPS = 1e-5;

function modelOf(cell: CellType, layers: number, activation: Activation = 'tanh', seed = 3): Model {
  const vocab = new Vocab([...new Set(TEXT)].sort());
  const { model } = createModel({ cell, activation, hidden: 5, layers }, vocab, seed, 'f64');
  // Larger than the default init so the gates leave their linear region.
  const rng = new Rng(seed + 1);
  for (let i = 0; i < model.params.data.length; i++) model.params.data[i] = (rng.uniform() * 2 - 1) * 0.9;
  return model;
}

/** ∂(loss of the perturbed trace)/∂delta by central differences. */
function fdOf(model: Model, at: Omit<Perturbation, 'delta'>, loss: (t: ReturnType<typeof traceBptt>) => number): number {
  const up = loss(traceBptt(model, TEXT, { perturb: { ...at, delta: EPS } }));
  const down = loss(traceBptt(model, TEXT, { perturb: { ...at, delta: -EPS } }));
  return (up - down) / (2 * EPS);
}

/** Largest singular value of a dense [n, n] matrix by many power iterations. */
function spectral(m: number[][]): number {
  const n = m.length;
  let v = Array.from({ length: n }, (_, i) => 1 / Math.sqrt(n) + 0.01 * i);
  let s = 0;
  for (let it = 0; it < 3000; it++) {
    const u = m.map((row) => row.reduce((a, x, j) => a + x * v[j]!, 0));
    const w = Array.from({ length: n }, (_, j) => m.reduce((a, row, i) => a + row[j]! * u[i]!, 0));
    s = Math.hypot(...u);
    const wn = Math.hypot(...w);
    v = w.map((x) => x / wn);
  }
  return s;
}

const CASES: { cell: CellType; layers: number; activation?: Activation }[] = [
  { cell: 'rnn', layers: 1 },
  { cell: 'rnn', layers: 2, activation: 'sigmoid' },
  { cell: 'rnn', layers: 1, activation: 'relu' },
  { cell: 'lstm', layers: 1 },
  { cell: 'lstm', layers: 2 },
  { cell: 'gru', layers: 1 },
  { cell: 'gru', layers: 2 },
];

describe('BPTT step-through', () => {
  for (const { cell, layers, activation } of CASES) {
    describe(`${cell}${activation ? ` (${activation})` : ''}, ${layers} layer${layers > 1 ? 's' : ''}`, () => {
      const model = modelOf(cell, layers, activation);
      const tr = traceBptt(model, TEXT, { errorAt: 7 });
      const T = TEXT.length - 1;

      it('computes the same o_t as the network the trainer runs', () => {
        const net = traceHiddenStates(model, TEXT, tsKernels);
        const V = model.config.vocabSize;
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < V; i++) assert.ok(Math.abs(tr.probs[t]![i]! - net.nextProbs[t * V + i]!) < 1e-6, `o_${t}[${i}]`);
        }
        // ...and e_t = −log o_t[y_t], δo_t = o_t − onehot(y_t).
        for (let t = 0; t < T; t++) {
          const y = tr.tokens[t + 1]!;
          assert.ok(Math.abs(tr.errors[t]! + Math.log(net.nextProbs[t * V + y]!)) < 1e-6);
          assert.ok(Math.abs(tr.deltaO[t]![y]! - (net.nextProbs[t * V + y]! - 1)) < 1e-6);
        }
      });

      it('∇θ of E = Σ e_t equals central differences', () => {
        const E = (): number => traceBptt(model, TEXT).E;
        let worst = 0;
        for (const p of model.params.tensors) {
          const g = tr.paramGrads[p.name]!;
          assert.equal(g.length, p.size, p.name);
          for (let j = 0; j < p.size; j += Math.max(1, Math.floor(p.size / 7))) {
            const n = centralDifference(model.params.data, p.offset + j, E);
            worst = Math.max(worst, relErr(g[j]!, n));
            assert.ok(relErr(g[j]!, n) < 1e-5, `${p.name}[${j}]: ${g[j]} vs ${n}`);
          }
        }
        assert.ok(worst < 1e-5);
      });

      it('∂E/∂state_t (Vᵀδo_t + W_hhᵀδ_{t+1} + direct paths) and each δ equal central differences', () => {
        for (let l = 0; l < layers; l++) {
          for (const t of [0, 4, T - 1]) {
            const s = tr.steps[l]![t]!;
            for (let v = 0; v < tr.cell.state.length; v++) {
              for (const i of [0, 3]) {
                const n = fdOf(model, { layer: l, t, where: 'state', vector: v, index: i }, (x) => x.E);
                assert.ok(relErr(s.dState[v]![i]!, n) < 1e-6, `∂E/∂${tr.cell.state[v]}[${i}] at l${l} t${t}: ${s.dState[v]![i]} vs ${n}`);
              }
            }
            // The parts add up to ∂E/∂h_t.
            for (let i = 0; i < 5; i++) assert.ok(Math.abs(s.above[i]! + s.recurrent[i]! + s.direct[0]![i]! - s.dState[0]![i]!) < 1e-12);
            const GH = s.grads.dHhPre.length;
            for (const i of [1, GH - 1]) {
              const n = fdOf(model, { layer: l, t, where: 'hhPre', index: i }, (x) => x.E);
              assert.ok(relErr(s.grads.dHhPre[i]!, n) < 1e-6, `∂E/∂hhPre[${i}] at l${l} t${t}: ${s.grads.dHhPre[i]} vs ${n}`);
            }
          }
        }
        if (cell === 'rnn') {
          // The design's δh_t = (Vᵀδo_t + Wᵀδh_{t+1}) ⊙ f′(s_t) is ∂E/∂s_t.
          const s = tr.steps[layers - 1]![5]!;
          const delta = s.cell.find((x) => x.key === 'delta')!.values;
          const fprime = s.cell.find((x) => x.key === 'fprime')!.values;
          for (let i = 0; i < 5; i++) assert.ok(Math.abs((s.above[i]! + s.recurrent[i]!) * fprime[i]! - delta[i]!) < 1e-12);
          const top = layers - 1;
          const n = fdOf(model, { layer: top, t: 5, where: 'hhPre', index: 2 }, (x) => x.E);
          assert.ok(relErr(delta[2]!, n) < 1e-6);
        }
      });

      it('the chain of e_τ: every factor and the product equal finite differences', () => {
        const c = tr.chain!;
        const top = layers - 1;
        const S = tr.cell.state.length;
        const H = 5;
        const tau = 7;
        for (let k = tau + 1; k < T; k++) assert.equal(c.stateGradNorm[k], 0, 'nothing flows forward in time');
        for (const k of [tau, 4, 1]) {
          // ‖∂e_τ/∂s_k‖.
          const g: number[] = [];
          for (let v = 0; v < S; v++) for (let i = 0; i < H; i++) g.push(fdOf(model, { layer: top, t: k, where: 'state', vector: v, index: i }, (x) => x.errors[tau]!));
          assert.ok(relErr(c.stateGradNorm[k]!, Math.hypot(...g)) < 1e-6, `‖∂e_τ/∂s_${k}‖`);
          // ‖∂e_τ/∂W_hh at step k‖ = ‖∂e_τ/∂hhPre_k‖ · ‖h_{k−1}‖.
          const GH = tr.steps[top]![k]!.grads.dHhPre.length;
          const hPrev = k === 0 ? 0 : Math.hypot(...tr.states[top]![k - 1]![0]!);
          const dPre: number[] = [];
          for (let i = 0; i < GH; i++) dPre.push(fdOf(model, { layer: top, t: k, where: 'hhPre', index: i }, (x) => x.errors[tau]!));
          assert.ok(relErr(c.weightGradNorm[k]!, Math.hypot(...dPre) * hPrev) < 1e-6, `‖∂e_τ/∂W at ${k}‖`);
          // ‖∂s_k/∂W‖_F from the dense ∂s_k/∂hhPre_k.
          const dense: number[] = [];
          for (let i = 0; i < GH; i++) {
            for (let v = 0; v < S; v++) {
              for (let j = 0; j < H; j++) dense.push(fdOf(model, { layer: top, t: k, where: 'hhPre', index: i }, (x) => x.states[top]![k]![v]![j]!));
            }
          }
          assert.ok(relErr(c.weightJacobianNorm[k]!, Math.hypot(...dense) * hPrev) < 1e-6, `‖∂s_${k}/∂W‖`);
          // ‖∂s_k/∂s_{k−1}‖₂ from the dense Jacobian.
          const J: number[][] = [];
          for (let v = 0; v < S; v++) {
            for (let j = 0; j < H; j++) {
              const row: number[] = [];
              for (let u = 0; u < S; u++) {
                for (let i = 0; i < H; i++) row.push(fdOf(model, { layer: top, t: k - 1, where: 'state', vector: u, index: i }, (x) => x.states[top]![k]![v]![j]!));
              }
              J.push(row);
            }
          }
          assert.ok(relErr(c.jacobianNorm[k]!, spectral(J)) < 1e-6, `‖∂s_${k}/∂s_${k - 1}‖: ${c.jacobianNorm[k]} vs ${spectral(J)}`);
        }
        // The first factor is ∂e_τ/∂h_τ = Vᵀδo_τ; the products of the sizes bound the actual sizes.
        assert.ok(Math.abs(c.stateBound[tau]! - c.stateGradNorm[tau]!) < 1e-12);
        for (let k = 0; k <= tau; k++) {
          assert.ok(c.stateGradNorm[k]! <= c.stateBound[k]! * (1 + 1e-9), `state bound at ${k}`);
          assert.ok(c.weightGradNorm[k]! <= c.weightBound[k]! * (1 + 1e-9), `weight bound at ${k}`);
          if (k < tau) assert.ok(Math.abs(c.stateBound[k]! - c.stateBound[k + 1]! * c.jacobianNorm[k + 1]!) <= 1e-12 * c.stateBound[k + 1]!);
        }
      });

      it('its ∂e_τ/∂W per step is the Gradient Flow panel\'s', () => {
        const g = traceGradientFlow(model, TEXT, tsKernels, 7);
        for (let k = 0; k < T; k++) {
          assert.ok(Math.abs(g.wContribution[layers - 1]![k]! - tr.chain!.weightGradNorm[k]!) <= 1e-9 * Math.max(1, tr.chain!.weightGradNorm[k]!), `step ${k}`);
        }
      });
    });
  }

  it('the factor sizes kept from one error serve the next on the same window, with the same numbers', () => {
    const model = modelOf('lstm', 1);
    const norms = new Map<number, number>();
    const first = traceBptt(model, TEXT, { errorAt: 6, jacobianNorms: norms });
    assert.deepEqual([...norms.keys()].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6], 'the factors of e_6 were kept');
    const fresh = traceBptt(model, TEXT, { errorAt: 8 });
    const reused = traceBptt(model, TEXT, { errorAt: 8, jacobianNorms: norms });
    assert.deepEqual(reused.chain, fresh.chain);
    assert.equal(norms.size, 8);
    assert.deepEqual(first.chain!.jacobianNorm.slice(0, 7), fresh.chain!.jacobianNorm.slice(0, 7));
  });

  it('a chain cut by stopFactors leaves out the factors further back and keeps every number it shows', () => {
    const model = modelOf('gru', 1);
    const full = traceBptt(model, TEXT, { errorAt: 8 }).chain!;
    assert.equal(full.factorsFrom, 1);
    let asked = 0;
    const cut = traceBptt(model, TEXT, { errorAt: 8, stopFactors: () => ++asked > 3 }).chain!;
    // Three factors computed (k = 8, 7, 6), the fourth refused.
    assert.equal(cut.factorsFrom, 6);
    assert.equal(asked, 4, 'asked once per factor until it said stop, then not again');
    for (let k = 0; k < 9; k++) {
      assert.equal(cut.stateGradNorm[k], full.stateGradNorm[k], `actual ‖∂e/∂s_${k}‖ is complete`);
      assert.equal(cut.weightGradNorm[k], full.weightGradNorm[k]);
      assert.equal(cut.weightJacobianNorm[k], full.weightJacobianNorm[k]);
      if (k >= 6) assert.equal(cut.jacobianNorm[k], full.jacobianNorm[k], `factor ${k}`);
      else if (k >= 1) assert.ok(Number.isNaN(cut.jacobianNorm[k]!), `factor ${k} left out`);
      if (k >= 5) {
        assert.equal(cut.stateBound[k], full.stateBound[k], `bound ${k}`);
        assert.equal(cut.weightBound[k], full.weightBound[k]);
      } else assert.ok(Number.isNaN(cut.stateBound[k]!) && Number.isNaN(cut.weightBound[k]!), `bound ${k} left out`);
    }
    // Stopped at the first factor: none computed.
    assert.equal(traceBptt(model, TEXT, { errorAt: 8, stopFactors: () => true }).chain!.factorsFrom, 9);
  });

  it('traceBpttInSteps yields many times and ends with what traceBptt returns', () => {
    const model = modelOf('lstm', 2);
    const steps = traceBpttInSteps(model, TEXT, { errorAt: 7 });
    let yields = 0;
    let r = steps.next();
    while (!r.done) {
      yields++;
      r = steps.next();
    }
    // At least one yield per step of each pass (forward and two backward, two layers) and per Jacobian product.
    assert.ok(yields >= 3 * 2 * (TEXT.length - 1), `${yields} yields`);
    const { cell: _cell, ...got } = r.value;
    const { cell: _same, ...expected } = traceBptt(model, TEXT, { errorAt: 7 });
    assert.deepEqual(got, expected);
  });

  it('says why a model, a window or an error cannot be stepped through', () => {
    const vocab = new Vocab([...new Set(TEXT)].sort());
    const { model: gpt } = createModel({ cell: 'gpt', activation: 'tanh', hidden: 8, layers: 1, heads: 2, context: 16 }, vocab, 1);
    assert.throws(() => traceBptt(gpt, TEXT), (e: unknown) => e instanceof ConfigError && /recurrent cells' equations; .* has none/.test(e.message));
    const rnn = modelOf('rnn', 1);
    assert.throws(() => traceBptt(rnn, 'a'), /at least two characters/);
    assert.throws(() => traceBptt(rnn, 'a'.repeat(STEP_THROUGH_MAX_STEPS + 2)), /at most 512 steps \(this window has 513\)/);
    assert.throws(() => traceBptt(rnn, TEXT, { errorAt: TEXT.length - 1 }), /errorAt must be a step from 0 to 9/);
  });
});
