import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CELLS, type CellType, type ModelConfig, type TrainConfig } from '../../src/engine/config';
import { DataError } from '../../src/engine/errors';
import { createNetwork, createParams } from '../../src/engine/models';
import type { StackedCellsNetwork } from '../../src/engine/models/stacked/network';
import { traceGradientFlow, traceHiddenStates } from '../../src/engine/instrument';
import { tsKernels } from '../../src/engine/kernels';
import { estimateTrainingBytes, parameterCount } from '../../src/engine/memory';
import { infoOf } from '../../src/engine/models/catalog';
import { createModel, type Model } from '../../src/engine/model';
import { createOptimizer } from '../../src/engine/optim';
import type { Params } from '../../src/engine/params';
import { Rng } from '../../src/engine/rng';
import { DEFAULT_SAMPLE, sample, Stepper, type SampleOptions } from '../../src/engine/sampling';
import { decodeText } from '../../src/engine/text';
import { Vocab } from '../../src/engine/vocab';

const EMOJI = '😀';
const CJK_EXT_B = '𠀀';

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < p.length; v++) if (p[v]! > p[best]!) best = v;
  return best;
}

/** A model with random weights, scaled so its distributions are far from uniform. */
/** The stacked cells (rnn, lstm, gru), whose equations several tests check; the block families have their own tests. */
const STACKED = CELLS.filter((c) => infoOf(c).kind === 'cells');
const BLOCKS = CELLS.filter((c) => infoOf(c).kind === 'blocks');

function randomModel(cell: CellType, layers: number, hidden: number, text: string, seed: number, scale = 3): Model {
  const vocab = Vocab.fromText(text);
  // A gpt's own settings: heads dividing the width, a context longer than every text here.
  const own = infoOf(cell).settings.some((s) => s.name === 'heads') ? { heads: hidden % 2 === 0 ? 2 : 1, context: 64 } : {};
  const { model } = createModel({ cell, activation: 'tanh', hidden, layers, ...own }, vocab, seed);
  for (let i = 0; i < model.params.data.length; i++) model.params.data[i] *= scale;
  return model;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz .,\n';

function opts(o: Partial<SampleOptions>): SampleOptions {
  return { ...DEFAULT_SAMPLE, ...o };
}

/** Entropy in bits of the character distribution of a string. */
function unigramEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...s].length;
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log2(c / n);
  return h;
}

describe('Vocab', () => {
  it('is the sorted set of code points: an emoji or a CJK char outside the BMP is one token', () => {
    const v = Vocab.fromText(`b${EMOJI}a${CJK_EXT_B}${EMOJI}\nb`);
    assert.deepEqual([...v.chars], ['\n', 'a', 'b', EMOJI, CJK_EXT_B]);
    const { tokens, unknown } = v.encode(`${EMOJI}a${CJK_EXT_B}`);
    assert.deepEqual([...tokens], [3, 1, 4]);
    assert.equal(unknown, 0);
    assert.equal(v.decode(tokens), `${EMOJI}a${CJK_EXT_B}`);
    assert.equal(v.tokenOf(EMOJI), 3);
    assert.equal(v.tokenOf('z'), -1);
    assert.ok(v.has(CJK_EXT_B));
    assert.ok(!v.has('\uD83D'), 'half a surrogate pair is not the emoji');
  });

  it('maps unknown characters to the fallback (space if known, else 0) and counts them, never throws', () => {
    const withSpace = new Vocab(['x', ' ', 'y']);
    assert.equal(withSpace.fallback, 1);
    const r = withSpace.encode(`x?y${EMOJI}\uD800x`);
    assert.deepEqual([...r.tokens], [0, 1, 2, 1, 1, 0]);
    assert.equal(r.unknown, 3);
    assert.deepEqual(r.unknownChars, ['?', EMOJI, '\uD800']);
    const noSpace = new Vocab(['x', 'y']);
    assert.equal(noSpace.fallback, 0);
    assert.deepEqual([...noSpace.encode('y!').tokens], [1, 0]);
    // The list of distinct unknown characters is capped.
    const many = withSpace.encode('abcdefghijklmnopqrstuvw');
    assert.equal(many.unknown, 23);
    assert.equal(many.unknownChars.length, 10);
    assert.deepEqual([...withSpace.encode('').tokens], []);
  });

  it('refuses entries that are not one code point, or repeated', () => {
    assert.throws(() => new Vocab(['a', 'bc']), /not one code point/);
    assert.throws(() => new Vocab(['']), /not one code point/);
    assert.throws(() => new Vocab(['a', 'a']), /appears twice/);
    assert.doesNotThrow(() => new Vocab([EMOJI, CJK_EXT_B]));
  });
});

