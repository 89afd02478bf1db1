import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHECKPOINT_FORMAT, CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint';
import { DEFAULT_TRAIN, type CellType, type TrainConfig } from '../../src/engine/config';
import { tsKernels } from '../../src/engine/kernels';
import { createModel, type Model } from '../../src/engine/model';
import { Rng } from '../../src/engine/rng';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../../src/engine/safetensors';
import { Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';

const EMOJI = '😀'; // U+1F600, outside the BMP
const CJK_EXT_B = '𠀀'; // U+20000, a CJK ideograph outside the BMP
const TEXT = `To be, or not to be ${EMOJI} — 日本語 ${CJK_EXT_B} that is the question.\n`.repeat(6);

const TRAIN: TrainConfig = { ...DEFAULT_TRAIN, batch: 2, seq: 6, optimizer: 'adam', lr: 5e-3, clip: 1, dropout: 0.1, seed: 3 };

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function build(cell: CellType, layers = 2, hidden = 6): { model: Model; trainer: Trainer } {
  const vocab = Vocab.fromText(TEXT);
  const own = cell === 'gpt' ? { heads: 2, context: TRAIN.seq } : {};
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers, ...own }, vocab, 9);
  const trainer = new Trainer(model, TRAIN, vocab.encode(TEXT).tokens, tsKernels, rng);
  for (let k = 0; k < 3; k++) trainer.step();
  return { model, trainer };
}

/** Re-encodes a checkpoint after editing its tensors and metadata. */
function edit(
  file: Uint8Array,
  f: (tensors: NamedTensor[], metadata: Record<string, string>) => NamedTensor[] | void,
): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(file);
  let list: NamedTensor[] = [...tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data }));
  const meta = { ...metadata };
  list = f(list, meta) ?? list;
  return encodeSafetensors(list, meta);
}

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeCheckpoint(bytes),
    (e: unknown) => {
      assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), `one-line message: ${JSON.stringify(e.message)}`);
      assert.ok(e.message.length < 300, `short message: ${e.message}`);
      return true;
    },
  );
}

/** PyTorch's state_dict for rnn = nn.X(V, H, L) and decoder = nn.Linear(H, V), written out independently. */
function torchStateDict(gates: number, V: number, H: number, L: number): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let l = 0; l < L; l++) {
    out.push([`rnn.weight_ih_l${l}`, [gates * H, l === 0 ? V : H]]);
    out.push([`rnn.weight_hh_l${l}`, [gates * H, H]]);
    out.push([`rnn.bias_ih_l${l}`, [gates * H]]);
    out.push([`rnn.bias_hh_l${l}`, [gates * H]]);
  }
  out.push(['decoder.weight', [V, H]]);
  out.push(['decoder.bias', [V]]);
  return out;
}

