/**
 * The panels' state modules (webview/<panel>/state.ts) in plain Node: what
 * each host message and user action does to what the page knows, and which
 * messages it sends back. The Chromium tests (test/webview) check the drawing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  GradFlowSnapshot, HiddenMatrixMessage, HiddenTraceMessage, LossDataMessage, LossModelInfo,
} from '../../src/shared/webviewProtocol';
import { GradFlowState } from '../../webview/gradflow/state';
import { HiddenState } from '../../webview/hidden/state';
import { LossState } from '../../webview/loss/state';

// ------------------------------------------------------------------ gradient flow

function snapshot(step: number, T = 4, L = 2): GradFlowSnapshot {
  const row = (scale: number) => Array.from({ length: T }, (_, k) => scale * (k + 1));
  return {
    text: 'abcdefgh'.slice(0, T + 1), T, loss: 2, step, gradNorm: 3, clippedNorm: 3, clipped: false, clip: 5,
    hGradNorm: Array.from({ length: L }, () => row(1)), wContribution: Array.from({ length: L }, () => row(0.5)),
    rowTs: [T - 1], rowH: Array.from({ length: L }, () => [row(0.1)]), rowW: Array.from({ length: L }, () => [row(0.01)]),
    paramGradNorms: { 'rnn.weight_hh_l0': 1 }, windowParamNorms: { 'rnn.weight_hh_l0': 1 },
  };
}

const gfModels = [{ id: 'a', name: 'A', cell: 'rnn', hidden: 8, layers: 2 }, { id: 'b', name: 'B', cell: 'lstm', hidden: 8, layers: 2 }];

describe('gradient-flow state', () => {
  it('follows the newest snapshot until the slider holds an older one', () => {
    const s = new GradFlowState();
    s.receive({ kind: 'gradflow/init', models: gfModels, primary: 'a', compare: null });
    assert.equal(s.current(), null);
    s.receive({ kind: 'gradflow/data', modelId: 'a', reset: true, snapshots: [snapshot(50), snapshot(100)] });
    assert.equal(s.current()!.s.step, 100);
    s.scrubTo(0);
    assert.equal(s.view.snapshot, 0);
    s.receive({ kind: 'gradflow/data', modelId: 'a', reset: false, snapshots: [snapshot(150)] });
    assert.deepEqual([s.current()!.index, s.current()!.s.step], [0, 50]);
    s.scrubTo(2);
    assert.equal(s.view.snapshot, null, 'the last position follows the newest');
    s.receive({ kind: 'gradflow/data', modelId: 'a', reset: true, snapshots: [snapshot(7)] });
    assert.deepEqual(s.primary().map((x) => x.step), [7], 'reset replaces');
  });

  it('a new primary model drops the error and the snapshot; a saved comparison is asked for again', () => {
    const s = new GradFlowState({ modelId: 'old', compare: 'b', errorAt: 2, snapshot: 1, layer: 0 });
    const replies = s.receive({ kind: 'gradflow/init', models: gfModels, primary: 'a', compare: null });
    assert.deepEqual(replies, [{ kind: 'gradflow/compare', modelId: 'b' }]);
    assert.deepEqual(s.persisted(), { modelId: 'a', compare: 'b', layer: 0, errorAt: null, snapshot: null });
    assert.deepEqual(new GradFlowState({ modelId: 'a', compare: 'b' }).receive({ kind: 'gradflow/init', models: gfModels, primary: 'a', compare: 'b' }), []);
  });

  it('errors: a click toggles, the keyboard moves inside the window, the whole E past its end', () => {
    const s = new GradFlowState();
    s.receive({ kind: 'gradflow/init', models: gfModels, primary: 'a', compare: null });
    s.receive({ kind: 'gradflow/data', modelId: 'a', reset: true, snapshots: [snapshot(1, 4)] });
    const snap = s.current()!.s;
    s.toggleError(2);
    assert.equal(s.errorIn(snap), 2);
    s.toggleError(2);
    assert.equal(s.errorIn(snap), null);
    assert.equal(s.moveError(2, 'ArrowRight'), 3);
    assert.equal(s.moveError(3, 'ArrowRight'), null, 'no step past T - 1');
    assert.equal(s.view.errorAt, 3);
    assert.equal(s.moveError(3, 'Home'), 0);
    assert.equal(s.moveError(0, 'End'), 3);
    assert.equal(s.netCursor, 3);
    s.view.errorAt = 9;
    assert.equal(s.errorIn(snap), null, 'an error beyond this window shows the whole E');
  });

  it('the layer defaults to the top one; comparing asks the host only on a change', () => {
    const s = new GradFlowState();
    s.receive({ kind: 'gradflow/init', models: gfModels, primary: 'a', compare: null });
    assert.equal(s.layerOf(snapshot(1, 4, 3)), 2);
    s.selectLayer(0);
    assert.equal(s.layerOf(snapshot(1, 4, 3)), 0);
    assert.deepEqual(s.compareWith('b'), { kind: 'gradflow/compare', modelId: 'b' });
    assert.equal(s.compareWith('b'), null);
    s.receive({ kind: 'gradflow/data', modelId: 'b', reset: true, snapshots: [snapshot(10), snapshot(20)] });
    assert.equal(s.compared()!.step, 20);
  });

  it('an unknown message kind throws (the channel reports it)', () => {
    assert.throws(() => new GradFlowState().receive({ kind: 'gradflow/explode' } as never), /unexpected message kind "gradflow\/explode"/);
  });
});

// ------------------------------------------------------------------ loss

const lossModel = (id: string, name: string): LossModelInfo => ({ id, name, cell: 'lstm', hidden: 8, layers: 1, params: 100, vocabSize: 10, state: 'done', steps: 3, bestValLoss: null });

function lossData(modelId: string, steps: number[], reset: boolean): LossDataMessage {
  return {
    kind: 'loss/data', modelId, reset,
    progress: { step: steps, epoch: steps.map((s) => s / 10), chars: steps.map((s) => s * 100), loss: steps.map((s) => 4 - s / 10), lr: steps.map(() => 0.01), charsPerSec: steps.map(() => 1000) },
    validation: { step: steps.filter((s) => s % 2 === 0), loss: steps.filter((s) => s % 2 === 0).map(() => 3) },
  };
}

describe('loss state', () => {
  it('saved options are read defensively', () => {
    const s = new LossState({ modelId: 'm', smoothing: 5, units: 'bits', x: 'chars', yScale: 'logarithmic', tab: 7 });
    assert.deepEqual(s.persisted(), { modelId: 'm', compare: [], units: 'bits', x: 'chars', yScale: 'logarithmic', smoothing: 0.99, showRaw: true, tab: 0 });
  });

  it('appends data of shown models, replaces on reset, ignores others', () => {
    const s = new LossState();
    assert.equal(s.receive({ kind: 'loss/init', models: [lossModel('a', 'A'), lossModel('b', 'B')], primary: 'a', compare: [] }), 'models');
    assert.equal(s.receive(lossData('b', [1, 2], true)), 'ignored', 'b is not shown');
    assert.equal(s.receive(lossData('a', [1, 2], true)), 'data');
    s.receive(lossData('a', [3, 4], false));
    assert.deepEqual(s.runs.get('a')!.progress.step, [1, 2, 3, 4]);
    assert.deepEqual(s.runs.get('a')!.validation.step, [2, 4]);
    s.receive(lossData('a', [9], true));
    assert.deepEqual(s.runs.get('a')!.progress.step, [9]);
    assert.deepEqual(s.shown(), ['a']);
  });

  it('compare never includes the primary model; a removed model leaves the comparison', () => {
    const s = new LossState();
    s.receive({ kind: 'loss/init', models: [lossModel('a', 'A'), lossModel('b', 'B'), lossModel('c', 'C')], primary: 'a', compare: [] });
    s.setCompare(['a', 'b', 'c']);
    assert.deepEqual(s.view.compare, ['b', 'c']);
    assert.deepEqual(s.others().map((m) => m.id), ['b', 'c']);
    s.receive(lossData('c', [1], true));
    assert.deepEqual(s.shown(), ['a', 'c'], 'b has no data yet');
    s.receive({ kind: 'loss/remove', modelId: 'c' });
    assert.deepEqual(s.view.compare, ['b']);
    assert.equal(s.runs.has('c'), false);
  });

  it('units, axes and the CSV export', () => {
    const s = new LossState();
    s.receive({ kind: 'loss/init', models: [lossModel('a', 'My model / v2')], primary: 'a', compare: [] });
    s.receive(lossData('a', [1, 2, 3], true));
    const run = s.runs.get('a')!;
    s.setUnits('bits');
    assert.equal(s.toUnits(Math.LN2 * 3), 3);
    s.setUnits('nonsense');
    assert.equal(s.view.units, 'nats');
    s.setX('epoch');
    assert.deepEqual(s.xsOf(run), [0.1, 0.2, 0.3]);
    assert.deepEqual(s.validationXs(run), [0.2], 'validation at step 2 sits at epoch 0.2');
    s.setX('chars');
    assert.deepEqual(s.validationXs(run), [200]);
    assert.equal(s.safeName(), 'My-model-v2');
    const lines = s.csv().trimEnd().split('\n');
    assert.equal(lines.length, 1 + 3 + 1, 'header, three train rows, one validation row');
    assert.match(lines[0]!, /^model,model_id,series,step,epoch,chars_seen,loss_nats,loss_bits/);
    const cells = lines[1]!.split(',');
    assert.deepEqual(cells.slice(2, 7), ['train', '1', '0.1', '100', '3.9']);
    assert.ok(Math.abs(Number(cells[7]) - 3.9 / Math.LN2) < 1e-12);
    assert.deepEqual(lines[4]!.split(',').slice(2, 7), ['validation', '2', '0.2', '200', '3']);
  });
});

// ------------------------------------------------------------------ hidden states

const T = 6;
const H = 4;

function trace(seq: number, layers = 2): HiddenTraceMessage {
  return {
    kind: 'hidden/trace', seq, modelId: 'm', modelName: 'M', cell: 'lstm', layers, hidden: H, quantities: ['h', 'c', 'i', 'f', 'g', 'o'],
    source: 'a.txt', firstLine: 1, chars: [...'a"bc"d'], totalChars: T, unknown: [], surprisal: Array<number | null>(T).fill(1),
    topK: 1, topChars: Array<string>(T).fill('a'), topProbs: Array<number>(T).fill(0.5), heads: 0,
  };
}

/** Neuron j's value at t: neuron 2 varies most, then 0, then 3; neuron 1 is constant. */
function matrix(seq: number, layer = 0, quantity: HiddenMatrixMessage['quantity'] = 'h'): HiddenMatrixMessage {
  const values: number[] = [];
  for (let t = 0; t < T; t++) values.push(t % 2 ? 0.5 : -0.5, 0.1, t % 2 ? 0.9 : -0.9, t % 2 ? 0.05 : -0.05);
  return { kind: 'hidden/matrix', seq, layer, quantity, values };
}