describe('decodeText', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const dataError = (bytes: Uint8Array, pattern: RegExp, label?: string): void => {
    assert.throws(
      () => decodeText(bytes, label),
      (e: unknown) => e instanceof DataError && pattern.test(e.message),
    );
  };

  it('decodes UTF-8, including 4-byte sequences', () => {
    assert.equal(decodeText(enc(`héllo ${EMOJI} ${CJK_EXT_B}`)), `héllo ${EMOJI} ${CJK_EXT_B}`);
  });
  it('refuses an empty file', () => {
    dataError(new Uint8Array(0), /is empty/);
    dataError(new Uint8Array(0), /^notes\.txt is empty/, 'notes.txt');
  });
  it('refuses a NUL byte as binary, giving its offset', () => {
    dataError(Uint8Array.from([0x61, 0x62, 0x63, 0x00, 0x64]), /looks binary \(a NUL byte at offset 3\)/);
  });
  it('refuses invalid UTF-8', () => {
    for (const bad of [[0xff], [0x61, 0xc3, 0x28], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
      dataError(Uint8Array.from(bad), /not valid UTF-8/);
    }
  });
  it('strips a byte order mark, and a BOM alone is empty', () => {
    assert.equal(decodeText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x68, 0x69])), 'hi');
    // Only the leading one.
    assert.equal(decodeText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x68, 0xef, 0xbb, 0xbf])), 'h\uFEFF');
    dataError(Uint8Array.from([0xef, 0xbb, 0xbf]), /is empty/);
  });
});

