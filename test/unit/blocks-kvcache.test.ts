/**
 * gpt inference with a KV cache: appending tokens one at a time (or in runs)
 * gives exactly the distributions of the full forward over the same window,
 * and once the context is full the slide re-runs the kept suffix from
 * position 0, so it equals a full forward of that suffix.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tsKernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import type { BlockConfig } from '../../src/engine/models/blocks/config';
import { BlockNetwork } from '../../src/engine/models/blocks/network';
import { blockParams } from '../../src/engine/models/blocks/params';
import type { Params } from '../../src/engine/params';
import { gptEvalWindows } from '../../src/engine/models/gpt/evalWindows';
import { GptKvCache } from '../../src/engine/models/gpt/kvCache';

const config = { cell: 'gpt', hidden: 12, layers: 2, vocabSize: 7, heads: 3, context: 8 } as const satisfies BlockConfig;

function makeParams(dtype: 'f32' | 'f64' = 'f64'): Params {
  const params = blockParams(config, dtype);
  const rng = new Rng(3);
  params.initialize(rng);
  // Larger weights than the init, so attention is far from uniform.
  for (let i = 0; i < params.data.length; i++) params.data[i] += (rng.uniform() - 0.5) * 0.8;
  return params;
}

/** The full forward's next-token distributions for `tokens` from position 0: [n, V]. */
function fullForward(params: Params, tokens: number[]): Float64Array {
  const net = new BlockNetwork(params, 1, tokens.length, tsKernels);
  net.tokens.set(tokens);
  net.targets.fill(-1);
  net.forward();
  return Float64Array.from(net.probs);
}

