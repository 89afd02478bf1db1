/**
 * The one settings table and resolver (src/engine/run): package.json and the
 * CLI's flags follow the table, and the resolver's rules hold for both front ends.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { Command } from 'commander';

import { DEFAULT_TRAIN, type TrainConfig } from '../../src/engine/config';
import { ConfigError } from '../../src/engine/errors';
import { resolveRun, type ResumePoint, type RunInput } from '../../src/engine/run/resolve';
import { settingSchema } from '../../src/engine/run/schema';
import { SETTINGS, cliFlag, cliNames, extensionNames, extensionSetting, kebab } from '../../src/engine/run/settings';
import { addTrainCommand } from '../../src/cli/commands/train';

const ROOT = path.resolve(__dirname, '..', '..');

describe('settings table', () => {
  it("package.json's rnnLab.model.* and rnnLab.training.* are exactly the table (run scripts/sync-settings.ts after a change)", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, Record<string, unknown>> } };
    };
    const props = pkg.contributes.configuration.properties;
    const declared = Object.keys(props).filter((k) => /^rnnLab\.(model|training)\./.test(k)).sort();
    const expected = SETTINGS.filter((s) => s.only !== 'cli').map(extensionSetting).sort();
    assert.deepEqual(declared, expected, 'the same settings');
    for (const spec of SETTINGS.filter((s) => s.only !== 'cli')) {
      const { enumDescriptions: _d, ...p } = props[extensionSetting(spec)]!;
      assert.deepEqual(p, settingSchema(spec), extensionSetting(spec));
    }
  });

  it('every CLI setting is a train flag named after it, and every train flag is a setting or an I/O option', () => {
    const program = new Command();
    addTrainCommand(program, async () => undefined);
    const train = program.commands.find((c) => c.name() === 'train')!;
    const flags = new Set(train.options.map((o) => o.long!));
    const io = ['--init', '--out', '--json', '--extend-schedule'];
    const fromTable = new Set<string>();
    for (const spec of SETTINGS.filter((s) => s.only !== 'extension')) {
      assert.ok(flags.has(cliFlag(spec)), `${cliFlag(spec)} for ${spec.key}`);
      fromTable.add(cliFlag(spec));
      for (const a of spec.cliAliases ?? []) fromTable.add(a);
    }
    for (const f of flags) assert.ok(fromTable.has(f) || io.includes(f), `${f} is in the table or an I/O option`);
    // The flags the 0.1.0 CLI lacked.
    for (const f of ['--beta1', '--beta2', '--eps', '--lr-min-fraction', '--threads', '--checkpoint-seconds', '--max-chars']) assert.ok(flags.has(f), f);
  });

  it('names: kebab-case flag, camelCase setting', () => {
    assert.equal(kebab('maxMemoryMB'), 'max-memory-mb');
    assert.equal(kebab('lrMinFraction'), 'lr-min-fraction');
    assert.equal(cliNames('weightDecay'), '--weight-decay');
    assert.equal(extensionNames('hidden'), 'rnnLab.model.hidden');
  });
});

const resumePoint = (train: Partial<TrainConfig> = {}, step = 300): ResumePoint => ({
  model: { cell: 'lstm', activation: 'tanh', hidden: 32, layers: 2 },
  train: { ...DEFAULT_TRAIN, ...train },
  step,
});

describe('resolveRun', () => {
  it('fills defaults once, the same for both front ends (Adagrad ε 1e-10 as PyTorch, 1e-8 for the others)', () => {
    for (const names of [cliNames, extensionNames]) {
      assert.equal(resolveRun({ optimizer: 'adagrad' }, null, names).train.eps, 1e-10);
      assert.equal(resolveRun({ optimizer: 'adam' }, null, names).train.eps, 1e-8);
      assert.equal(resolveRun({ optimizer: 'adagrad', eps: 1e-6 }, null, names).train.eps, 1e-6);
      const r = resolveRun({}, null, names);
      assert.deepEqual(r.train, DEFAULT_TRAIN);
      assert.equal(r.limits.stopAtStep, 2000);
      assert.equal(r.limits.validateEvery, 200);
    }
  });

  it('names the setting as the front end does', () => {
    assert.throws(() => resolveRun({ lr: 0 }, null, cliNames), /^ConfigError: --lr must be greater than 0/);
    assert.throws(() => resolveRun({ lr: 0 }, null, extensionNames), (e: unknown) => e instanceof ConfigError && /^rnnLab\.training\.lr must be/.test(e.message));
    assert.throws(() => resolveRun({ cell: 'transformer' }, null, extensionNames), /rnnLab\.model\.cell must be one of/);
  });

  it('resume: every "change" setting given again applies, every "fixed" one must match, session ones stay out of the checkpoint', () => {
    const from = resumePoint();
    const other: Record<string, unknown> = {
      seq: 20, batch: 8, dropout: 0.2, optimizer: 'adamw', lr: 0.01, momentum: 0, beta1: 0.8, beta2: 0.99, eps: 1e-7, weightDecay: 0.1,
      clip: 1, schedule: 'constant', warmupSteps: 7, decaySteps: 900, lrMinFraction: 0.1, valFraction: 0.1,
    };
    for (const spec of SETTINGS) {
      if (spec.resume === 'change') {
        assert.ok(spec.key in other, `test value for ${spec.key}`);
        const r = resolveRun({ [spec.key]: other[spec.key] } as RunInput, from);
        assert.equal((r.train as unknown as Record<string, unknown>)[spec.key], other[spec.key], spec.key);
      } else if (spec.resume === 'fixed') {
        const current = spec.section === 'model' ? (from.model as Record<string, unknown>)[spec.key] : (from.train as unknown as Record<string, unknown>)[spec.key];
        const changed = spec.type === 'choice' ? spec.choices!.find((c) => c !== current && c !== 'tanh') : (current as number) + 1;
        assert.throws(() => resolveRun({ [spec.key]: changed } as RunInput, from), ConfigError, spec.key);
        assert.doesNotThrow(() => resolveRun({ [spec.key]: current } as RunInput, from), spec.key);
      }
    }
    assert.throws(() => resolveRun({ hidden: 64 }, from), /^ConfigError: --hidden 64 does not match the checkpoint \(hidden 32\)/);
    assert.throws(() => resolveRun({ seed: 7 }, from), /--seed 7 has no effect on a continued run/);
  });

  it('steps: --steps N is N more, --max-steps N the step to stop at', () => {
    const from = resumePoint({}, 100);
    assert.equal(resolveRun({ steps: 50 }, from).limits.stopAtStep, 150);
    assert.equal(resolveRun({ maxSteps: 120 }, from).limits.stopAtStep, 120);
    assert.equal(resolveRun({}, from).limits.stopAtStep, 2100);
    assert.equal(resolveRun({ maxMinutes: 1 }, null).limits.stopAtStep, Infinity);
    assert.equal(resolveRun({ steps: 0 }, null).limits.stopAtStep, 0);
    assert.throws(() => resolveRun({ steps: 10, maxSteps: 500 }, from), /--steps 10 and --max-steps 500 disagree/);
  });

  it('issue 9 #13: a resume past the end of a decay to lr 0 is refused, and can extend the schedule', () => {
    const from = resumePoint({ schedule: 'cosine', decaySteps: 300 }, 300);
    assert.throws(
      () => resolveRun({ steps: 300 }, from),
      /cosine schedule ends at step 300, where the learning rate reaches 0.*--extend-schedule.*--decay-steps N.*--schedule constant/,
    );
    assert.throws(() => resolveRun({ steps: 300 }, from, extensionNames), /rnnLab\.training\.decaySteps/);
    const extended = resolveRun({ steps: 300, extendSchedule: true }, from);
    assert.equal(extended.train.decaySteps, 600);
    assert.match(extended.notes.join('\n'), /decay now ends at step 600 instead of 300/);
    assert.equal(resolveRun({ steps: 300, decaySteps: 1000 }, from).train.decaySteps, 1000);
    assert.equal(resolveRun({ steps: 300, schedule: 'constant' }, from).train.schedule, 'constant');
    const floor = resolveRun({ steps: 300 }, resumePoint({ schedule: 'linear', decaySteps: 300, lrMinFraction: 0.1 }, 300));
    assert.match(floor.notes.join('\n'), /train at its floor, lr 0\.0002/);
    // Within the decay, nothing to say.
    assert.deepEqual(resolveRun({ maxSteps: 300 }, resumePoint({ schedule: 'cosine', decaySteps: 300 }, 100)).notes, []);
    // A fresh run decays over its budget, and needs one.
    assert.equal(resolveRun({ schedule: 'cosine', steps: 500 }, null).train.decaySteps, 500);
    assert.throws(() => resolveRun({ schedule: 'cosine', maxMinutes: 1 }, null), /needs to know how long to decay/);
  });

  it('issue 9 #14: tanh is accepted for every cell, relu/sigmoid only for rnn; dropout with one layer is refused', () => {
    assert.equal(resolveRun({ cell: 'lstm', activation: 'tanh' }, null).model.cell, 'lstm');
    assert.equal(resolveRun({ activation: 'tanh' }, { ...resumePoint(), model: { cell: 'gru', activation: 'relu', hidden: 32, layers: 2 } }).model.cell, 'gru', 'tanh is no change for a GRU checkpoint');
    assert.throws(() => resolveRun({ cell: 'lstm', activation: 'relu' }, null), /--activation applies to the vanilla RNN only/);
    assert.equal(resolveRun({ cell: 'rnn', activation: 'sigmoid' }, null).model.activation, 'sigmoid');
    assert.throws(() => resolveRun({ dropout: 0.3, layers: 1 }, null), /--dropout 0\.3 has no effect with --layers 1/);
    assert.throws(() => resolveRun({ dropout: 0.3, layers: 1 }, null, extensionNames), /rnnLab\.training\.dropout 0\.3 has no effect with rnnLab\.model\.layers 1/);
    assert.equal(resolveRun({ dropout: 0.3, layers: 2 }, null).train.dropout, 0.3);
  });

  it('refuses what has no effect: momentum without it, periodic validation without a validation set', () => {
    assert.throws(() => resolveRun({ momentum: 0.9, optimizer: 'adam' }, null), /--momentum applies to --optimizer sgd and rmsprop only/);
    assert.throws(() => resolveRun({ valFraction: 0, validateEvery: 10 }, null), /--validate-every needs a validation set/);
    // Not set by the user: no validation set simply means no validation.
    assert.equal(resolveRun({ valFraction: 0 }, null).limits.validateEvery, 0);
  });
});