describe('Stepper and sampling', () => {
  const model = randomModel('lstm', 2, 16, ALPHABET, 21);

  it('greedy (temperature 0) follows the argmax of Stepper.probs, deterministically', () => {
    const prime = 'the ';
    const text = sample(model, tsKernels, prime, opts({ temperature: 0, length: 120, seed: 1 }));
    assert.equal(sample(model, tsKernels, prime, opts({ temperature: 0, length: 120, seed: 99 })), text, 'the seed does not matter');
    const stepper = new Stepper(model, tsKernels);
    stepper.prime(prime);
    let manual = '';
    for (let i = 0; i < 120; i++) {
      const t = argmax(stepper.probs);
      manual += model.vocab.chars[t];
      stepper.feed(t);
    }
    assert.equal(text, manual);
    assert.equal([...text].length, 120);
  });

  it('the same seed gives the same text, another seed another text', () => {
    const o = opts({ temperature: 1, length: 200, seed: 5 });
    const a = sample(model, tsKernels, 'a', o);
    assert.equal(sample(model, tsKernels, 'a', o), a);
    assert.notEqual(sample(model, tsKernels, 'a', { ...o, seed: 6 }), a);
  });

  it('top-k 1 and a tiny top-p both equal greedy', () => {
    const greedy = sample(model, tsKernels, 'on', opts({ temperature: 0, length: 150 }));
    for (const seed of [1, 2, 3]) {
      assert.equal(sample(model, tsKernels, 'on', opts({ temperature: 1.5, topK: 1, length: 150, seed })), greedy);
      assert.equal(sample(model, tsKernels, 'on', opts({ temperature: 1.5, topP: 1e-9, length: 150, seed })), greedy);
    }
  });

  it('top-k k only ever picks one of the k most likely characters; top-p only from the nucleus', () => {
    const stepper = new Stepper(model, tsKernels);
    stepper.prime('x');
    const rng = new Rng(3);
    for (let i = 0; i < 400; i++) {
      const p = Array.from(stepper.probs);
      const ranked = p.map((_, v) => v).sort((a, b) => p[b]! - p[a]! || a - b);
      const k = 3;
      const t = stepper.choose(rng, { temperature: 1, topK: k, topP: 1 });
      assert.ok(ranked.slice(0, k).includes(t), `step ${i}: token ${t} not in top ${k}`);
      // Nucleus of mass 0.5: the smallest prefix of the ranking reaching it.
      let acc = 0;
      let n = 0;
      while (acc < 0.5) acc += p[ranked[n++]!]!;
      const u = stepper.choose(rng, { temperature: 1, topK: 0, topP: 0.5 });
      assert.ok(ranked.slice(0, n).includes(u), `step ${i}: token ${u} outside the 0.5 nucleus of ${n}`);
      stepper.feed(t);
    }
  });

  it('a higher temperature gives more diverse text (entropy and distinct characters)', () => {
    let lowH = 0, highH = 0, lowD = 0, highD = 0;
    for (const seed of [1, 2, 3]) {
      const low = sample(model, tsKernels, 'the', opts({ temperature: 0.3, length: 2000, seed }));
      const high = sample(model, tsKernels, 'the', opts({ temperature: 3, length: 2000, seed }));
      lowH += unigramEntropy(low) / 3;
      highH += unigramEntropy(high) / 3;
      lowD += new Set(low).size / 3;
      highD += new Set(high).size / 3;
    }
    assert.ok(highH > lowH + 1, `entropy ${lowH.toFixed(2)} bits at 0.3 vs ${highH.toFixed(2)} at 3`);
    assert.ok(highD > lowD, `distinct characters ${lowD} vs ${highD}`);
    // At temperature 3 almost every character of the vocabulary shows up in 2000 draws.
    assert.ok(highD >= model.vocab.size - 3);
  });

  it('stops right after a stop string, producing the same prefix as without it', () => {
    const o = opts({ temperature: 1, length: 400, seed: 8 });
    const full = sample(model, tsKernels, 'he', o);
    for (const stop of [full.slice(100, 102), full.slice(250, 251)]) {
      const at = full.indexOf(stop);
      const stopped = sample(model, tsKernels, 'he', { ...o, stop: ['@@never@@', stop] });
      assert.equal(stopped, full.slice(0, at + stop.length), `stop ${JSON.stringify(stop)}`);
      assert.ok(stopped.endsWith(stop));
    }
    // onChar returning false also ends generation.
    const seen: string[] = [];
    const cut = sample(model, tsKernels, 'he', o, (ch) => {
      seen.push(ch);
      return seen.length < 7;
    });
    assert.equal(cut, full.slice(0, 7));
    assert.equal(seen.join(''), cut);
  });

  it('getState/setState round-trips: the continuation is identical, also in a fresh Stepper', () => {
    for (const cell of CELLS) {
      const m = randomModel(cell, 2, 8, ALPHABET, 4);
      const a = new Stepper(m, tsKernels);
      a.prime('hello, wor');
      const saved = a.getState();
      const run = (s: Stepper): number[][] => {
        const out: number[][] = [];
        for (const ch of 'ld. again') {
          s.feed(m.vocab.tokenOf(ch));
          out.push(Array.from(s.probs));
        }
        return out;
      };
      const first = [Array.from(a.probs), ...run(a)];
      a.setState(saved);
      const second = [Array.from(a.probs), ...run(a)];
      const b = new Stepper(m, tsKernels);
      b.setState(saved);
      assert.ok(b.hasContext);
      const third = [Array.from(b.probs), ...run(b)];
      assert.deepEqual(second, first, cell);
      assert.deepEqual(third, first, cell);
      // And a different state really continues differently.
      const c = new Stepper(m, tsKernels);
      c.prime('zzz');
      assert.notDeepEqual([Array.from(c.probs), ...run(c)], first);
    }
  });

  it('priming with unknown characters feeds the fallback and never throws', () => {
    const a = new Stepper(model, tsKernels);
    assert.doesNotThrow(() => a.prime(`ab☃${EMOJI}c\uD800`));
    const b = new Stepper(model, tsKernels);
    b.prime('ab  c '); // space is this vocabulary's fallback
    assert.deepEqual(Array.from(a.probs), Array.from(b.probs));
    const out = sample(model, tsKernels, `☃${EMOJI}`, opts({ length: 20 }));
    assert.equal([...out].length, 20);
    for (const ch of out) assert.ok(model.vocab.has(ch));
  });

  it('without a prime, generation starts from a newline', () => {
    const s = new Stepper(model, tsKernels);
    s.feed(model.vocab.tokenOf('\n'));
    let manual = '';
    for (let i = 0; i < 30; i++) {
      const t = argmax(s.probs);
      manual += model.vocab.chars[t];
      s.feed(t);
    }
    assert.equal(sample(model, tsKernels, '', opts({ temperature: 0, length: 30 })), manual);
  });

  it('asks shouldStop before every character and stops at once when it says so', () => {
    const whole = sample(model, tsKernels, 'the ', opts({ temperature: 0, length: 50 }));
    let asked = 0;
    const cut = sample(model, tsKernels, 'the ', opts({ temperature: 0, length: 50 }), undefined, () => ++asked > 7);
    assert.equal(asked, 8, 'once per character, and once more to stop');
    assert.equal(cut, [...whole].slice(0, 7).join(''), 'what was generated before the stop is the same text');
  });
});

