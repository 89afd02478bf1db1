/**
 * `npm run bench:quality`: its pure parts (the settings a preset trains with
 * for a step budget, the budget a rate gives, the 90/10 split, the table's
 * order) and its command line, run from its bundle on a small text.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as esbuild from 'esbuild';

import { buildSession, resolveRun, startRun } from '../../src/engine';
import { presets, type Preset } from '../../src/shared/presets';
import { formatTable, qualityInput, rankRows, selectPresets, stepsFor, VAL_FRACTION, type QualityRow } from '../../bench/qualityPlan';

const ROOT = path.resolve(__dirname, '..', '..');
const preset = (id: string): Preset => presets().find((p) => p.id === id)!;

describe('bench:quality plan', () => {
  it('fills the time with the steps the measured rate gives, at least one', () => {
    assert.equal(stepsFor(10.5, 300), 3150);
    assert.equal(stepsFor(0.001, 300), 1);
    assert.equal(stepsFor(0, 300), 1);
    assert.equal(stepsFor(Number.NaN, 300), 1);
  });

  it('trains a preset for the step budget with its schedule fitted to it, the last 10% held out, one validation at the end', () => {
    for (const p of presets()) {
      const r = resolveRun(qualityInput(p, 777, 300, 1), null);
      assert.equal(r.limits.stopAtStep, 777, p.id);
      assert.equal(r.limits.maxSeconds, 300, p.id);
      assert.equal(r.limits.validateEvery, 0, p.id);
      assert.equal(r.train.valFraction, VAL_FRACTION, p.id);
      assert.equal(r.threads, 1, p.id);
      // The recipe is the preset's own.
      assert.deepEqual(r.model, p.settings.model, p.id);
      for (const k of ['seq', 'batch', 'lr', 'optimizer', 'schedule', 'warmupSteps', 'lrMinFraction', 'dropout', 'weightDecay', 'clip'] as const) {
        assert.equal(r.train[k], p.settings.train[k], `${p.id} ${k}`);
      }
      // A decay that ended at the preset's last step ends at the run's.
      if (p.settings.train.schedule !== 'constant' && p.settings.train.decaySteps === p.settings.maxSteps) assert.equal(r.train.decaySteps, 777, p.id);
    }
    assert.ok(presets().some((p) => p.settings.train.schedule !== 'constant'), 'some preset decays its learning rate');
  });

  it('keeps where a decay ends relative to the budget when it ends before the preset\'s last step', () => {
    const base = preset('gpt');
    const early: Preset = { ...base, settings: { ...base.settings, maxSteps: 2000, train: { ...base.settings.train, schedule: 'cosine', decaySteps: 1000 } } };
    assert.equal(resolveRun(qualityInput(early, 600, null, 0), null).train.decaySteps, 300);
    // No time cap with --steps.
    assert.equal(resolveRun(qualityInput(early, 600, null, 0), null).limits.maxSeconds, Infinity);
  });

  it('holds out the last 10% of the text and trains on the first 90%', () => {
    const text = Array.from({ length: 1000 }, (_, i) => 'abcdefghij'[Math.floor(i / 100)]).join('');
    const r = resolveRun(qualityInput(preset('tiny'), 10, null, 1), null);
    const s = buildSession({ text, shape: r.model, train: r.train, init: null, maxMemoryBytes: r.maxMemoryBytes, threads: 1 });
    assert.equal(s.trainTokens.length, 900);
    assert.equal(s.valTokens.length, 100);
    const j = s.model.vocab.tokenOf('j');
    assert.ok(s.valTokens.every((t) => t === j), 'the validation set is the tail');
    assert.ok(!s.trainTokens.includes(j), 'nothing of the tail is trained on');
  });

  it('selects presets by id (in the order given) and by family', () => {
    const all = presets();
    assert.deepEqual(selectPresets(all, null, null).map((p) => p.id), all.map((p) => p.id));
    assert.deepEqual(selectPresets(all, ['gpt', 'tiny'], null).map((p) => p.id), ['gpt', 'tiny']);
    assert.deepEqual(selectPresets(all, null, 'lstm').map((p) => p.id), all.filter((p) => p.settings.model.cell === 'lstm').map((p) => p.id));
    assert.deepEqual(selectPresets(all, ['gpt', 'tiny'], 'mingru'), []);
  });

  const row = (preset: string, valLoss: number, reason = 'steps'): QualityRow => ({
    preset, family: 'lstm', shape: 'LSTM 8×1, T4 B2', params: 1234, steps: 10, charsSeen: 80, seconds: 1, charsPerSec: 80, valLoss, bpc: valLoss / Math.LN2, reason,
  });

  it('ranks best first, runs without a finite loss last in their order', () => {
    const ranked = rankRows([row('a', 1.7), row('b', Number.NaN, 'diverged'), row('c', 1.5), row('d', Number.NaN, 'diverged'), row('e', 1.6)]);
    assert.deepEqual(ranked.map((r) => r.preset), ['c', 'e', 'a', 'b', 'd']);
  });

  it('prints a Markdown table, best first, saying when the time cap ended a run', () => {
    const lines = formatTable([row('a', 1.7), row('c', 1.5, 'time')]).split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^\| family \| preset \| model \| params \| steps \| chars seen \| chars\/s \| val nats\/char \| val bpc \|$/);
    assert.match(lines[2]!, /^\| lstm \| c \| LSTM 8×1, T4 B2 \| 1,234 \| 10 \(time\) \| 80 \| 80 \| 1\.500 \| 2\.164 \|$/);
    assert.match(lines[3]!, /^\| lstm \| a \| .* \| 10 \| 80 \| 80 \| 1\.700 \| 2\.453 \|$/);
  });
});

describe('bench:quality command line', () => {
  let dir = '';
  let bundle = '';
  let corpus = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-quality-'));
    await esbuild.build({
      entryPoints: { 'bench-quality': path.join(ROOT, 'bench/quality.ts') },
      bundle: true,
      outdir: path.join(dir, 'rnn-lab', 'dist'),
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
    });
    bundle = path.join(dir, 'rnn-lab', 'dist', 'bench-quality.js');
    // The bundle finds the native products beside it, as the shipped dist/ has them, so it runs the kernels this process runs.
    const addon = path.join(ROOT, 'dist', 'native', 'products.node');
    if (fs.existsSync(addon)) {
      fs.mkdirSync(path.join(dir, 'rnn-lab', 'dist', 'native'));
      fs.copyFileSync(addon, path.join(dir, 'rnn-lab', 'dist', 'native', 'products.node'));
    }
    corpus = path.join(dir, 'corpus.txt');
    fs.writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(200));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [bundle, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });

  it('--help lists every option and exits 0', () => {
    const r = run('--help');
    assert.equal(r.status, 0, r.stderr);
    for (const flag of ['--corpus', '--seconds', '--only', '--presets', '--steps', '--calibrate', '--threads', '--json']) assert.ok(r.stdout.includes(flag), flag);
  });

  it('refuses bad input in one line with exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--corpus', path.join(dir, 'absent.txt')], /^bench:quality: option '--corpus <file>' argument '.*absent\.txt' is invalid\. no such file: ".*absent\.txt"\.\n$/],
      [['--corpus', corpus, '--seconds', '0'], /^bench:quality: .*--seconds.* expected a number of seconds above 0\.\n$/],
      [['--corpus', corpus, '--presets', 'huge'], /^bench:quality: .*--presets.* expected preset ids from tiny, small, medium, .*got huge\.\n$/],
      [['--corpus', corpus, '--only', 'rnn'], /^bench:quality: no preset of family rnn among the presets\n$/],
      // No --corpus and no shared data beside this folder.
      [[], /^bench:quality: give --corpus FILE \(.*tinyshakespeare\.txt does not exist\)\n$/],
    ];
    for (const [args, says] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, says, args.join(' '));
    }
  });

  it('--steps trains each preset exactly that many steps through the run loop: the loss a run of the same settings gets', () => {
    const r = run('--corpus', corpus, '--presets', 'tiny', '--steps', '12', '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as QualityRow);
    assert.equal(rows.length, 1);
    const [got] = rows;
    assert.equal(got!.preset, 'tiny');
    assert.equal(got!.steps, 12);
    assert.equal(got!.reason, 'steps');
    const { batch, seq } = preset('tiny').settings.train;
    assert.equal(got!.charsSeen, 12 * batch * seq);
    const { loop } = startRun({ text: fs.readFileSync(corpus, 'utf8'), settings: qualityInput(preset('tiny'), 12, null, 1) }, {});
    const outcome = loop.runToEnd();
    assert.equal(got!.valLoss, outcome.val!.loss);
    assert.equal(got!.bpc, outcome.val!.bpc);
  });

  it('calibrates the step rate and trains about --seconds, printing the table', () => {
    const r = run('--corpus', corpus, '--presets', 'tiny', '--seconds', '1', '--calibrate', '0.5', '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /tiny: [\d.]+ steps\/s in a 0\.5 s calibration → \d+ steps/);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[2]!, /^\| lstm \| tiny \| LSTM 64×1, T32 B16 \| [\d,]+ \| [\d,]+( \(time\))? \| [\d,]+ \| [\d,]+ \| \d\.\d{3} \| \d\.\d{3} \|$/);
  });
});