describe('hidden-states state', () => {
  it('a trace asks for the matrix of the chosen layer and quantity, resetting those the model lacks', () => {
    const s = new HiddenState({ layer: 3, quantity: 'z' });
    const fx = s.receive(trace(1));
    assert.deepEqual(fx.post, [{ kind: 'hidden/select', layer: 0, quantity: 'h' }]);
    assert.equal(s.hasMatrix(), false);
    assert.deepEqual(s.rows, []);
  });

  it('the matrix orders the rows by variance; top k, minimum variance and search filter them', () => {
    const s = new HiddenState();
    s.receive(trace(1));
    assert.equal(s.receive(matrix(1)).redraw, true);
    assert.deepEqual(s.rows, [2, 0, 3, 1]);
    assert.deepEqual(s.scale, { center: 0, half: 0.9 });
    s.setOrder({ topK: 2 });
    assert.deepEqual(s.rows, [2, 0]);
    s.setOrder({ topK: 0, minVariance: 0.01 });
    assert.deepEqual(s.rows, [2, 0]);
    s.setOrder({ minVariance: 0, search: '1, 3' });
    assert.deepEqual(s.rows, [3, 1]);
    s.setOrder({ search: '', sort: 'index' });
    assert.deepEqual(s.rows, [0, 1, 2, 3]);
  });

  it('matrices of another trace, layer or size are not used; a wrong size is reported', () => {
    const s = new HiddenState();
    s.receive(trace(2));
    assert.deepEqual(s.receive(matrix(1)), { post: [], redraw: false });
    assert.deepEqual(s.receive(matrix(2, 1)), { post: [], redraw: false });
    const bad = s.receive({ ...matrix(2), values: [1, 2, 3] });
    assert.match(bad.error!, /hidden\/matrix has 3 values, expected 24/);
    assert.equal(s.hasMatrix(), false);
  });

  it('a pick is told to the host, dropped with the layer, and re-sent with the next matrix', () => {
    const s = new HiddenState();
    s.receive(trace(1));
    s.receive(matrix(1));
    assert.deepEqual(s.pick(2), { kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: 2 });
    assert.deepEqual(s.topPositions(), { most: [1, 3, 5, 0, 2, 4], least: [4, 2, 0, 5, 3, 1] });
    assert.deepEqual(s.receive(matrix(1)).post, [{ kind: 'hidden/pick', layer: 0, quantity: 'h', neuron: 2 }]);
    assert.deepEqual(s.setLayer(1), [
      { kind: 'hidden/pick', layer: 1, quantity: 'h', neuron: null },
      { kind: 'hidden/select', layer: 1, quantity: 'h' },
    ]);
    assert.equal(s.picked, null);
    assert.equal(s.hasMatrix(), false, 'the matrix of layer 0 is not layer 1');
  });

  it('gates are coloured around 0.5; the cursor stays on the rows', () => {
    const s = new HiddenState({ quantity: 'f' });
    s.receive(trace(1));
    s.receive(matrix(1, 0, 'f'));
    assert.deepEqual(s.scale, { center: 0.5, half: 0.5 });
    assert.equal(s.moveCursor('ArrowUp', 5), true);
    assert.equal(s.cursor, 0);
    s.moveCursor('PageDown', 10);
    assert.equal(s.cursor, 3);
    assert.equal(s.moveCursor('x', 1), false);
    s.pick(0);
    s.focusPicked();
    assert.equal(s.rows[s.cursor], 0);
  });

  it('a status replaces the trace unless it only says loading while one is shown', () => {
    const s = new HiddenState();
    s.receive(trace(1));
    assert.equal(s.receive({ kind: 'hidden/status', state: 'loading', message: 'Tracing…' }).redraw, false);
    assert.ok(s.trace);
    s.receive({ kind: 'hidden/status', state: 'noModel', message: 'No model for a.txt yet.' });
    assert.equal(s.trace, null);
    assert.equal(s.status, 'No model for a.txt yet.');
  });
});