describe('traceHiddenStates', () => {
  const text = 'hello world, hello';
  for (const cell of STACKED) {
    it(`${cell}: shapes, gates, agreement with the Stepper, next-char probabilities and surprisal`, () => {
      const m = randomModel(cell, 2, 6, 'helo wrd,', 13, 1.5);
      const H = 6;
      const V = m.vocab.size;
      const input = `${text}?`; // '?' is unknown
      const tr = traceHiddenStates(m, input, tsKernels);
      const T = [...input].length;
      assert.deepEqual(tr.chars, [...input]);
      assert.deepEqual(tr.unknown, [T - 1]);
      assert.equal(tr.hidden, H);
      assert.equal(tr.layers.length, 2);
      const expectedGates = ({ rnn: [], lstm: ['i', 'f', 'g', 'o'], gru: ['r', 'z', 'n'] } as Record<string, string[]>)[cell]!;
      for (const layer of tr.layers) {
        assert.equal(layer.h.length, T * H);
        assert.equal(layer.c?.length, cell === 'lstm' ? T * H : undefined);
        assert.deepEqual(Object.keys(layer.gates), expectedGates);
        for (const g of expectedGates) {
          assert.equal(layer.gates[g]!.length, T * H);
          const tanhGate = g === 'g' || g === 'n';
          for (const v of layer.gates[g]!) assert.ok(tanhGate ? v > -1 && v < 1 : v > 0 && v < 1, `${g} = ${v}`);
        }
      }
      assert.equal(tr.nextProbs.length, T * V);

      // The hidden state equals the Stepper's, run character by character.
      const stepper = new Stepper(m, tsKernels);
      const { tokens } = m.vocab.encode(input);
      for (let t = 0; t < T; t++) {
        stepper.feed(tokens[t]!);
        const state = stepper.getState();
        let o = 0;
        for (const layer of tr.layers) {
          for (let j = 0; j < H; j++) assert.ok(Math.abs(state[o + j]! - layer.h[t * H + j]!) < 1e-6, `h at ${t}`);
          o += H;
          if (cell === 'lstm') {
            for (let j = 0; j < H; j++) assert.ok(Math.abs(state[o + j]! - layer.c![t * H + j]!) < 1e-6, `c at ${t}`);
            o += H;
          }
        }
        for (let v = 0; v < V; v++) assert.ok(Math.abs(stepper.probs[v]! - tr.nextProbs[t * V + v]!) < 1e-6);
      }

      // The gates explain the state (PyTorch's equations), checked from the trace alone.
      for (const layer of tr.layers) {
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < H; j++) {
            const k = t * H + j;
            const prevH = t > 0 ? layer.h[k - H]! : 0;
            if (cell === 'lstm') {
              const prevC = t > 0 ? layer.c![k - H]! : 0;
              const { i, f, g, o } = layer.gates as Record<'i' | 'f' | 'g' | 'o', Float32Array>;
              const c = f[k]! * prevC + i[k]! * g[k]!;
              assert.ok(Math.abs(layer.c![k]! - c) < 1e-6);
              assert.ok(Math.abs(layer.h[k]! - o[k]! * Math.tanh(c)) < 1e-6);
            } else if (cell === 'gru') {
              const { z, n } = layer.gates as Record<'z' | 'n', Float32Array>;
              assert.ok(Math.abs(layer.h[k]! - ((1 - z[k]!) * n[k]! + z[k]! * prevH)) < 1e-6);
            }
          }
        }
      }

      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let v = 0; v < V; v++) sum += tr.nextProbs[t * V + v]!;
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${t} sums to ${sum}`);
      }
      for (let t = 0; t + 2 < T; t++) {
        const want = -Math.log2(tr.nextProbs[t * V + tokens[t + 1]!]!);
        assert.ok(Math.abs(tr.surprisalBits[t]! - want) < 1e-4, `surprisal at ${t}`);
        assert.ok(tr.surprisalBits[t]! > 0);
      }
      assert.ok(Number.isNaN(tr.surprisalBits[T - 2]), 'the next character is unknown');
      assert.ok(Number.isNaN(tr.surprisalBits[T - 1]), 'nothing follows the last character');
    });
  }

  for (const cell of BLOCKS) {
    it(`${cell}: every quantity of every block, and the Stepper's next-character probabilities and carried h agree with the trace`, () => {
      const m = randomModel(cell, 2, 8, 'helo wrd,', 13, 1);
      const H = 8;
      const V = m.vocab.size;
      const tr = traceHiddenStates(m, text, tsKernels);
      const T = [...text].length;
      const quantities = infoOf(cell).quantities(m.config);
      assert.equal(tr.layers.length, 2);
      for (const layer of tr.layers) {
        for (const q of quantities) {
          const values = q.name === 'h' ? layer.h : layer.gates[q.name]!;
          assert.equal(values.length, T * q.width, q.name);
          assert.ok(values.every(Number.isFinite), `${q.name} is filled`);
        }
      }
      const stepper = new Stepper(m, tsKernels);
      const { tokens } = m.vocab.encode(text);
      const carriesH = quantities[0]!.name === 'h';
      for (let t = 0; t < T; t++) {
        stepper.feed(tokens[t]!);
        for (let v = 0; v < V; v++) assert.ok(Math.abs(stepper.probs[v]! - tr.nextProbs[t * V + v]!) < 1e-5, `p(${v}) after ${t}`);
        if (!carriesH) continue;
        const state = stepper.getState();
        tr.layers.forEach((layer, l) => {
          for (let j = 0; j < H; j++) assert.ok(Math.abs(state[l * H + j]! - layer.h[t * H + j]!) < 1e-5, `h of block ${l} at ${t}`);
        });
      }
    });
  }

  it('an empty text gives an empty trace', () => {
    const m = randomModel('gru', 1, 4, 'ab', 1);
    const tr = traceHiddenStates(m, '', tsKernels);
    assert.equal(tr.layers.length, 0);
    assert.equal(tr.nextProbs.length, 0);
  });
});