describe('checkpoint round trip', () => {
  it('restores weights bit for bit, vocab (emoji, CJK outside the BMP), config, train state and extra metadata', () => {
    const { model, trainer } = build('lstm');
    assert.ok(model.vocab.has(EMOJI) && model.vocab.has(CJK_EXT_B));
    const file = encodeCheckpoint(model, TRAIN, trainer, { source: 'hamlet.txt' });
    const ck = decodeCheckpoint(file);
    assert.deepEqual(ck.model.config, model.config);
    assert.deepEqual(ck.train, TRAIN);
    assert.deepEqual([...ck.model.vocab.chars], [...model.vocab.chars]);
    assert.equal(ck.model.vocab.tokenOf(EMOJI), model.vocab.tokenOf(EMOJI));
    assert.equal(ck.model.vocab.tokenOf(CJK_EXT_B), model.vocab.tokenOf(CJK_EXT_B));
    assert.deepEqual(bytesOf(ck.model.params.data), bytesOf(model.params.data));
    assert.deepEqual(ck.trainState, trainer.state);
    assert.equal(ck.trainState!.step, 3);
    assert.deepEqual(ck.extra, { source: 'hamlet.txt' });
    // Optimizer moments and the carried state are there for an exact resume.
    for (const [slot, buf] of trainer.optimizer.slots) {
      for (const t of model.params.tensors) {
        const saved = ck.resumeTensors.get(`optim.${slot}.${t.name}`);
        assert.ok(saved, `optim.${slot}.${t.name}`);
        assert.deepEqual(bytesOf(saved), bytesOf(buf.subarray(t.offset, t.offset + t.size) as Float32Array));
      }
    }
    for (const l of [0, 1]) {
      assert.ok(ck.resumeTensors.has(`train.h_l${l}`));
      assert.ok(ck.resumeTensors.has(`train.c_l${l}`));
    }
    // The vocab is stored as a JSON array of code points in index order.
    const meta = decodeSafetensors(file).metadata;
    assert.equal(meta.format, CHECKPOINT_FORMAT);
    const vocab = JSON.parse(meta.vocab!) as string[];
    assert.deepEqual(vocab, [...model.vocab.chars]);
    assert.ok(vocab.every((c) => [...c].length === 1));
  });

  it('a model-only checkpoint has no train state and no resume tensors', () => {
    const { model } = build('gru', 1);
    const ck = decodeCheckpoint(encodeCheckpoint(model, TRAIN, null));
    assert.equal(ck.trainState, null);
    assert.equal(ck.resumeTensors.size, 0);
    assert.deepEqual(bytesOf(ck.model.params.data), bytesOf(model.params.data));
  });

  for (const [cell, gates] of [['rnn', 1], ['lstm', 4], ['gru', 3]] as const) {
    it(`${cell}, 2 layers: tensor names and shapes are exactly PyTorch's state_dict`, () => {
      const { model, trainer } = build(cell, 2, 6);
      const V = model.vocab.size;
      const { tensors } = decodeSafetensors(encodeCheckpoint(model, TRAIN, trainer));
      const modelTensors = [...tensors].filter(([n]) => !n.startsWith('optim.') && !n.startsWith('train.'));
      assert.deepEqual(
        modelTensors.map(([n, t]) => [n, t.shape]),
        torchStateDict(gates, V, 6, 2),
      );
      // Optimizer moments use PyTorch's slot names with their own prefix.
      assert.ok(tensors.has('optim.exp_avg.rnn.weight_ih_l0'));
      assert.ok(tensors.has('optim.exp_avg_sq.decoder.bias'));
      // Nothing else sneaks in.
      for (const name of tensors.keys()) assert.match(name, /^(rnn\.|decoder\.|optim\.(exp_avg|exp_avg_sq)\.(rnn|decoder)\.|train\.[hc]_l[01]$)/);
    });
  }

  for (const cell of ['gpt', 'mingru', 'minlstm'] as const) {
    it(`${cell}, 2 blocks: nanoGPT's state-dict names, lm_head.weight written equal to wte, carried h_b per block; loads back bit for bit`, () => {
      const { model, trainer } = build(cell, 2, 6);
      const bytes = encodeCheckpoint(model, TRAIN, trainer);
      const { tensors } = decodeSafetensors(bytes);
      const names = [...tensors.keys()].filter((n) => !n.startsWith('optim.') && !n.startsWith('train.'));
      assert.deepEqual(names.slice(0, 2), cell === 'gpt' ? ['transformer.wte.weight', 'transformer.wpe.weight'] : ['transformer.wte.weight', 'transformer.h.0.ln_1.weight']);
      assert.ok(names.includes(cell === 'gpt' ? 'transformer.h.1.attn.c_attn.weight' : 'transformer.h.1.mix.to_gates.weight'));
      assert.ok(names.includes('transformer.h.1.mlp.c_proj.weight') && names.includes('transformer.ln_f.bias'));
      assert.ok(!names.some((n) => n.endsWith('attn.bias') && !n.includes('c_')), 'no causal-mask buffer');
      const wte = tensors.get('transformer.wte.weight')!;
      const head = tensors.get('lm_head.weight')!;
      assert.deepEqual(head.shape, wte.shape);
      assert.deepEqual([...head.data], [...wte.data]);
      const carried = [...tensors.keys()].filter((n) => n.startsWith('train.')).sort();
      assert.deepEqual(carried, cell === 'gpt' ? [] : ['train.h_b0', 'train.h_b1']);
      const ck = decodeCheckpoint(bytes);
      assert.deepEqual(ck.model.config, model.config);
      assert.deepEqual(bytesOf(ck.model.params.data), bytesOf(model.params.data));
      // The alias is not a parameter: a loader reads wte (a file whose lm_head differs still loads wte's values).
      const edited = decodeCheckpoint(encodeCheckpoint(ck.model, TRAIN, null));
      assert.deepEqual(bytesOf(edited.model.params.view('transformer.wte.weight') as Float32Array), bytesOf(model.params.view('transformer.wte.weight') as Float32Array));
    });
  }

  it('names and order agree with the PyTorch fixtures (lstm_L2, gru_L2, rnn_relu_L2)', () => {
    const dir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'torch');
    for (const [file, cell] of [['lstm_L2.json', 'lstm'], ['gru_L2.json', 'gru'], ['rnn_relu_L2.json', 'rnn']] as const) {
      const fx = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        config: { hidden: number; layers: number; vocab: number };
        params: Record<string, { shape: number[] }>;
      };
      const vocab = new Vocab([...'abcdefghijklmnopqrstuvwxyz'].slice(0, fx.config.vocab));
      const { model } = createModel({ cell, activation: 'tanh', hidden: fx.config.hidden, layers: fx.config.layers }, vocab, 1);
      const { tensors } = decodeSafetensors(encodeCheckpoint(model, TRAIN, null));
      assert.deepEqual(
        [...tensors].map(([n, t]) => [n, t.shape]),
        Object.entries(fx.params).map(([n, p]) => [n, p.shape]),
        file,
      );
    }
  });
});