describe('hidden-states state: the attention view', () => {
  /** A 2-layer, 2-head gpt trace of T characters. */
  const gptTrace = (seq: number): HiddenTraceMessage => ({ ...trace(seq), cell: 'gpt', quantities: ['x'], heads: 2 });
  /** Rows of query t: head r's weight on s is (r + 1)·(s + 1), normalised. */
  const attention = (seq: number, t: number) => {
    const weights: number[] = [];
    for (let r = 0; r < 4; r++) {
      const raw = Array.from({ length: t + 1 }, (_, s) => (r + 1) * (s + 1));
      const sum = raw.reduce((a, b) => a + b, 0);
      weights.push(...raw.map((v) => v / sum));
    }
    return { kind: 'hidden/attention' as const, seq, t, weights };
  };

  it('a trace with heads asks for the last character\'s row (a trace without them does not)', () => {
    const s = new HiddenState();
    assert.deepEqual(s.receive(gptTrace(1)).post, [{ kind: 'hidden/select', layer: 0, quantity: 'x' }, { kind: 'hidden/attend', t: T - 1 }]);
    assert.equal(s.hasAttention(), false);
    assert.equal(s.receive(attention(1, T - 1)).redraw, true);
    assert.equal(s.hasAttention(), true);
    assert.deepEqual(s.attentionRow(1, 0).map((v) => +v.toFixed(6)), [1, 2, 3, 4, 5, 6].map((v) => +((3 * v) / 63).toFixed(6)), 'layer 2 head 1 is the third row');
    const plain = new HiddenState();
    assert.deepEqual(plain.receive(trace(1)).post.map((m) => m.kind), ['hidden/select']);
    assert.deepEqual(plain.attendTo(2), [], 'no attention to ask for');
  });

  it('picking and moving the query: one request per new position, clamped to the text; saved unless it is the last', () => {
    const s = new HiddenState();
    s.receive(gptTrace(1));
    assert.deepEqual(s.attendTo(2), [{ kind: 'hidden/attend', t: 2 }]);
    assert.equal(s.persisted().attendAt, 2);
    assert.deepEqual(s.moveAttend('ArrowLeft'), [{ kind: 'hidden/attend', t: 1 }]);
    assert.deepEqual(s.moveAttend('Home'), [{ kind: 'hidden/attend', t: 0 }]);
    assert.deepEqual(s.moveAttend('ArrowLeft'), [{ kind: 'hidden/attend', t: 0 }], 'stays on the first character');
    assert.deepEqual(s.moveAttend('End'), [{ kind: 'hidden/attend', t: T - 1 }]);
    assert.equal(s.persisted().attendAt, null, 'the last character is followed, not pinned');
    assert.equal(s.moveAttend('PageDown'), null, 'other keys are not the view\'s');
    assert.deepEqual(s.attendTo(99), [{ kind: 'hidden/attend', t: T - 1 }]);
  });

  it('an answer for another query or trace is dropped; a wrong length is an error', () => {
    const s = new HiddenState();
    s.receive(gptTrace(1));
    s.attendTo(3);
    assert.equal(s.receive(attention(1, 2)).redraw, false, 'not the current query');
    assert.equal(s.receive(attention(0, 3)).redraw, false, 'an older trace');
    const bad = attention(1, 3);
    const fx = s.receive({ ...bad, weights: bad.weights.slice(1) });
    assert.match(fx.error ?? '', /hidden\/attention for position 3 has 15 weights, expected 16/);
    assert.equal(s.hasAttention(), false);
    assert.equal(s.receive(attention(1, 3)).redraw, true);
    // A new, shorter trace drops a query past its end.
    s.attendTo(5);
    const short = { ...gptTrace(2), chars: [...'ab'], surprisal: [1, 1], topChars: ['a', 'a'], topProbs: [0.5, 0.5] };
    assert.deepEqual(s.receive(short).post.at(-1), { kind: 'hidden/attend', t: 1 });
    assert.equal(s.attendQuery(), 1);
  });
});
