/**
 * The model-family seam: what every family declares agrees with the networks
 * it builds, settings are validated from the declarations, and nothing
 * outside a family's folder branches on a family's name.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateModelConfig, type ModelConfig } from '../../src/engine/config';
import { ConfigError } from '../../src/engine/errors';
import { tsKernels } from '../../src/engine/kernels';
import { parameterCount } from '../../src/engine/memory';
import { createNetwork, createParams, FAMILIES, FAMILY_NAMES, familyOf, infoOf, newGradientRecord } from '../../src/engine/models';
import { Rng } from '../../src/engine/rng';
import { describeEstimate, presets } from '../../src/extension/presets';
import { bestKernels } from '../../src/engine/wasm';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** A model of the family with its defaults, resolved for windows of up to `seq` steps (FamilyInfo.forWindow). */
function configOf(cell: ModelConfig['cell'], hidden = 8, seq = 16): ModelConfig {
  const c = validateModelConfig({ cell, hidden, layers: 2, vocabSize: 7 });
  return infoOf(cell).forWindow?.(c, seq) ?? c;
}

/** A window of plain arrays, and one large enough for a wasm arena (where the backend has one). */
const SHAPES = [{ H: 8, B: 2, T: 5 }, { H: 32, B: 16, T: 16 }];

describe('model families', () => {
  it('the registry lists every family under its own name', () => {
    assert.deepEqual(FAMILY_NAMES, Object.keys(FAMILIES));
    for (const name of FAMILY_NAMES) assert.equal(familyOf(name).name, name);
  });

  for (const name of FAMILY_NAMES) {
    describe(name, () => {
      const family = familyOf(name);

      it('declares unique tensor names; parameterCount and Params follow the declaration', () => {
        const c = configOf(name);
        const specs = family.tensors(c);
        assert.equal(new Set(specs.map((t) => t.name)).size, specs.length);
        const params = createParams(c);
        assert.deepEqual(params.tensors.map((t) => [t.name, [...t.shape]]), specs.map((t) => [t.name, [...t.shape]]));
        assert.equal(parameterCount(c), params.count);
      });

      it('initialises each tensor as declared', () => {
        const c = configOf(name);
        const params = createParams(c);
        params.initialize(new Rng(5));
        for (const spec of family.tensors(c)) {
          const v = params.view(spec.name);
          if (spec.init.kind === 'uniform') {
            const bound = spec.init.bound;
            assert.ok(v.every((x) => Math.abs(x) <= bound), `${spec.name} within ±${bound}`);
            assert.ok(v.some((x) => x !== 0));
          } else if (spec.init.kind === 'constant') {
            const value = spec.init.value;
            assert.ok(v.every((x) => x === value), `${spec.name} = ${value}`);
          }
        }
      });

      for (const kernels of [tsKernels, bestKernels()]) for (const { H, B, T } of SHAPES) {
        it(`networks carry what the family declares, and show its quantities (${kernels.name}, H${H} B${B} T${T})`, () => {
          const c = configOf(name, H);
          const params = createParams(c);
          params.initialize(new Rng(2));
          const net = createNetwork(params, { B, T, kernels });
          if (kernels.arena && B * T * H >= 16384 / 2) assert.notEqual(net.kernels, kernels, 'the large window lives in an arena');
          assert.deepEqual(net.carried.map((t) => [t.name, [...t.shape]]), family.carries(c, B).map((t) => [t.name, t.shape]));
          for (const t of net.carried) assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1));
          const rng = new Rng(9);
          for (let r = 0; r < B * T; r++) {
            net.tokens[r] = Math.floor(rng.uniform() * c.vocabSize);
            net.targets[r] = Math.floor(rng.uniform() * c.vocabSize);
          }
          net.resetState();
          const loss = net.forward(null);
          assert.ok(Number.isFinite(loss) && loss > 0);
          assert.equal(net.scored, B * T);
          // Stream 1's quantity h at the last step is what carryState hands to the next window
          // (every family that carries state shows it first).
          const quantities = family.quantities(c);
          assert.ok(quantities.length > 0);
          if (net.carried.length > 0) assert.equal(quantities[0]?.name, 'h');
          const lastH: Float32Array[] = [];
          for (let l = 0; l < c.layers; l++) {
            for (const q of quantities) {
              const out = new Float32Array(T * q.width).fill(NaN);
              net.readQuantity(q.name, l, 1, out);
              assert.ok(out.every(Number.isFinite), `${q.name} of layer ${l} is filled`);
              if (q.name === 'h') lastH.push(out.slice((T - 1) * q.width));
            }
          }
          assert.throws(() => net.readQuantity('no-such-quantity', 0, 0, new Float32Array(T * c.hidden)));
          net.carryState();
          for (let l = 0; l < c.layers; l++) {
            const h = net.carried.find((t) => t.name === `h_l${l}` || t.name === `h_b${l}`);
            if (!h) continue;
            assert.deepEqual([...h.data.subarray(c.hidden, 2 * c.hidden)], [...lastH[l]!], `carried h of layer ${l}, stream 1`);
          }
          net.resetState();
          for (const t of net.carried) assert.ok(t.data.every((v) => v === 0));
          // The gradient taps: one record row per declared tap, filled by a backward pass.
          assert.equal(net.gradientTaps, family.gradientTaps(c).length);
          net.record = newGradientRecord(net);
          params.grad.fill(0);
          net.forward(null);
          net.backward();
          for (let k = 0; k < net.gradientTaps; k++) {
            assert.equal(net.record.hGradNorm[k]!.length, T);
            assert.ok(net.record.hGradNorm[k]!.every((v) => Number.isFinite(v) && v > 0), `tap ${k}: ‖∂E/∂h_t‖ > 0 at every step`);
            assert.ok(net.record.wContribution[k]!.every(Number.isFinite));
          }
          assert.ok(params.grad.some((v) => v !== 0));
        });
      }
    });
  }

  it('validates each family\'s own settings, with their defaults', () => {
    assert.equal(validateModelConfig({ cell: 'rnn', hidden: 4, layers: 1, vocabSize: 3 }).activation, 'tanh');
    assert.equal(validateModelConfig({ cell: 'rnn', activation: 'relu', hidden: 4, layers: 1, vocabSize: 3 }).activation, 'relu');
    assert.throws(() => validateModelConfig({ cell: 'rnn', activation: 'gelu', hidden: 4, layers: 1, vocabSize: 3 }), ConfigError);
    // 0.1.0 wrote an activation for every cell: still read, still checked.
    assert.equal(validateModelConfig({ cell: 'lstm', activation: 'tanh', hidden: 4, layers: 1, vocabSize: 3 }).cell, 'lstm');
    assert.throws(() => validateModelConfig({ cell: 'gru', activation: 'gelu', hidden: 4, layers: 1, vocabSize: 3 }), ConfigError);
    assert.throws(
      () => validateModelConfig({ cell: 'transformer', hidden: 4, layers: 1, vocabSize: 3 }),
      (e: unknown) => e instanceof ConfigError && FAMILY_NAMES.every((f) => e.message.includes(f)),
    );
  });
});