describe('checkpoint: hostile and foreign files', () => {
  const { model, trainer } = build('lstm', 2, 5);
  const good = encodeCheckpoint(model, TRAIN, trainer);

  it('the unedited file decodes (control)', () => {
    assert.doesNotThrow(() => decodeCheckpoint(edit(good, () => {})));
  });

  it('a valid safetensors file without format metadata is not ours', () => {
    const foreign = encodeSafetensors([{ name: 'weight', shape: [2], data: new Float32Array([1, 2]) }], {});
    expectError(foreign, /not an RNN Lab checkpoint.*no "format" metadata/);
    const noMeta = edit(good, (_t, m) => {
      delete m.format;
    });
    expectError(noMeta, /not an RNN Lab checkpoint/);
  });

  it('another format value is refused and named', () => {
    expectError(edit(good, (_t, m) => void (m.format = 'pt')), /format is "pt", expected "rnn-lab\/1"/);
  });

  it('a wrong shape is refused, naming the tensor and both shapes', () => {
    const bad = edit(good, (t) => {
      const w = t.find((x) => x.name === 'rnn.weight_hh_l1')!;
      w.shape = [w.shape[1]!, w.shape[0]!];
    });
    expectError(bad, /tensor rnn\.weight_hh_l1 has shape \[5,20\] but a 2-layer LSTM .* needs \[20,5\]/);
    // Same number of values, different rank.
    const flat = edit(good, (t) => {
      const w = t.find((x) => x.name === 'decoder.weight')!;
      w.shape = [w.data.length];
    });
    expectError(flat, /tensor decoder\.weight has shape/);
  });

  it('a missing tensor is refused, naming it', () => {
    const bad = edit(good, (t) => t.filter((x) => x.name !== 'rnn.bias_ih_l1'));
    expectError(bad, /missing tensor rnn\.bias_ih_l1 for a 2-layer LSTM with hidden size 5/);
  });

  it('a vocab whose size differs from the config is refused', () => {
    const bad = edit(good, (_t, m) => {
      const v = JSON.parse(m.vocab!) as string[];
      m.vocab = JSON.stringify(v.slice(1));
    });
    expectError(bad, new RegExp(`vocab has ${model.vocab.size - 1} entries but the config says ${model.vocab.size}`));
  });

  it('a malformed vocab is refused', () => {
    expectError(edit(good, (_t, m) => void (m.vocab = '{"a":1}')), /invalid checkpoint vocab/);
    expectError(edit(good, (_t, m) => void (m.vocab = '["ab","c"]')), /invalid checkpoint vocab.*not one code point/);
    expectError(edit(good, (_t, m) => void (m.vocab = '["a","a"]')), /invalid checkpoint vocab.*twice/);
    expectError(edit(good, (_t, m) => void (m.vocab = '[1,2]')), /invalid checkpoint vocab/);
    expectError(edit(good, (_t, m) => void (m.vocab = 'not json')), /"vocab" is not valid JSON/);
    expectError(edit(good, (_t, m) => void delete m.vocab), /no "vocab" entry/);
  });

  it('NaN or infinite weights are refused', () => {
    for (const v of [NaN, Infinity, -Infinity]) {
      const bad = edit(good, (t) => {
        t.find((x) => x.name === 'rnn.weight_ih_l0')!.data[3] = v;
      });
      expectError(bad, /tensor rnn\.weight_ih_l0 contains NaN or infinite weights/);
    }
  });

  it('an invalid config is refused', () => {
    const bad = edit(good, (_t, m) => {
      const c = JSON.parse(m.config!) as { model: Record<string, unknown> };
      c.model.hidden = -3;
      m.config = JSON.stringify(c);
    });
    expectError(bad, /invalid checkpoint config: hidden must be/);
    expectError(edit(good, (_t, m) => void (m.config = '{"model": {"cell": "transformer"}}')), /invalid checkpoint config: cell must be one of rnn, lstm, gru/);
    expectError(edit(good, (_t, m) => void (m.config = '{')), /"config" is not valid JSON/);
  });

  it('a malformed train_state is refused', () => {
    const state = JSON.parse(decodeSafetensors(good).metadata.train_state!) as Record<string, unknown>;
    const variants: unknown[] = [
      null,
      42,
      { ...state, step: -1 },
      { ...state, step: 1.5 },
      { ...state, epoch: '1' },
      { ...state, position: undefined },
      { ...state, rng: [1, 2, 3] },
      { ...state, rng: [0, 0, 0, 0] },
      { ...state, rng: [1, 2, 3, 2 ** 32] },
      { ...state, dataHash: 7 },
      { ...state, charsSeen: Number.MAX_SAFE_INTEGER + 2 },
    ];
    for (const v of variants) {
      expectError(edit(good, (_t, m) => void (m.train_state = JSON.stringify(v))), /"train_state" is malformed/);
    }
    expectError(edit(good, (_t, m) => void (m.train_state = '{step:1}')), /"train_state" is not valid JSON/);
  });

  it('a truncated file is refused at every cut, never with another error', () => {
    const cuts = [0, 4, 7, 8, 20, 100, good.length - 1000, good.length - 5, good.length - 1];
    for (const n of cuts) {
      assert.throws(() => decodeCheckpoint(good.subarray(0, n)), CheckpointError, `cut at ${n}`);
    }
    expectError(good.subarray(0, good.length - 4), /corrupt safetensors|beyond|trailing|exceeds/);
    expectError(good.subarray(0, 4), /not a safetensors file/);
  });

  it('random corruption never escapes as anything but CheckpointError', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 200; k++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(rng.uniform() * 4);
      for (let j = 0; j < flips; j++) {
        // Mostly in the header, where structure lives.
        const at = Math.floor(rng.uniform() * (rng.uniform() < 0.8 ? Math.min(2000, bad.length) : bad.length));
        bad[at] = Math.floor(rng.uniform() * 256);
      }
      try {
        decodeCheckpoint(bad);
      } catch (e) {
        assert.ok(e instanceof CheckpointError, `corruption ${k}: ${String(e)}`);
      }
    }
  });
});

