import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Activation, CellType } from '../../src/engine/config';
import { createNetwork, createParams } from '../../src/engine/models';
import type { StackedCellsNetwork } from '../../src/engine/models/stacked/network';
import { tsKernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import { centralDifference, relErr } from './helpers/numeric';


function buildCase(cell: CellType, activation: Activation, layers: number, seed: number) {
  const V = 5, H = 4, B = 2, T = 4;
  const params = createParams({ cell, activation, hidden: H, layers, vocabSize: V }, 'f64');
  const rng = new Rng(seed);
  // Larger than the default init so gates leave their linear region.
  for (let i = 0; i < params.data.length; i++) params.data[i] = (rng.uniform() * 2 - 1) * 0.9;
  const graph = (createNetwork(params, { B: B, T: T, kernels: tsKernels }) as StackedCellsNetwork);
  for (let r = 0; r < B * T; r++) {
    graph.tokens[r] = Math.floor(rng.uniform() * V);
    graph.targets[r] = Math.floor(rng.uniform() * V);
  }
  // A carried-in state, so the t = 0 terms are exercised too.
  const init = graph.carried.map((c) => Float64Array.from({ length: c.data.length }, () => rng.uniform() - 0.5));
  const loss = (): number => {
    graph.carried.forEach((c, k) => c.data.set(init[k]!));
    return graph.forward();
  };
  return { params, graph, loss };
}

function checkGradients(cell: CellType, activation: Activation, layers: number, seed: number): number {
  const { params, graph, loss } = buildCase(cell, activation, layers, seed);
  params.grad.fill(0);
  loss();
  graph.backward();
  const analytic = Float64Array.from(params.grad);
  let worst = 0;
  let checked = 0;
  for (let i = 0; i < params.data.length; i++) {
    const numeric = centralDifference(params.data, i, loss);
    // Entries that are exactly zero (tokens never seen) must be zero both ways.
    if (Math.abs(numeric) < 1e-10 && Math.abs(analytic[i]!) < 1e-10) continue;
    // Entries near zero are judged by absolute error: there round-off, not a bug, dominates.
    const err = Math.max(Math.abs(analytic[i]!), Math.abs(numeric)) < 1e-6
      ? Math.abs(analytic[i]! - numeric) * 1e6
      : relErr(analytic[i]!, numeric);
    if (err > worst) worst = err;
    checked++;
  }
  assert.ok(checked > params.data.length / 2, `only ${checked} of ${params.data.length} gradients were non-zero`);
  return worst;
}

describe('gradient check (float64, central differences)', () => {
  const cases: [CellType, Activation, number][] = [
    ['rnn', 'tanh', 1], ['rnn', 'tanh', 2], ['rnn', 'sigmoid', 1], ['rnn', 'sigmoid', 3], ['rnn', 'relu', 1], ['rnn', 'relu', 2],
    ['lstm', 'tanh', 1], ['lstm', 'tanh', 2], ['lstm', 'tanh', 3],
    ['gru', 'tanh', 1], ['gru', 'tanh', 2], ['gru', 'tanh', 4],
  ];
  for (const [cell, activation, layers] of cases) {
    it(`${cell}${cell === 'rnn' ? `/${activation}` : ''} with ${layers} layer(s)`, () => {
      const worst = checkGradients(cell, activation, layers, 7 + layers);
      assert.ok(worst < 1e-4, `worst relative error ${worst.toExponential(2)}`);
    });
  }

  it('detects a wrong gradient (the check itself can fail)', () => {
    const { params, graph, loss } = buildCase('lstm', 'tanh', 1, 3);
    params.grad.fill(0);
    loss();
    graph.backward();
    const i = params.tensor('rnn.weight_hh_l0').offset + 5;
    const numeric = centralDifference(params.data, i, loss);
    assert.ok(relErr(params.grad[i]! * 1.01, numeric) > 1e-3);
  });
});