/**
 * A float64 reference vanilla tanh RNN (one layer) that can give each step k
 * its own copy of W_hh and nudge h_k, so ∂e_t/∂W_hh^(k) (= δ_k h_{k-1}ᵀ) and
 * ∂e_t/∂h_k come from central differences, independently of the engine.
 */
function referenceRnn(p: Params, tokens: Int32Array, t: number) {
  const H = p.config.hidden;
  const V = p.config.vocabSize;
  const d = p.data;
  const lp = { wIh: p.offset('rnn.weight_ih_l0'), wHh: p.offset('rnn.weight_hh_l0'), bIh: p.offset('rnn.bias_ih_l0'), bHh: p.offset('rnn.bias_hh_l0') };
  const decoderWeight = p.offset('decoder.weight');
  const decoderBias = p.offset('decoder.bias');
  return (perturb?: { k: number; w?: [number, number, number]; h?: [number, number] }): number => {
    let h = new Float64Array(H);
    for (let k = 0; k <= t; k++) {
      const next = new Float64Array(H);
      for (let i = 0; i < H; i++) {
        let s = d[lp.wIh + i * V + tokens[k]!]! + d[lp.bIh + i]! + d[lp.bHh + i]!;
        for (let j = 0; j < H; j++) {
          let w = d[lp.wHh + i * H + j]!;
          if (perturb?.w && perturb.k === k && perturb.w[0] === i && perturb.w[1] === j) w += perturb.w[2];
          s += w * h[j]!;
        }
        next[i] = Math.tanh(s);
      }
      if (perturb?.h && perturb.k === k) next[perturb.h[0]] += perturb.h[1];
      h = next;
    }
    const logits = new Float64Array(V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let z = d[decoderBias + v]!;
      for (let j = 0; j < H; j++) z += d[decoderWeight + v * H + j]! * h[j]!;
      logits[v] = z;
      max = Math.max(max, z);
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v]! - max);
    return Math.log(sum) + max - logits[tokens[t + 1]!]!;
  };
}