describe('checkpoint: loading for inference', () => {
  it('with weightsOnly ignores optim.* tensors, whatever their shape or contents', () => {
    const { model, trainer } = build('gru', 2, 5);
    const full = encodeCheckpoint(model, TRAIN, trainer);
    const weird = edit(full, (t) => {
      const m = t.find((x) => x.name === 'optim.exp_avg.rnn.weight_ih_l0')!;
      m.shape = [m.data.length + 1];
      m.data = new Float32Array(m.data.length + 1).fill(NaN);
      t.push({ name: 'optim.unknown_slot.decoder.bias', shape: [3], data: new Float32Array([Infinity, 1, 2]) });
    });
    const modelOnly = decodeCheckpoint(encodeCheckpoint(model, TRAIN, null));
    for (const file of [full, weird]) {
      const ck = decodeCheckpoint(file, { weightsOnly: true });
      assert.deepEqual(bytesOf(ck.model.params.data), bytesOf(modelOnly.model.params.data));
      assert.deepEqual(ck.model.config, modelOnly.model.config);
      assert.equal(ck.resumeTensors.size, 0);
    }
    // Without it the same file is refused: a resume could not use it.
    assert.throws(() => decodeCheckpoint(weird), (e: Error) => e instanceof CheckpointError && /optimizer state optim\.exp_avg\.rnn\.weight_ih_l0 has shape/.test(e.message));
  });

  it('optimizer tensors of the wrong size are refused, and a trainer given them anyway does not write out of place', () => {
    const { model, trainer } = build('rnn', 1, 5);
    const weird = edit(encodeCheckpoint(model, TRAIN, trainer), (t) => {
      const m = t.find((x) => x.name === 'optim.exp_avg.decoder.bias')!; // the last tensor of the buffer
      m.shape = [m.data.length + 7];
      m.data = new Float32Array(m.data.length + 7).fill(1);
      const s = t.find((x) => x.name === 'optim.exp_avg_sq.rnn.bias_ih_l0')!;
      s.shape = [1];
      s.data = new Float32Array([123]);
    });
    assert.throws(() => decodeCheckpoint(weird), (e: Error) => e instanceof CheckpointError && /optimizer state optim\.exp_avg\.decoder\.bias has shape \[30\] but its weight has \[23\]/.test(e.message));
    const ck = decodeCheckpoint(weird, { weightsOnly: true });
    for (const [name, data] of decodeSafetensors(weird).tensors) if (/^(optim|train)\./.test(name)) ck.resumeTensors.set(name, data.data);
    const vocab = ck.model.vocab;
    const resumed = new Trainer(ck.model, ck.train, vocab.encode(TEXT).tokens, tsKernels, new Rng(1));
    assert.doesNotThrow(() => resumed.restore(ck.trainState!, ck.resumeTensors));
    const sq = resumed.optimizer.slots.get('exp_avg_sq')!;
    const bIh = ck.model.params.tensor('rnn.bias_ih_l0');
    assert.notEqual(sq[bIh.offset], 123, 'a tensor of the wrong size must not be applied');
    assert.doesNotThrow(() => resumed.step());
  });
});
