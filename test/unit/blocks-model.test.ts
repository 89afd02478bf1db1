/**
 * The block models' bookkeeping: tensor specs and nanoGPT's initialisation,
 * parameter counts and memory estimates (checked against what a network
 * really allocates), and the one-line validation of family settings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/engine/errors';
import { tsKernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import { resolveContext, validateBlockSettings, type BlockConfig, type BlockFamily } from '../../src/engine/models/blocks/config';
import { blockFlopsPerChar } from '../../src/engine/models/blocks/flops';
import { FAMILIES as REGISTRY } from '../../src/engine/models/registry';
import type { ModelConfig } from '../../src/engine/config';
import {
  blockActivationFloats, blockKernelScratchFloats, blockParameterCount, checkBlockMemory, estimateBlockTrainingBytes,
} from '../../src/engine/models/blocks/memory';
import { BlockNetwork } from '../../src/engine/models/blocks/network';
import { blockParams } from '../../src/engine/models/blocks/params';
import { decays, tensorSpecs } from '../../src/engine/models/blocks/specs';

const FAMILIES: readonly BlockFamily[] = ['gpt', 'mingru', 'minlstm'];
const cfg = (family: BlockFamily, over: Partial<BlockConfig> = {}): BlockConfig => ({
  cell: family, hidden: 128, layers: 4, vocabSize: 65, heads: 4, context: 64, ...over,
});

function moments(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length) };
}

describe('block models: tensors and initialisation', () => {
  it('Rng.normal is a deterministic standard normal', () => {
    const a = new Rng(5);
    const xs = Float64Array.from({ length: 200000 }, () => a.normal());
    const { mean, std } = moments(xs);
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(std - 1) < 0.01, `mean ${mean}, std ${std}`);
    const within1 = xs.filter((x) => Math.abs(x) < 1).length / xs.length;
    assert.ok(Math.abs(within1 - 0.6827) < 0.005, `P(|x| < 1) = ${within1}`);
    const b = new Rng(5);
    assert.equal(b.normal(), xs[0]);
  });

  it('nanoGPT init: normal(0, 0.02), c_proj 0.02/sqrt(2L), zero biases, LayerNorm weight 1; same seed, same weights', () => {
    const c = cfg('gpt', { hidden: 64, layers: 3 });
    const p = blockParams(c);
    p.initialize(new Rng(1));
    for (const t of p.tensors) {
      const v = p.view(t.name);
      if (t.name.includes('ln_')) {
        assert.ok(v.every((x) => x === (t.name.endsWith('.weight') ? 1 : 0)), t.name);
      } else if (t.name.endsWith('.bias')) {
        assert.ok(v.every((x) => x === 0), t.name);
      } else {
        const want = t.name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * c.layers) : 0.02;
        const { mean, std } = moments(v);
        assert.ok(Math.abs(std / want - 1) < 0.1 && Math.abs(mean) < want / 5, `${t.name}: std ${std}, want ${want}`);
      }
    }
    const q = blockParams(c);
    q.initialize(new Rng(1));
    assert.deepEqual(q.data, p.data);
  });

  it('specs follow DESIGN §2b: names, shapes, gate rows per family', () => {
    for (const family of FAMILIES) {
      const specs = tensorSpecs(cfg(family, { hidden: 8, layers: 2, vocabSize: 5, context: 6 }));
      const byName = new Map(specs.map((s) => [s.name, s.shape]));
      assert.deepEqual(byName.get('transformer.wte.weight'), [5, 8]);
      assert.equal(byName.has('transformer.wpe.weight'), family === 'gpt');
      assert.deepEqual(byName.get('transformer.h.1.mlp.c_fc.weight'), [32, 8]);
      assert.deepEqual(byName.get('transformer.h.1.mlp.c_proj.weight'), [8, 32]);
      if (family === 'gpt') {
        assert.deepEqual(byName.get('transformer.wpe.weight'), [6, 8]);
        assert.deepEqual(byName.get('transformer.h.0.attn.c_attn.weight'), [24, 8]);
        assert.deepEqual(byName.get('transformer.h.0.attn.c_proj.weight'), [8, 8]);
      } else {
        assert.deepEqual(byName.get('transformer.h.0.mix.to_gates.weight'), [family === 'mingru' ? 16 : 24, 8]);
      }
      assert.ok(!byName.has('lm_head.weight'), 'the tied decoder is not a second parameter');
      assert.equal(new Set(specs.map((s) => s.name)).size, specs.length);
    }
  });
});

describe('block models: parameter count and memory', () => {
  it('the count is the specs\' size and matches the issue\'s models', () => {
    for (const family of FAMILIES) {
      for (const c of [cfg(family), cfg(family, { hidden: 256, context: 128 }), cfg(family, { hidden: 12, layers: 1, vocabSize: 7, heads: 3, context: 9 })]) {
        const n = tensorSpecs(c).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
        assert.equal(blockParameterCount(c), n, `${family} C${c.hidden}`);
      }
    }
    const millions = (c: BlockConfig): number => Math.round(blockParameterCount(c) / 1e4) / 100;
    assert.equal(millions(cfg('gpt')), 0.81);
    assert.equal(millions(cfg('mingru')), 0.67);
    assert.equal(millions(cfg('minlstm')), 0.74);
    assert.equal(Math.round(blockParameterCount(cfg('gpt', { hidden: 256, context: 128 })) / 1e5) / 10, 3.2);
    assert.equal(Math.round(blockParameterCount(cfg('mingru', { hidden: 256 })) / 1e5) / 10, 2.6);
  });

  it('the activation estimate is what a network allocates, with and without dropout', () => {
    for (const family of FAMILIES) {
      for (const dropout of [0, 0.1]) {
        const c = cfg(family, { hidden: 8, layers: 2, vocabSize: 7, heads: 2, context: 9 });
        const net = new BlockNetwork(blockParams(c), 3, 5, tsKernels, dropout);
        assert.equal(blockActivationFloats(c, 3, 5, dropout > 0), net.allocatedFloats, `${family}, dropout ${dropout}`);
      }
    }
  });

  it('attention\'s T²·heads·B weights make gpt\'s estimate grow quadratically in T, the recurrent ones linearly', () => {
    const bytes = (family: BlockFamily, seq: number, heads = 4): number =>
      estimateBlockTrainingBytes(cfg(family, { context: 4096, heads }), { batch: 8, seq, optimizer: 'adamw', momentum: 0, dropout: 0 });
    const extra = (family: BlockFamily, heads = 4): number => bytes(family, 2048, heads) - 2 * bytes(family, 1024, heads) + bytes(family, 1, heads);
    // Growth beyond linear, for gpt: L·(B·heads weights + one ∂weights scratch)·(4T² - 2T²)·4 bytes.
    const quad = 4 * (8 * 4 + 1) * (2048 ** 2 - 2 * 1024 ** 2) * 4;
    assert.ok(Math.abs(extra('gpt') - quad) / quad < 0.01, `${extra('gpt')} vs ${quad}`);
    assert.ok(extra('gpt', 8) > 1.9 * extra('gpt', 4), 'heads count');
    assert.ok(extra('gpt') > 1e9);
    assert.ok(Math.abs(extra('mingru')) < 1e6, `mingru grows linearly (${extra('mingru')})`);
  });

  it('a run above the limit gets a one-line message naming attention when it dominates', () => {
    const c = cfg('gpt', { context: 2048 });
    const train = { batch: 32, seq: 2048, optimizer: 'adamw' as const, momentum: 0, dropout: 0 };
    assert.throws(() => checkBlockMemory(c, train, 2 * 1024 ** 3), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^this gpt run needs about [\d.]+ GiB .*attention weights \(layers × batch × heads × seq²\): lower --seq, --batch or --heads$/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    assert.doesNotThrow(() => checkBlockMemory(cfg('gpt'), { ...train, batch: 12, seq: 64 }, 2 * 1024 ** 3));
    assert.throws(() => checkBlockMemory(cfg('mingru', { hidden: 4096 }), { ...train, batch: 64, seq: 1024 }, 2 * 1024 ** 3), /smaller model, batch or sequence$/);
  });
});

describe('block models: settings', () => {
  it('heads must divide the width, seq must fit the context: one line each, with a fix', () => {
    assert.throws(() => validateBlockSettings(cfg('gpt', { hidden: 100, heads: 3 }), 64),
      (e: unknown) => e instanceof ConfigError && e.message === '--heads 3 must divide the width --hidden 100 (try --heads 2 or --heads 4)');
    assert.throws(() => validateBlockSettings(cfg('gpt', { context: 32 }), 64),
      (e: unknown) => e instanceof ConfigError && e.message === "--seq 64 is longer than the gpt's --context 32: raise --context to at least 64 or lower --seq");
    assert.throws(() => validateBlockSettings(cfg('gpt', { heads: 0 }), 64), /heads must be a whole number of at least 1, got 0/);
    assert.throws(() => validateBlockSettings({ ...cfg('gpt'), cell: 'transformer' as BlockFamily }, 64), /block family must be one of gpt, mingru, minlstm/);
    assert.doesNotThrow(() => validateBlockSettings(cfg('gpt'), 64));
    // The recurrent families have no heads or context to agree with.
    assert.doesNotThrow(() => validateBlockSettings(cfg('mingru', { hidden: 100, heads: 3, context: 1 }), 64));
  });

  it('a gpt network refuses a window longer than its context', () => {
    const c = cfg('gpt', { hidden: 8, heads: 2, context: 4 });
    assert.throws(() => new BlockNetwork(blockParams(c), 1, 5, tsKernels), /does not fit its context of 4/);
  });
});

describe('block models: family descriptors', () => {
  it('carries, quantities, sizes and the network factory agree with the network', () => {
    for (const family of FAMILIES) {
      const f = REGISTRY[family];
      const c = { activation: 'tanh', ...cfg(family, { hidden: 8, layers: 2, vocabSize: 7, heads: 2, context: 9 }) } as ModelConfig;
      const params = blockParams(c);
      const net = f.createNetwork(params, { B: 3, T: 5, kernels: tsKernels, dropout: 0.1 }) as unknown as BlockNetwork;
      assert.deepEqual(f.carries(c, 3), net.carried.map((t) => ({ name: t.name, shape: [...t.shape] })));
      assert.deepEqual([...f.quantities(c)].sort((a, b) => a.name.localeCompare(b.name)), [...net.quantities].sort((a, b) => a.name.localeCompare(b.name)));
      assert.equal(f.gradientTaps(c).length, net.gradientTaps);
      assert.equal(f.networkBytes(c, { batch: 3, seq: 5, dropout: 0.1 }), (net.allocatedFloats + blockKernelScratchFloats(c, 3, 5)) * 4);
      assert.deepEqual(f.tensors(c), tensorSpecs(c));
      assert.equal(f.kind, 'blocks');
      assert.equal(f.settings.length, family === 'gpt' ? 2 : 0);
    }
  });

  it('FLOPs per character: the products of forward and backward', () => {
    const C = 128, V = 65;
    // Forward per character and block: mingru to_gates 2·2C², MLP 2·8C²; the decoder 2·V·C; backward twice that.
    assert.equal(blockFlopsPerChar(cfg('mingru')), 3 * (4 * (4 * C * C + 16 * C * C) + 2 * V * C));
    assert.ok(blockFlopsPerChar(cfg('gpt', { context: 1024 })) > blockFlopsPerChar(cfg('gpt')), 'attention grows with the context');
  });

  it('context 0 means the training window', () => {
    assert.equal(resolveContext(cfg('gpt', { context: 0 }), 128).context, 128);
    assert.equal(resolveContext(cfg('gpt', { context: undefined }), 128).context, 128);
    assert.equal(resolveContext(cfg('gpt', { context: 256 }), 128).context, 256);
    assert.equal(resolveContext(cfg('mingru', { context: 0 }), 128).context, 0);
  });
});

describe('block models: weight decay', () => {
  it('decays the 2-D tensors (weights, embeddings), never biases or LayerNorm, as nanoGPT', () => {
    const specs = tensorSpecs(cfg('gpt', { layers: 1 }));
    const decayed = specs.filter(decays).map((s) => s.name);
    assert.deepEqual(decayed, [
      'transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.h.0.attn.c_proj.weight',
      'transformer.h.0.mlp.c_fc.weight', 'transformer.h.0.mlp.c_proj.weight',
    ]);
  });
});