describe('traceGradientFlow', () => {
  it('with errorAt = t: ‖∂e_t/∂h_k‖ and ‖δ_k h_{k-1}ᵀ‖ match central differences; zero after t', () => {
    const vocab = Vocab.fromText('abcdef');
    const { model } = createModel({ cell: 'rnn', activation: 'tanh', hidden: 4, layers: 1 }, vocab, 17, 'f64');
    for (let i = 0; i < model.params.data.length; i++) model.params.data[i] *= 2.5;
    const text = 'abcfedcab';
    const { tokens } = vocab.encode(text);
    const H = 4;
    const eps = 1e-5;
    for (const t of [0, 3, 7]) {
      const flow = traceGradientFlow(model, text, tsKernels, t);
      const e = referenceRnn(model.params, tokens, t);
      assert.ok(Math.abs(flow.loss - e()) < 1e-10, `loss is e_${t}`);
      assert.equal(flow.errorAt, t);
      for (let k = 0; k < text.length - 1; k++) {
        // ∂e_t/∂h_k by nudging h_k.
        let hss = 0;
        for (let j = 0; j < H; j++) {
          const g = (e({ k, h: [j, eps] }) - e({ k, h: [j, -eps] })) / (2 * eps);
          hss += g * g;
        }
        // ∂e_t/∂W^(k): step k's own copy of W_hh.
        let wss = 0;
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < H; j++) {
            const g = (e({ k, w: [i, j, eps] }) - e({ k, w: [i, j, -eps] })) / (2 * eps);
            wss += g * g;
          }
        }
        const hNorm = flow.hGradNorm[0]![k]!;
        const wNorm = flow.wContribution[0]![k]!;
        if (k > t) {
          assert.equal(hNorm, 0, `hGradNorm[${k}] after t = ${t}`);
          assert.equal(wNorm, 0, `wContribution[${k}] after t = ${t}`);
          continue;
        }
        assert.ok(Math.abs(hNorm - Math.sqrt(hss)) < 1e-7 + 1e-5 * Math.sqrt(hss), `t=${t} k=${k}: hGradNorm ${hNorm} vs ${Math.sqrt(hss)}`);
        assert.ok(Math.abs(wNorm - Math.sqrt(wss)) < 1e-7 + 1e-5 * Math.sqrt(wss), `t=${t} k=${k}: wContribution ${wNorm} vs ${Math.sqrt(wss)}`);
      }
      assert.ok(flow.hGradNorm[0]![t]! > 0, 'nonzero at t');
      // h_{-1} is the zero state, so step 0 adds nothing to ∇W_hh.
      assert.equal(flow.wContribution[0]![0], 0);
    }
  });

  for (const cell of STACKED) {
    it(`${cell}: Σ_k wContribution ≥ ‖∇W_hh‖, with equality when one step contributes`, () => {
      const m = randomModel(cell, 2, 5, 'abcdefgh', 3, 1.5);
      const text = 'abcdhgfeab';
      const all = traceGradientFlow(m, text, tsKernels);
      assert.equal(all.errorAt, null);
      for (let l = 0; l < 2; l++) {
        const sum = all.wContribution[l]!.reduce((a, b) => a + b, 0);
        const norm = all.paramGradNorms[`rnn.weight_hh_l${l}`]!;
        assert.ok(norm > 0);
        assert.ok(sum >= norm * (1 - 1e-6), `layer ${l}: Σ ${sum} < ‖∇W_hh‖ ${norm}`);
        // Every step is scored, so ∂E/∂h_k is nonzero everywhere.
        for (const v of all.hGradNorm[l]!) assert.ok(v > 0);
      }
      // errorAt = 1: only step 1 has both δ ≠ 0 and h_{k-1} ≠ 0.
      const one = traceGradientFlow(m, text, tsKernels, 1);
      for (let l = 0; l < 2; l++) {
        const w = one.wContribution[l]!;
        assert.equal(w[0], 0);
        for (let k = 2; k < w.length; k++) assert.equal(w[k], 0);
        const norm = one.paramGradNorms[`rnn.weight_hh_l${l}`]!;
        assert.ok(Math.abs(w[1]! - norm) < 1e-6 * norm, `layer ${l}: ${w[1]} vs ${norm}`);
      }
      // A one-step window: no recurrent gradient at all from a zero state.
      const single = traceGradientFlow(m, 'ab', tsKernels);
      assert.equal(single.wContribution[0]!.length, 1);
      assert.equal(single.paramGradNorms['rnn.weight_hh_l0'], 0);
      assert.equal(single.wContribution[0]![0], 0);
    });
  }

  it('leaves params.grad and the weights exactly as they were (float64 model too)', () => {
    for (const dtype of ['f32', 'f64'] as const) {
      const vocab = Vocab.fromText('abcdef');
      const { model } = createModel({ cell: 'lstm', activation: 'tanh', hidden: 4, layers: 2 }, vocab, 2, dtype);
      const rng = new Rng(1);
      for (let i = 0; i < model.params.grad.length; i++) model.params.grad[i] = rng.uniform() - 0.5 + 1e-9 * rng.uniform();
      const grad = model.params.grad.slice();
      const data = model.params.data.slice();
      traceGradientFlow(model, 'abcdefab', tsKernels, 3);
      traceGradientFlow(model, 'abcdefab', tsKernels);
      assert.deepEqual(model.params.grad, grad, `${dtype} grad`);
      assert.deepEqual(model.params.data, data, `${dtype} weights`);
    }
  });

  it('refuses a window shorter than two characters and an errorAt outside it', () => {
    const m = randomModel('rnn', 1, 3, 'abc', 1);
    assert.throws(() => traceGradientFlow(m, 'a', tsKernels), /at least two characters/);
    assert.throws(() => traceGradientFlow(m, 'abc', tsKernels, 2), /errorAt must be a step from 0 to 1/);
    assert.throws(() => traceGradientFlow(m, 'abc', tsKernels, -1), /errorAt/);
    assert.throws(() => traceGradientFlow(m, 'abc', tsKernels, 0.5), /errorAt/);
  });

  /** A one-layer vanilla RNN with W_hh = w·I and the given input weights and biases. */
  function diagonalRnn(activation: 'tanh' | 'relu', w: number, inputWeight: (i: number) => number, bias: number): Model {
    const vocab = Vocab.fromText('abcd');
    const { model } = createModel({ cell: 'rnn', activation, hidden: 6, layers: 1 }, vocab, 8);
    const p = model.params;
    const H = 6;
    p.view('rnn.weight_hh_l0').fill(0);
    for (let i = 0; i < H; i++) p.view('rnn.weight_hh_l0')[i * H + i] = w;
    const wIh = p.view('rnn.weight_ih_l0');
    for (let i = 0; i < wIh.length; i++) wIh[i] = inputWeight(i);
    p.view('rnn.bias_ih_l0').fill(bias);
    p.view('rnn.bias_hh_l0').fill(0);
    return model;
  }

  it('vanishes for a tanh RNN with small recurrent weights', () => {
    // ∂e/∂h_{k-1} = Wᵀ diag(1 - h_k²) ∂e/∂h_k with W = 0.3·I: each step back shrinks by at least 0.3.
    const model = diagonalRnn('tanh', 0.3, (i) => Math.sin(i), 0.1);
    const t = 10;
    const flow = traceGradientFlow(model, 'abcdabcdabcd', tsKernels, t);
    const g = flow.hGradNorm[0]!;
    assert.ok(g[t]! > 0);
    for (let k = t; k > 0; k--) assert.ok(g[k - 1]! <= 0.3 * g[k]! * (1 + 1e-6) && g[k - 1]! > 0, `k=${k}: ${g[k - 1]} vs ${g[k]}`);
    assert.ok(g[0]! < 1e-4 * g[t]!);
  });

  it('explodes for a relu RNN with recurrent weights 3·I', () => {
    // All pre-activations positive, so relu' = 1 and each step back multiplies by exactly 3.
    const model = diagonalRnn('relu', 3, () => 0.01, 0.01);
    const t = 8;
    const flow = traceGradientFlow(model, 'abcdabcdab', tsKernels, t);
    const g = flow.hGradNorm[0]!;
    for (let k = t; k > 0; k--) {
      const ratio = g[k - 1]! / g[k]!;
      assert.ok(Math.abs(ratio - 3) < 1e-4, `k=${k}: ratio ${ratio}`);
    }
    assert.ok(g[0]! > 1000 * g[t]!);
  });
});