function assertNear(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-13, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('gpt KV cache', () => {
  const tokens = [3, 1, 4, 1, 5, 2, 6, 0, 2, 5, 3, 3];
  const V = config.vocabSize;

  it('token by token equals the full forward, position by position', () => {
    const params = makeParams();
    const full = fullForward(params, tokens.slice(0, config.context));
    const cache = new GptKvCache(params, tsKernels);
    for (let t = 0; t < config.context; t++) {
      const probs = cache.step(tokens[t]!);
      assertNear(probs, full.subarray(t * V, (t + 1) * V), `step ${t}`);
      assert.equal(cache.position, t + 1);
    }
  });

  it('a snapshot of a float32 cache restores by copies: the same bits on every token after, across a slide', () => {
    const params = makeParams('f32');
    const a = new GptKvCache(params, tsKernels, { keep: 3 });
    a.append(tokens.slice(0, 6));
    const snap = a.snapshot();
    const after: number[][] = [];
    for (const tok of tokens.slice(6)) after.push(Array.from(a.step(tok)));
    const b = new GptKvCache(params, tsKernels, { keep: 3 });
    b.step(tokens[0]!); // whatever it held is replaced
    assert.ok(b.restore(snap));
    assert.equal(b.position, 6);
    tokens.slice(6).forEach((tok, i) => assert.deepEqual(Array.from(b.step(tok)), after[i], `token ${6 + i} after the restore`));
    // A snapshot of another shape is refused and changes nothing.
    const other = new GptKvCache(blockParams({ ...config, hidden: 6, heads: 2 }), tsKernels);
    assert.equal(other.restore(snap), false);
    assert.equal(other.position, 0);
  });

  it('appending a run at once equals stepping; reset starts a new document', () => {
    const params = makeParams();
    const a = new GptKvCache(params, tsKernels);
    const b = new GptKvCache(params, tsKernels);
    a.append(tokens.slice(0, 3));
    const pa = Float64Array.from(a.append(tokens.slice(3, 6)));
    for (let t = 0; t < 6; t++) b.step(tokens[t]!);
    assertNear(pa, b.probs, 'run of 3 + 3 vs six steps');
    const longRun = new GptKvCache(params, tsKernels, { keep: 3 });
    const stepped = new GptKvCache(params, tsKernels, { keep: 3 });
    longRun.append(tokens);
    for (const tok of tokens) stepped.step(tok);
    assertNear(longRun.probs, stepped.probs, 'a run across the slide');
    assert.equal(longRun.position, stepped.position);
    a.reset();
    const fresh = Float64Array.from(a.step(tokens[0]!));
    assertNear(fresh, fullForward(params, [tokens[0]!]), 'after reset');
  });

  for (const keep of [4, config.context - 1, 0]) {
    it(`past the context the window slides (keep ${keep}): the kept suffix re-run from position 0`, () => {
      const params = makeParams();
      const cache = new GptKvCache(params, tsKernels, { keep });
      assert.equal(cache.keep, keep);
      const seen: number[] = [];
      for (const tok of tokens) {
        if (seen.length === config.context) seen.splice(0, config.context - keep);
        seen.push(tok);
        const probs = cache.step(tok);
        const full = fullForward(params, seen);
        assertNear(probs, full.subarray((seen.length - 1) * V), `after ${tok} with history ${seen.join(',')}`);
        assert.equal(cache.position, seen.length);
      }
    });
  }

  it('refuses a recurrent family', () => {
    const p = blockParams({ ...config, cell: 'mingru' });
    assert.throws(() => new GptKvCache(p, tsKernels), /KV cache is for gpt models, not mingru/);
  });
});

describe('gpt evaluation windows over a long text', () => {
  it('every prediction is scored once, with between context - stride and context - 1 characters of history', () => {
    for (const [n, context, stride] of [[100, 16, 1], [100, 16, 5], [100, 16, 16], [16, 16, 4], [7, 16, 3], [17, 16, 8]] as const) {
      const windows = gptEvalWindows(n, context, stride);
      const seen = new Array<number>(n).fill(0);
      for (const w of windows) {
        assert.ok(w.start >= 0 && w.length <= context && w.start + w.length <= n);
        assert.ok(w.scoreFrom >= w.start && w.scoreFrom < w.start + w.length);
        for (let i = w.scoreFrom; i < w.start + w.length; i++) {
          seen[i]!++;
          const history = i - w.start;
          if (w.start > 0) assert.ok(history >= context - stride && history <= context - 1, `n ${n} stride ${stride}: position ${i} sees ${history}`);
        }
      }
      assert.ok(seen.every((k) => k === 1), `n ${n}, context ${context}, stride ${stride}: each prediction scored once`);
    }
    assert.deepEqual(gptEvalWindows(10, 16, 4), [{ start: 0, length: 10, scoreFrom: 0 }]);
    assert.equal(gptEvalWindows(0, 16, 4).length, 0);
    assert.throws(() => gptEvalWindows(10, 16, 17), /stride must be from 1 to the context 16, got 17/);
  });

  it('with stride 1 each window\'s last prediction is the KV cache\'s with keep = context - 1', () => {
    const params = makeParams();
    const text = [3, 1, 4, 1, 5, 2, 6, 0, 2, 5, 3, 3, 1];
    const cache = new GptKvCache(params, tsKernels, { keep: config.context - 1 });
    for (const w of gptEvalWindows(text.length, config.context, 1).slice(1)) {
      const full = fullForward(params, text.slice(w.start, w.start + w.length));
      cache.reset();
      cache.append(text.slice(0, w.start + w.length));
      assertNear(cache.probs, full.subarray((w.length - 1) * config.vocabSize), `window at ${w.start}`);
    }
  });
});

describe('recurrent block models step by step', () => {
  for (const cell of ['mingru', 'minlstm'] as const) {
    it(`${cell}: a one-token network with carryState equals the full window (inference needs no cache)`, () => {
      const c: BlockConfig = { cell, hidden: 12, layers: 2, vocabSize: 7 };
      const params = blockParams(c, 'f64');
      const rng = new Rng(4);
      params.initialize(rng);
      for (let i = 0; i < params.data.length; i++) params.data[i] += (rng.uniform() - 0.5) * 0.8;
      const tokens = [3, 1, 4, 1, 5, 2, 6, 0];
      const full = new BlockNetwork(params, 1, tokens.length, tsKernels);
      full.tokens.set(tokens);
      full.targets.fill(-1);
      full.forward();
      const one = new BlockNetwork(params, 1, 1, tsKernels);
      one.resetState();
      one.targets[0] = -1;
      tokens.forEach((tok, t) => {
        one.tokens[0] = tok;
        one.forward();
        one.carryState();
        assertNear(one.probs, full.probs.subarray(t * c.vocabSize, (t + 1) * c.vocabSize), `${cell} step ${t}`);
      });
    });
  }
});