describe('the editor\'s presets', () => {
  it('offer every block family at a size its own settings and training recipe resolve, with the estimate the quick pick shows', () => {
    const all = presets();
    const blocks = FAMILY_NAMES.filter((f) => infoOf(f).kind === 'blocks');
    for (const cell of blocks) {
      const p = all.find((x) => x.id === cell);
      assert.ok(p, `a preset for ${cell}`);
      assert.equal(p.settings.model.cell, cell);
      assert.equal(p.label, infoOf(cell).title);
      for (const s of infoOf(cell).settings) assert.ok((p.settings.model as unknown as Record<string, unknown>)[s.name] !== undefined, `${cell} ${s.name} resolved`);
      assert.equal(p.settings.train.optimizer, infoOf(cell).trainDefaults?.optimizer);
      assert.equal(p.settings.train.weightDecay, infoOf(cell).trainDefaults?.weightDecay);
      assert.match(describeEstimate(p.settings, 65, 100_000, [10]), /params · .* · ~.*\/epoch/);
    }
  });

  it('estimate the time for the threads the run will get: twice the speed on 2 threads halves it', () => {
    const medium = presets().find((p) => p.id === 'medium')!;
    const minutes = (text: string): number => {
      const m = /(\d+) steps ≈ ([\d.]+) (s|min|h)/.exec(text);
      assert.ok(m, text);
      return Number(m[2]) * (m[3] === 'h' ? 60 : m[3] === 's' ? 1 / 60 : 1);
    };
    const one = minutes(describeEstimate(medium.settings, 65, 1_000_000, [10, 20], 1));
    const two = minutes(describeEstimate(medium.settings, 65, 1_000_000, [10, 20], 2));
    assert.ok(Math.abs(one / two - 2) < 0.15, `${one} min on 1 thread, ${two} on 2`);
    // More threads than were measured: the fastest measured count.
    assert.equal(describeEstimate(medium.settings, 65, 1_000_000, [10, 20], 4), describeEstimate(medium.settings, 65, 1_000_000, [10, 20], 2));
    assert.doesNotMatch(describeEstimate(medium.settings, 65, 1_000_000, undefined), /epoch/, 'no times before the speed is known');
  });
});

describe('the extension manifest', () => {
  it('offers exactly the registry\'s families as rnnLab.model.cell (package.json is static: a new family adds itself there)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { enum?: string[]; enumDescriptions?: string[] }> } };
    };
    const cell = manifest.contributes.configuration.properties['rnnLab.model.cell']!;
    assert.deepEqual([...cell.enum!].sort(), [...FAMILY_NAMES].sort());
    assert.equal(cell.enumDescriptions?.length, cell.enum!.length);
  });
});

describe('no family names outside the families\' folders', () => {
  /** Branches on a family's name, a per-family table, or "has a cell state" asked of a buffer's length. */
  const NAMES = FAMILY_NAMES.join('|');
  const PATTERNS = [
    new RegExp(`[!=]==?\\s*'(${NAMES})'`),
    new RegExp(`'(${NAMES})'\\s*[!=]==?`),
    new RegExp(`case\\s+'(${NAMES})'`),
    new RegExp(`\\{\\s*(${NAMES})\\s*:|\\b(${NAMES})\\s*:\\s*\\[`),
    /\.c\.length/,
  ];
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : /\.(ts|as)$/.test(f) && !f.endsWith('.generated.ts') ? [p] : [];
    });

  it('src/ and webview/ name no family outside src/engine/models/<family>/ (or the folder its kind shares: stacked/, blocks/)', () => {
    const own = new RegExp(`^src/engine/models/(${FAMILY_NAMES.join('|')}|stacked|blocks)/`);
    const offenders: string[] = [];
    for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'webview'))]) {
      const rel = relative(ROOT, file).split('\\').join('/');
      if (own.test(rel)) continue;
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (PATTERNS.some((p) => p.test(line))) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offenders, []);
  });
});