describe('memory estimates', () => {
  const train = { batch: 16, seq: 32, optimizer: 'adam' as const, momentum: 0 };
  it('parameterCount equals the engine\'s Params for every cell and depth', () => {
    for (const cell of STACKED) {
      for (const layers of [1, 2, 3]) {
        for (const [hidden, vocabSize] of [[1, 1], [7, 13], [32, 100]] as const) {
          const c: ModelConfig = { cell, activation: 'tanh', hidden, layers, vocabSize };
          const count = createParams(c).count;
          assert.equal(parameterCount(c), count, `${cell} L${layers} H${hidden} V${vocabSize}`);
          // And PyTorch's own count, written out: 4 tensors per layer plus the decoder.
          const G = ({ rnn: 1, lstm: 4, gru: 3 } as Record<string, number>)[cell]!;
          let torch = vocabSize * hidden + vocabSize;
          for (let l = 0; l < layers; l++) torch += G * hidden * ((l === 0 ? vocabSize : hidden) + hidden) + 2 * G * hidden;
          assert.equal(count, torch);
        }
      }
    }
  });

  it('estimateTrainingBytes grows with vocabulary, batch, sequence and hidden size', () => {
    for (const cell of STACKED) {
      const c: ModelConfig = { cell, activation: 'tanh', hidden: 64, layers: 2, vocabSize: 80 };
      const base = estimateTrainingBytes(c, train);
      assert.ok(estimateTrainingBytes({ ...c, vocabSize: 81 }, train) > base);
      assert.ok(estimateTrainingBytes({ ...c, vocabSize: 800 }, train) > estimateTrainingBytes({ ...c, vocabSize: 81 }, train));
      assert.ok(estimateTrainingBytes(c, { ...train, batch: 17 }) > base);
      assert.ok(estimateTrainingBytes(c, { ...train, batch: 64 }) > estimateTrainingBytes(c, { ...train, batch: 17 }));
      assert.ok(estimateTrainingBytes(c, { ...train, seq: 33 }) > base);
      assert.ok(estimateTrainingBytes({ ...c, hidden: 65 }, train) > base);
      assert.ok(estimateTrainingBytes({ ...c, layers: 3 }, train) > base);
      // Adam keeps two moments, plain SGD none.
      assert.ok(estimateTrainingBytes(c, { ...train, optimizer: 'sgd' }) < base);
    }
  });

  it('is at least what the parameters, optimizer and graph actually allocate', () => {
    for (const cell of STACKED) {
      for (const [hidden, vocabSize, batch, seq, layers] of [[16, 30, 4, 10, 2], [64, 200, 8, 25, 3], [5, 3, 1, 1, 1]] as const) {
        const c: ModelConfig = { cell, activation: 'tanh', hidden, layers, vocabSize };
        const t: Pick<TrainConfig, 'batch' | 'seq' | 'optimizer' | 'momentum'> = { batch, seq, optimizer: 'adam', momentum: 0 };
        const params = createParams(c);
        const opt = createOptimizer(params, { optimizer: 'adam', momentum: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
        const graph = (createNetwork(params, { B: batch, T: seq, kernels: tsKernels }) as StackedCellsNetwork);
        let bytes = params.data.byteLength + params.grad.byteLength;
        for (const buf of opt.slots.values()) bytes += buf.byteLength;
        const seen = new Set<unknown>();
        for (const s of graph.layers) {
          for (const buf of [s.pre, s.hh, s.h, s.c, s.aux, s.dOut, s.dh, s.dc, s.dPre, s.dPreHh]) {
            if (!seen.has(buf)) bytes += buf.byteLength;
            seen.add(buf);
          }
        }
        bytes += graph.probs.byteLength + graph.tokens.byteLength + graph.targets.byteLength;
        const estimate = estimateTrainingBytes(c, t);
        assert.ok(estimate >= bytes, `${cell} ${JSON.stringify(t)} H${hidden}: estimate ${estimate} < allocated ${bytes}`);
        // …and not wildly more.
        assert.ok(estimate < 4 * bytes + 1e5, `${cell}: estimate ${estimate} vs ${bytes}`);
      }
    }
  });
});
