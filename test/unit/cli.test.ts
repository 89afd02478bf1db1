/**
 * The command-line tool, end to end: the built `dist/cli.js` is run as a
 * child process on small texts in a temporary folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/engine/checkpoint';
import { nativeProducts } from '../../src/engine/native';
import { parseHistory } from '../../src/shared/history';
import { encodeSafetensors } from '../../src/engine/safetensors';
import { FileError, writeFileAtomic } from '../../src/cli/files';
import { buildCli, CLI } from './helpers/buildCli';

let tmpRoot = '';

before(async () => {
  await buildCli();
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-cli-'));
});

after(() => {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

let dirCount = 0;
/** A fresh empty folder for one test. */
function freshDir(): string {
  const dir = path.join(tmpRoot, `t${dirCount++}`);
  fs.mkdirSync(dir);
  return dir;
}

function cli(cwd: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, RNN_LAB_DEBUG: '' },
    timeout: 60_000,
  });
}

function ok(r: SpawnSyncReturns<string>): SpawnSyncReturns<string> {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A failure: the given exit code, and exactly one stderr line `rnn-lab: ...` matching `pattern`. */
function fails(r: SpawnSyncReturns<string>, pattern: RegExp, code = 2): void {
  assert.equal(r.status, code, `expected exit ${code}, got ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^rnn-lab: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function listDir(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** A small deterministic text with some structure to learn. */
function makeText(chars: number, seed = 1): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'then', 'ran', 'to', 'dog', 'house', 'quickly', 'slowly'];
  let s = seed;
  let out = '';
  while (out.length < chars) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += words[s % words.length]!;
    out += s % 7 === 0 ? '.\n' : ' ';
  }
  return out.slice(0, chars);
}

function writeText(dir: string, name: string, text: string | Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function load(file: string): Checkpoint {
  return decodeCheckpoint(fs.readFileSync(file));
}

function bytesOf(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

const TINY = ['--hidden', '12', '--layers', '1', '--seq', '8', '--batch', '2'];

/** Trains a tiny model in `dir` and returns its path. */
function trainTiny(dir: string, name = 'tiny.safetensors', extra: string[] = []): { ckpt: string; text: string } {
  const text = writeText(dir, 'train.txt', makeText(600));
  ok(cli(dir, 'train', text, ...TINY, '--steps', '5', '--out', name, '--json', ...extra));
  return { ckpt: path.join(dir, name), text };
}

describe('rnn-lab train', () => {
  it('--steps 0 writes a fresh model that eval reads', () => {
    const dir = freshDir();
    const text = writeText(dir, 'a.txt', makeText(400));
    const r = ok(cli(dir, 'train', 'a.txt', ...TINY, '--steps', '0', '--out', 'm.safetensors'));
    assert.match(r.stdout, /Saved m\.safetensors/);
    const c = load(path.join(dir, 'm.safetensors'));
    assert.equal(c.trainState?.step, 0);
    assert.equal(c.model.config.hidden, 12);
    const e = ok(cli(dir, 'eval', 'm.safetensors', text, '--json'));
    const res = JSON.parse(e.stdout) as { loss: number; bpc: number; chars: number; unknown: number };
    assert.equal(res.chars, 399);
    assert.equal(res.unknown, 0);
    // A fresh model is close to uniform over the vocabulary.
    assert.ok(Math.abs(res.loss - Math.log(c.model.vocab.size)) < 0.2, `loss ${res.loss}`);
    assert.ok(Math.abs(res.bpc - res.loss / Math.LN2) < 1e-4);
    assert.deepEqual(listDir(dir), ['a.txt', 'm.history.jsonl', 'm.safetensors']);
  });

  it('--json emits start, step, val, checkpoint and done events', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(500));
    writeText(dir, 'b.txt', makeText(500, 7));
    const r = ok(
      cli(dir, 'train', 'a.txt', 'b.txt', '--cell', 'gru', '--hidden', '10', '--layers', '2', '--seq', '8', '--batch', '4',
        '--steps', '7', '--val-fraction', '0.1', '--val-every', '3', '--save-every', '5', '--json', '--out', 'g.safetensors'),
    );
    const events = jsonLines(r.stdout);
    const start = events[0]!;
    assert.equal(start.event, 'start');
    assert.equal(start.cell, 'gru');
    assert.equal(start.hidden, 10);
    assert.equal(start.layers, 2);
    assert.equal(start.optimizer, 'adam');
    assert.equal(start.trainChars, 900);
    assert.equal(start.valChars, 100);
    assert.equal(typeof start.params, 'number');
    assert.equal(typeof start.vocab, 'number');
    const steps = events.filter((e) => e.event === 'step');
    assert.ok(steps.length >= 1);
    for (const s of steps) {
      for (const k of ['step', 'loss', 'gradNorm', 'lr', 'epoch', 'charsPerSec']) assert.equal(typeof s[k], 'number', k);
    }
    assert.equal(steps.at(-1)!.step, 7, 'the last step is always reported');
    assert.deepEqual(events.filter((e) => e.event === 'val').map((e) => e.step), [3, 6, 7]);
    for (const v of events.filter((e) => e.event === 'val')) assert.ok(Math.abs((v.bpc as number) - (v.loss as number) / Math.LN2) < 1e-3);
    assert.deepEqual(events.filter((e) => e.event === 'checkpoint').map((e) => [e.path, e.step]), [['g.safetensors', 5], ['g.safetensors', 7]]);
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal(done.step, 7);
    assert.equal(done.reason, 'steps');
    assert.equal(typeof done.valBpc, 'number');
    assert.deepEqual(listDir(dir), ['a.txt', 'b.txt', 'g.history.jsonl', 'g.safetensors']);
  });

  it('says what the products run on: the native kernels where this machine has them, on the automatic threads', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    const r = ok(cli(dir, 'train', 'a.txt', '--hidden', '8', '--layers', '1', '--seq', '10', '--batch', '8', '--steps', '1', '--json'));
    const start = jsonLines(r.stdout)[0]!;
    const native = nativeProducts();
    assert.match(String(start.kernels), native ? new RegExp(`^native \\(${native.isa()}\\), [12] threads?$`) : /^wasm-/);
    const text = ok(cli(dir, 'train', 'a.txt', '--hidden', '8', '--layers', '1', '--seq', '10', '--batch', '8', '--steps', '1', '--out', 'b.safetensors'));
    assert.match(text.stdout, new RegExp(`^Kernels: ${String(start.kernels).replace(/[()]/g, '\\$&')}\\.$`, 'm'));
  });

  it('a native build that does not load (a corrupt or foreign file) leaves the run on the wasm kernels, and it trains', async () => {
    const dir = freshDir();
    const bundle = await buildCli(path.join(dir, 'dist', 'cli.js'));
    fs.mkdirSync(path.join(dir, 'dist', 'native'));
    fs.writeFileSync(path.join(dir, 'dist', 'native', 'products.node'), 'not a shared object');
    writeText(dir, 'a.txt', makeText(400));
    const r = spawnSync(process.execPath, [bundle, 'train', 'a.txt', '--hidden', '8', '--layers', '1', '--seq', '10', '--batch', '8', '--steps', '2', '--json'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(String(jsonLines(r.stdout)[0]!.kernels), /^wasm-/);
  });

  it('--batch 1 --val-fraction 0: step k trains on characters [kT, (k+1)T)', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(200));
    const r = ok(cli(dir, 'train', 'a.txt', '--hidden', '4', '--layers', '1', '--seq', '10', '--batch', '1', '--val-fraction', '0', '--steps', '3', '--json'));
    const start = jsonLines(r.stdout)[0]!;
    assert.equal(start.trainChars, 200);
    assert.equal(start.stepsPerEpoch, 19);
    assert.equal(load(path.join(dir, 'model.safetensors')).trainState!.charsSeen, 30);
  });

  it('--init continues bit for bit: N steps + N more equals 2N steps', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(420));
    // Two layers with dropout, so the RNG, the carried state and the optimizer moments all matter;
    // about 12 steps per epoch, so the second half crosses an epoch boundary.
    const common = ['--cell', 'lstm', '--hidden', '10', '--layers', '2', '--dropout', '0.1', '--seq', '8', '--batch', '4',
      '--val-fraction', '0.05', '--optimizer', 'adam', '--seed', '7'];
    ok(cli(dir, 'train', 'a.txt', ...common, '--steps', '9', '--out', 'half.safetensors'));
    ok(cli(dir, 'train', 'a.txt', '--init', 'half.safetensors', '--steps', '9', '--out', 'resumed.safetensors', '--val-every', '4'));
    ok(cli(dir, 'train', 'a.txt', ...common, '--steps', '18', '--out', 'full.safetensors'));
    const resumed = load(path.join(dir, 'resumed.safetensors'));
    const full = load(path.join(dir, 'full.safetensors'));
    assert.equal(resumed.trainState!.step, 18);
    assert.ok(resumed.trainState!.epoch >= 1, 'the run crossed an epoch boundary');
    assert.deepEqual(resumed.trainState, full.trainState);
    assert.ok(bytesOf(resumed.model.params.data).equals(bytesOf(full.model.params.data)), 'model weights are bit-identical');
    assert.deepEqual([...resumed.resumeTensors.keys()].sort(), [...full.resumeTensors.keys()].sort());
    for (const [name, t] of full.resumeTensors) assert.ok(bytesOf(resumed.resumeTensors.get(name)!).equals(bytesOf(t)), name);
    // And the half run really differs from the full one.
    assert.ok(!bytesOf(load(path.join(dir, 'half.safetensors')).model.params.data).equals(bytesOf(full.model.params.data)));
  });

  for (const [cell, extra] of [['gpt', ['--heads', '2', '--context', '16']], ['mingru', ['--dropout', '0.1']]] as const) {
    it(`${cell}: train, --init continues bit for bit, eval, sample and inspect read it`, () => {
      const dir = freshDir();
      writeText(dir, 'a.txt', makeText(420));
      const common = ['--cell', cell, '--hidden', '8', '--layers', '2', '--seq', '8', '--batch', '4', '--val-fraction', '0.05', '--seed', '7', ...extra];
      const first = ok(cli(dir, 'train', 'a.txt', ...common, '--steps', '9', '--out', 'half.safetensors'));
      assert.match(first.stdout, /adamw lr 0\.001 \(cosine\)/, "nanoGPT's recipe by default");
      ok(cli(dir, 'train', 'a.txt', '--init', 'half.safetensors', '--steps', '9', '--out', 'resumed.safetensors'));
      ok(cli(dir, 'train', 'a.txt', ...common, '--steps', '18', '--out', 'full.safetensors'));
      const resumed = load(path.join(dir, 'resumed.safetensors'));
      const full = load(path.join(dir, 'full.safetensors'));
      assert.equal(resumed.model.config.cell, cell);
      assert.deepEqual(resumed.trainState, full.trainState);
      assert.ok(bytesOf(resumed.model.params.data).equals(bytesOf(full.model.params.data)), 'model weights are bit-identical');
      for (const [name, t] of full.resumeTensors) assert.ok(bytesOf(resumed.resumeTensors.get(name)!).equals(bytesOf(t)), name);
      if (cell === 'gpt') {
        fails(cli(dir, 'train', 'a.txt', '--init', 'full.safetensors', '--heads', '4', '--steps', '1'), /--heads 4 does not match the checkpoint \(heads 2\)/);
        fails(cli(dir, 'train', 'a.txt', '--init', 'full.safetensors', '--seq', '32', '--steps', '1'), /--seq 32 is longer than the gpt's --context 16/);
      }
      const ev = ok(cli(dir, 'eval', 'full.safetensors', 'a.txt'));
      assert.match(ev.stdout, /nats\/char/);
      const s1 = ok(cli(dir, 'sample', 'full.safetensors', '--length', '40', '--seed', '3')).stdout;
      assert.equal(ok(cli(dir, 'sample', 'full.safetensors', '--length', '40', '--seed', '3')).stdout, s1);
      assert.ok(s1.length >= 40);
      const ins = JSON.parse(ok(cli(dir, 'inspect', 'full.safetensors', '--text', 'the cat', '--json')).stdout) as { chars: string[] };
      assert.equal(ins.chars.length, 7);
    });
  }

  it('refuses a gpt whose heads do not divide the width, a window longer than the context, and attention that does not fit', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(420));
    fails(cli(dir, 'train', 'a.txt', '--cell', 'gpt', '--hidden', '30', '--heads', '4', '--steps', '1'), /--heads 4 must divide the width --hidden 30 \(try --heads 3 or --heads 5\)/);
    fails(cli(dir, 'train', 'a.txt', '--cell', 'gpt', '--seq', '64', '--context', '32', '--steps', '1'), /--seq 64 is longer than the gpt's --context 32/);
    fails(cli(dir, 'train', 'a.txt', '--cell', 'lstm', '--heads', '2', '--steps', '1'), /--heads applies to --cell gpt only, not to lstm/);
    fails(
      cli(dir, 'train', 'a.txt', '--cell', 'gpt', '--hidden', '64', '--seq', '2048', '--batch', '64', '--steps', '1'),
      /of it attention weights \(layers × batch × heads × seq², 2 × 64 × 4 × 2048²\): lower --seq, --batch or --heads/,
    );
    assert.deepEqual(fs.readdirSync(dir), ['a.txt']);
  });

  it('--init with --out on the same file continues in place', () => {
    const dir = freshDir();
    const { ckpt, text } = trainTiny(dir);
    ok(cli(dir, 'train', text, '--init', ckpt, '--steps', '2', '--out', ckpt, '--hidden', '12'));
    assert.equal(load(ckpt).trainState!.step, 7);
    assert.deepEqual(listDir(dir), ['tiny.history.jsonl', 'tiny.safetensors', 'train.txt']);
  });

  it('stops on Ctrl-C after the current step, saves and exits 130', async () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(2000));
    const child = spawn(process.execPath, [CLI, 'train', 'a.txt', ...TINY, '--steps', '1000000', '--json', '--out', 'int.safetensors'], { cwd: dir });
    let stdout = '';
    let signalled = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (!signalled && stdout.includes('"event":"step"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 130);
    const events = jsonLines(stdout);
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal(done.reason, 'interrupted');
    assert.equal(load(path.join(dir, 'int.safetensors')).trainState!.step, done.step);
    assert.deepEqual(listDir(dir), ['a.txt', 'int.history.jsonl', 'int.safetensors']);
  });
});

describe('issue 9: nothing lost, settings that say what they do', () => {
  it('#1: a closed stdout (| head -1) does not stop the run or its saving; exit 0 once everything is saved', async () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(2000));
    const child = spawn(process.execPath, [CLI, 'train', 'a.txt', ...TINY, '--steps', '300', '--json', '--out', 'p.safetensors'], { cwd: dir });
    let first = '';
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8');
    // Read the first line, then close the pipe as `head -1` does.
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: string) => {
        first += d;
        if (first.includes('\n')) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(JSON.parse(first.split('\n')[0]!).event, 'start');
    assert.equal(code, 0, stderr);
    assert.equal(load(path.join(dir, 'p.safetensors')).trainState!.step, 300, 'trained to the end and saved');
    assert.ok(fs.existsSync(path.join(dir, 'p.history.jsonl')));
  });

  it('#5: eval exits non-zero when the loss is not finite', () => {
    const dir = freshDir();
    const { ckpt, text } = trainTiny(dir);
    const c = load(ckpt);
    // Finite but huge weights: the activations overflow.
    c.model.params.data.fill(3e38);
    writeText(dir, 'huge.safetensors', encodeCheckpoint(c.model, c.train, null));
    fails(cli(dir, 'eval', 'huge.safetensors', text), /loss of 'huge\.safetensors' on .* is (NaN|Infinity): its weights have diverged/, 3);
  });

  it('#13: resuming a cosine run past its decay is refused, --extend-schedule stretches it, and training goes on at lr > 0', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(600));
    ok(cli(dir, 'train', 'a.txt', ...TINY, '--schedule', 'cosine', '--steps', '10', '--out', 'c.safetensors'));
    assert.equal(load(path.join(dir, 'c.safetensors')).train.decaySteps, 10);
    fails(cli(dir, 'train', 'a.txt', '--init', 'c.safetensors', '--steps', '10', '--out', 'c.safetensors'),
      /cosine schedule ends at step 10, where the learning rate reaches 0.*--extend-schedule/);
    const r = ok(cli(dir, 'train', 'a.txt', '--init', 'c.safetensors', '--steps', '10', '--extend-schedule', '--json', '--out', 'c.safetensors'));
    const events = jsonLines(r.stdout);
    assert.match(String((events[0]!.notes as string[]).join(' ')), /decay now ends at step 20 instead of 10/);
    const lrs = events.filter((e) => e.event === 'step').map((e) => e.lr as number);
    assert.ok(lrs.length > 0 && lrs.every((lr) => lr > 0), `lr ${lrs}`);
    assert.equal(load(path.join(dir, 'c.safetensors')).train.decaySteps, 20);
  });

  it('#14: --activation tanh --cell lstm is accepted, --dropout 0.3 --layers 1 is refused', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    ok(cli(dir, 'train', 'a.txt', '--cell', 'lstm', '--activation', 'tanh', '--hidden', '8', '--layers', '1', '--seq', '8', '--batch', '2', '--steps', '1', '--out', 'l.safetensors'));
    fails(cli(dir, 'train', 'a.txt', '--dropout', '0.3', '--layers', '1', '--hidden', '8', '--steps', '1', '--out', 'd.safetensors'),
      /--dropout 0\.3 has no effect with --layers 1/);
    assert.ok(!fs.existsSync(path.join(dir, 'd.safetensors')));
  });

  it('resume appends to the history; a resume from an earlier checkpoint drops what came after it', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(600));
    ok(cli(dir, 'train', 'a.txt', ...TINY, '--steps', '6', '--out', 'h.safetensors'));
    fs.copyFileSync(path.join(dir, 'h.safetensors'), path.join(dir, 'early.safetensors'));
    fs.copyFileSync(path.join(dir, 'h.history.jsonl'), path.join(dir, 'early.history.jsonl'));
    ok(cli(dir, 'train', 'a.txt', '--init', 'h.safetensors', '--steps', '6', '--validate-every', '3', '--out', 'h.safetensors'));
    const h = parseHistory(fs.readFileSync(path.join(dir, 'h.history.jsonl'), 'utf8'));
    assert.deepEqual(h.sessions.map((s) => s.startStep), [0, 6]);
    assert.equal(h.steps.at(-1)!.step, 12);
    assert.ok(h.steps.every((s, i) => i === 0 || s.step > h.steps[i - 1]!.step), 'steps in order');
    assert.ok(h.steps.every((s, i) => i === 0 || s.seconds >= h.steps[i - 1]!.seconds), 'training time counts on across sessions');
    assert.deepEqual(h.validations.map((v) => v.step), [6, 9, 12]);
    // A second branch from step 6 into another file carries the first 6 steps over.
    ok(cli(dir, 'train', 'a.txt', '--init', 'early.safetensors', '--steps', '2', '--out', 'branch.safetensors'));
    const b = parseHistory(fs.readFileSync(path.join(dir, 'branch.history.jsonl'), 'utf8'));
    assert.equal(b.steps.at(-1)!.step, 8);
    assert.ok(b.steps.some((s) => s.step <= 6) && !b.steps.some((s) => s.step > 8));
  });
});

describe('rnn-lab eval', () => {
  it('does not score characters the model does not know', () => {
    const dir = freshDir();
    const { ckpt } = trainTiny(dir);
    writeText(dir, 'other.txt', 'the cat Zat on the mat€');
    const r = ok(cli(dir, 'eval', ckpt, 'other.txt', '--json'));
    const res = JSON.parse(r.stdout) as { loss: number; bpc: number; chars: number; unknown: number };
    assert.equal(res.unknown, 2);
    assert.equal(res.chars, [...'the cat Zat on the mat€'].length - 1 - 2);
    assert.ok(Number.isFinite(res.loss) && res.loss > 0);
    const human = ok(cli(dir, 'eval', ckpt, 'other.txt'));
    assert.match(human.stdout, /bits\/char.*2 characters unknown/);
  });
});

describe('rnn-lab sample', () => {
  it('is deterministic per seed and respects --length and --stop', () => {
    const dir = freshDir();
    const { ckpt } = trainTiny(dir);
    const a = ok(cli(dir, 'sample', ckpt, '--length', '57', '--seed', '3', '--temperature', '1'));
    const b = ok(cli(dir, 'sample', ckpt, '--length', '57', '--seed', '3', '--temperature', '1'));
    const c = ok(cli(dir, 'sample', ckpt, '--length', '57', '--seed', '4', '--temperature', '1'));
    assert.equal([...a.stdout].length, 57);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    const stopped = ok(cli(dir, 'sample', ckpt, '--length', '2000', '--seed', '3', '--temperature', '1', '--stop', 'zzz', '--stop', 't', '--prime', 'the '));
    assert.ok(stopped.stdout.endsWith('t'), JSON.stringify(stopped.stdout));
    assert.equal(stopped.stdout.indexOf('t'), stopped.stdout.length - 1);
    // --stop before the checkpoint: the option takes one value and leaves the positional argument alone.
    const first = ok(cli(dir, 'sample', '--stop', 't', ckpt, '--length', '2000', '--seed', '3', '--temperature', '1', '--prime', 'the '));
    assert.equal(first.stdout, stopped.stdout);
    const greedy1 = ok(cli(dir, 'sample', ckpt, '--length', '30', '--temperature', '0', '--seed', '1'));
    const greedy2 = ok(cli(dir, 'sample', ckpt, '--length', '30', '--temperature', '0', '--seed', '2'));
    assert.equal(greedy1.stdout, greedy2.stdout, 'greedy ignores the seed');
    ok(cli(dir, 'sample', ckpt, '--length', '20', '--top-k', '3', '--top-p', '0.9'));
  });
});

describe('rnn-lab inspect', () => {
  it('--json has [T][H] hidden states, gates, surprisal and top-5 per position', () => {
    const dir = freshDir();
    const text = writeText(dir, 'train.txt', makeText(600));
    ok(cli(dir, 'train', text, '--hidden', '6', '--layers', '2', '--seq', '8', '--batch', '2', '--steps', '2', '--out', 'm.safetensors'));
    const r = ok(cli(dir, 'inspect', 'm.safetensors', '--text', 'the cat€', '--json'));
    const j = JSON.parse(r.stdout) as {
      chars: string[]; unknown: number[]; layers: { h: number[][]; c?: number[][]; gates: Record<string, number[][]> }[];
      surprisalBits: (number | null)[]; top: { char: string; p: number }[][];
    };
    const T = 8;
    assert.deepEqual(j.chars, [...'the cat€']);
    assert.deepEqual(j.unknown, [7]);
    assert.equal(j.layers.length, 2);
    for (const l of j.layers) {
      for (const m of [l.h, l.c!, ...Object.values(l.gates)]) {
        assert.equal(m.length, T);
        for (const row of m) assert.equal(row.length, 6);
      }
      assert.deepEqual(Object.keys(l.gates), ['i', 'f', 'g', 'o']);
      // Rounded to 4 decimals.
      for (const v of l.h.flat()) assert.equal(Math.round(v * 1e4) / 1e4, v);
    }
    // surprisalBits[t] scores chars[t] itself: nothing predicts the first, the unknown '€' is not scored.
    assert.equal(j.surprisalBits.length, T);
    assert.equal(j.surprisalBits[0], null, 'the first character has no prediction');
    assert.equal(j.surprisalBits[T - 1], null, 'the unknown character is not scored');
    for (let t = 1; t < T - 1; t++) assert.equal(typeof j.surprisalBits[t], 'number', `surprisal of chars[${t}]`);
    assert.equal(j.top.length, T);
    for (const top of j.top) {
      assert.equal(top.length, 5);
      for (let i = 1; i < 5; i++) assert.ok(top[i - 1]!.p >= top[i]!.p);
    }
    // top[t-1] is the prediction chars[t] is scored against: with a vocabulary of four characters
    // the five guesses hold every one, and the surprisal is -log2 of its probability.
    writeText(dir, 'abcd.txt', 'abcdbadc'.repeat(40));
    ok(cli(dir, 'train', 'abcd.txt', '--hidden', '4', '--layers', '1', '--seq', '8', '--batch', '2', '--steps', '3', '--out', 'abcd.safetensors'));
    const small = JSON.parse(ok(cli(dir, 'inspect', 'abcd.safetensors', '--text', 'abcdda', '--json')).stdout) as typeof j;
    assert.equal(small.surprisalBits[0], null);
    for (let t = 1; t < 6; t++) {
      const guess = small.top[t - 1]!.find((g) => g.char === small.chars[t])!;
      assert.ok(Math.abs(2 ** -small.surprisalBits[t]! - guess.p) < 1e-4, `surprisal of chars[${t}]: ${small.surprisalBits[t]} bits, p ${guess.p}`);
    }
    const human = ok(cli(dir, 'inspect', 'm.safetensors', '--text', 'the cat'));
    assert.match(human.stdout, /pos\s+char\s+bits/);
    assert.equal(human.stdout.trim().split('\n').length, 2 + 7 + 1);
  });

  it('--gradient-flow reports per-step gradient norms per layer', () => {
    const dir = freshDir();
    const { ckpt } = trainTiny(dir);
    const r = ok(cli(dir, 'inspect', ckpt, '--text', 'the cat sat', '--gradient-flow', '--json'));
    const j = JSON.parse(r.stdout) as { hGradNorm: number[][]; wContribution: number[][]; paramGradNorms: Record<string, number>; errorAt: number | null };
    assert.equal(j.errorAt, null);
    assert.equal(j.hGradNorm.length, 1);
    assert.equal(j.hGradNorm[0]!.length, 10);
    assert.equal(j.wContribution[0]!.length, 10);
    assert.ok('rnn.weight_hh_l0' in j.paramGradNorms);
    const at = JSON.parse(ok(cli(dir, 'inspect', ckpt, '--text', 'the cat sat', '--gradient-flow', '--error-at', '4', '--json')).stdout) as { hGradNorm: number[][]; errorAt: number };
    assert.equal(at.errorAt, 4);
    // Nothing flows back from an error into later steps.
    for (let k = 5; k < 10; k++) assert.equal(at.hGradNorm[0]![k], 0);
    fails(cli(dir, 'inspect', ckpt, '--text', 'the cat sat', '--gradient-flow', '--error-at', '10'), /--error-at must be a step from 0 to 9/);
  });
});

describe('rnn-lab demo', () => {
  it('trains on the project sources, saves, validates and samples', () => {
    const dir = freshDir();
    const r = ok(cli(dir, 'demo', '--steps', '1', '--json'));
    const events = jsonLines(r.stdout);
    assert.equal(events[0]!.event, 'start');
    assert.ok(events.some((e) => e.event === 'val'));
    const sample = events.find((e) => e.event === 'sample')!;
    assert.equal(sample.prime, 'export function ');
    assert.equal([...(sample.text as string)].length, 400);
    assert.deepEqual(listDir(dir), ['demo.history.jsonl', 'demo.safetensors']);
    assert.equal(load(path.join(dir, 'demo.safetensors')).model.config.cell, 'lstm');
  });
});

describe('bad input: one line on stderr, exit code 2, no file left behind', () => {
  it('refuses training files that are missing, folders, empty, binary, not UTF-8 or too short', () => {
    const dir = freshDir();
    fs.mkdirSync(path.join(dir, 'folder'));
    writeText(dir, 'empty.txt', '');
    writeText(dir, 'binary.bin', new Uint8Array([104, 105, 0, 1, 2, 3]));
    writeText(dir, 'latin1.txt', new Uint8Array([104, 0xe9, 108, 108, 111]));
    writeText(dir, 'short.txt', 'hello world');
    const before = listDir(dir);
    const cases: [string, RegExp][] = [
      ['missing.txt', /missing\.txt.*no such file/],
      ['folder', /folder.*directory/],
      ['empty.txt', /empty\.txt.*empty/],
      ['binary.bin', /binary\.bin.*binary/],
      ['latin1.txt', /latin1\.txt.*UTF-8/],
      ['short.txt', /one batch needs at least/],
    ];
    for (const [file, pattern] of cases) {
      fails(cli(dir, 'train', file, ...TINY, '--steps', '1'), pattern);
      fails(cli(dir, 'eval', 'missing.safetensors', file), /missing\.safetensors.*no such file/);
      assert.deepEqual(listDir(dir), before, `after ${file}`);
    }
  });

  it('refuses bad settings with the flag in the message', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    const cases: [string[], RegExp][] = [
      [['--hidden', '0'], /--hidden must be a whole number at least 1/],
      [['--layers', '5'], /--layers must be .*at most 4/],
      [['--hidden', '2.5'], /--hidden must be a whole number/],
      [['--lr', 'abc'], /--lr.*invalid.*number/],
      [['--lr', '0'], /--lr must be .*greater than 0/],
      [['--dropout', '1'], /--dropout must be .*less than 1/],
      [['--cell', 'transformer'], /--cell.*(choices|Allowed)/i],
      [['--activation', 'relu'], /--activation applies to the vanilla RNN only \(--cell rnn\)/],
      [['--momentum', '0.9', '--optimizer', 'adam'], /--momentum applies to/],
      [['--val-fraction', '0.9'], /--val-fraction must be .*at most 0.5/],
      [['--steps', '-1'], /--steps must be/],
      [['--minutes', '-1'], /--minutes must be .*at least 0/],
      [['--hidden', '4096', '--max-memory-mb', '64'], /needs about .* more than the limit of 64\.0 MiB/],
      [['--out', 'nofolder/m.safetensors'], /nofolder.*does not exist/],
      [['--out', 'a.txt'], /one of the training files/],
      [['--val-fraction', '0', '--val-every', '2'], /--val-every needs a validation set/],
      [['--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, pattern] of cases) {
      fails(cli(dir, 'train', 'a.txt', ...TINY, '--steps', '1', ...args), pattern);
      assert.deepEqual(listDir(dir), ['a.txt'], args.join(' '));
    }
    fails(cli(dir, 'train', 'a.txt', ...TINY, '--schedule', 'cosine', '--minutes', '1'), /needs to know how long to decay/);
    fails(cli(dir, 'train', 'a.txt', '--lr', '1e6'), /--lr must be greater than 0 and at most 10/);
    assert.deepEqual(listDir(dir), ['a.txt']);
    fails(cli(dir, 'train'), /missing required argument/);
    fails(cli(dir, 'frobnicate'), /unknown command/);
  });

  it('refuses truncated, corrupt, foreign and hostile checkpoints everywhere', () => {
    const dir = freshDir();
    const { ckpt, text } = trainTiny(dir, 'good.safetensors');
    const good = fs.readFileSync(ckpt);
    const u64 = (n: bigint): Uint8Array => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, n, true);
      return b;
    };
    const rawFile = (header: object, dataBytes: number): Uint8Array => {
      const h = Buffer.from(JSON.stringify(header));
      return Buffer.concat([u64(BigInt(h.length)), h, Buffer.alloc(dataBytes)]);
    };
    writeText(dir, 'truncated.safetensors', good.subarray(0, Math.floor(good.length / 2)));
    writeText(dir, 'short.safetensors', good.subarray(0, 5));
    writeText(dir, 'empty.safetensors', '');
    writeText(dir, 'random.safetensors', Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff)));
    writeText(dir, 'foreign.safetensors', encodeSafetensors([{ name: 'weight', shape: [2, 2], data: new Float32Array(4) }], {}));
    writeText(dir, 'huge-header.safetensors', Buffer.concat([u64(2n ** 60n), Buffer.from('{}')]));
    writeText(dir, 'lying.safetensors', rawFile({ __metadata__: { format: 'rnn-lab/1' }, w: { dtype: 'F32', shape: [4], data_offsets: [0, 16000] } }, 16));
    writeText(dir, 'textfile.safetensors', makeText(100));
    // Valid metadata describing a huge model, backed by one float: refused before anything is allocated.
    const vocab = Array.from({ length: 1000 }, (_, i) => String.fromCodePoint(0x100 + i));
    writeText(dir, 'inflated.safetensors', rawFile({
      __metadata__: {
        format: 'rnn-lab/1',
        config: JSON.stringify({ model: { cell: 'lstm', activation: 'tanh', hidden: 4096, layers: 4, vocabSize: 1000 }, train: {} }),
        vocab: JSON.stringify(vocab),
      },
      'decoder.bias': { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    }, 4));
    fs.mkdirSync(path.join(dir, 'dir.safetensors'));
    const cases: [string, RegExp][] = [
      ['truncated.safetensors', /truncated\.safetensors.*(exceeds file size|corrupt|beyond)/],
      ['short.safetensors', /shorter than the 8-byte header/],
      ['empty.safetensors', /empty\.safetensors.*shorter than/],
      ['random.safetensors', /not a safetensors file/],
      ['foreign.safetensors', /not an RNN Lab checkpoint/],
      ['huge-header.safetensors', /header length 1152921504606846976 exceeds file size/],
      ['lying.safetensors', /data_offsets \[0, 16000\] extend beyond/],
      ['textfile.safetensors', /not a safetensors file/],
      ['inflated.safetensors', /4-layer LSTM with hidden size 4096 .* but the file holds only 1 values/],
      ['dir.safetensors', /dir\.safetensors.*directory/],
    ];
    const before = listDir(dir);
    for (const [file, pattern] of cases) {
      fails(cli(dir, 'eval', file, text), pattern);
      fails(cli(dir, 'sample', file, '--length', '5'), pattern);
      fails(cli(dir, 'inspect', file, '--text', 'the'), pattern);
      fails(cli(dir, 'train', text, '--init', file, '--steps', '1', '--out', 'new.safetensors'), pattern);
      assert.deepEqual(listDir(dir), before, file);
    }
  });

  it('--init refuses other model shapes and characters outside the vocabulary', () => {
    const dir = freshDir();
    const { ckpt, text } = trainTiny(dir, 'good.safetensors');
    writeText(dir, 'new.txt', makeText(600).replace(/a/g, 'Ä'));
    const before = listDir(dir);
    const good = fs.readFileSync(ckpt);
    fails(cli(dir, 'train', text, '--init', ckpt, '--hidden', '20', '--out', ckpt), /--hidden 20 does not match the checkpoint/);
    fails(cli(dir, 'train', text, '--init', ckpt, '--cell', 'gru', '--out', ckpt), /--cell gru does not match/);
    fails(cli(dir, 'train', 'new.txt', '--init', ckpt, '--out', ckpt), /1 character.*\("Ä"\)|characters that .* does not know.*"Ä"/);
    assert.deepEqual(listDir(dir), before);
    assert.ok(fs.readFileSync(ckpt).equals(good));
  });

  it('sample and inspect refuse bad options', () => {
    const dir = freshDir();
    const { ckpt } = trainTiny(dir);
    fails(cli(dir, 'sample', ckpt, '--temperature', '-1'), /--temperature must be/);
    fails(cli(dir, 'sample', ckpt, '--top-p', '0'), /--top-p must be/);
    fails(cli(dir, 'sample', ckpt, '--length', '1.5'), /--length must be a whole number/);
    fails(cli(dir, 'inspect', ckpt), /exactly one of --text or --file/);
    fails(cli(dir, 'inspect', ckpt, '--file', 'nope.txt'), /nope\.txt.*no such file/);
    fails(cli(dir, 'inspect', ckpt, '--text', 'x', '--gradient-flow'), /at least two characters/);
    fails(cli(dir, 'eval', ckpt, 'nope.txt'), /nope\.txt.*no such file/);
  });
});

describe('divergence', () => {
  // The engine caps --lr at 10 (RANGES.lr), so 1e6 is refused as a setting; plain SGD at
  // lr 10 with momentum and no clipping blows a ReLU RNN up to NaN/inf within a few steps.
  const explode = ['--cell', 'rnn', '--activation', 'relu', '--hidden', '64', '--layers', '1', '--seq', '32', '--batch', '2',
    '--optimizer', 'sgd', '--lr', '10', '--momentum', '0.9', '--clip', '0', '--steps', '300', '--val-fraction', '0'];

  it('exits 3, never writes diverged weights and leaves the last good checkpoint byte-identical', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(600));
    // Runs are deterministic per seed; take the first seed that diverges (almost all do).
    let seed: number;
    let r: SpawnSyncReturns<string> | null = null;
    for (seed = 1; seed <= 8; seed++) {
      r = cli(dir, 'train', 'a.txt', ...explode, '--seed', String(seed), '--json', '--out', 'x.safetensors');
      if (r.status !== 0) break;
      fs.rmSync(path.join(dir, 'x.safetensors'));
      fs.rmSync(path.join(dir, 'x.history.jsonl'));
    }
    // No checkpoint saved yet: none is written.
    fails(r!, /training diverged at step \d+ \(loss (NaN|-?Infinity), gradient norm .*nothing was written to 'x\.safetensors'/, 3);
    assert.equal(jsonLines(r!.stdout).at(-1)!.event, 'error');
    assert.deepEqual(listDir(dir), ['a.txt']);

    // With --save-every 1 the checkpoint of the last good step stays: the last whose weights give a finite loss
    // (the weights an update produced are checked before they are saved, not one step later).
    const s = cli(dir, 'train', 'a.txt', ...explode, '--seed', String(seed), '--save-every', '1', '--json', '--out', 'y.safetensors');
    fails(s, /diverged at step (\d+).*the checkpoint saved at step \d+ in 'y\.safetensors' was kept/, 3);
    assert.doesNotMatch(s.stderr, /nothing was written|weights from before this step are kept/, 'one account of what was kept');
    const divergedAt = Number(/diverged at step (\d+)/.exec(s.stderr)![1]);
    const saved = jsonLines(s.stdout).filter((e) => e.event === 'checkpoint').map((e) => e.step as number);
    const keptStep = Number(/saved at step (\d+)/.exec(s.stderr)![1]);
    assert.equal(saved.at(-1), keptStep);
    assert.ok(keptStep < divergedAt);
    const kept = load(path.join(dir, 'y.safetensors'));
    assert.equal(kept.trainState!.step, keptStep);
    const ev = ok(cli(dir, 'eval', 'y.safetensors', 'a.txt', '--json'));
    assert.ok(Number.isFinite((JSON.parse(ev.stdout) as { loss: number | null }).loss), `the kept checkpoint evaluates to a finite loss: ${ev.stdout}`);
    assert.deepEqual(listDir(dir), ['a.txt', 'y.history.jsonl', 'y.safetensors']);

    // Continuing that good checkpoint in place diverges at the same step (the resume is exact),
    // and the file is left byte for byte as it was.
    const good = fs.readFileSync(path.join(dir, 'y.safetensors'));
    const t = cli(dir, 'train', 'a.txt', '--init', 'y.safetensors', '--out', 'y.safetensors', '--steps', '300');
    fails(t, new RegExp(`diverged at step ${divergedAt} .*nothing was written to 'y\\.safetensors'`), 3);
    assert.ok(fs.readFileSync(path.join(dir, 'y.safetensors')).equals(good), 'the good checkpoint is untouched');
    assert.deepEqual(listDir(dir), ['a.txt', 'y.history.jsonl', 'y.safetensors']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, and on failure leaves neither the target changed nor a temporary file', () => {
    const dir = freshDir();
    const target = path.join(dir, 'out.bin');
    writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    writeFileAtomic(target, new Uint8Array([4, 5]));
    assert.deepEqual([...fs.readFileSync(target)], [4, 5]);
    // Renaming over a non-empty directory fails after the temporary file was written.
    const blocked = path.join(dir, 'blocked');
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, 'x'), 'x');
    assert.throws(() => writeFileAtomic(blocked, new Uint8Array(10)), (e: unknown) => e instanceof FileError && /cannot write '.*blocked'/.test(e.message));
    assert.throws(() => writeFileAtomic(path.join(dir, 'no', 'such', 'dir.bin'), new Uint8Array(1)), /no such file or directory/);
    assert.deepEqual(listDir(dir), ['blocked', 'out.bin']);
    assert.deepEqual(listDir(blocked), ['x']);
  });
});

describe('help', () => {
  it('prints help for every command and exits 0', () => {
    const dir = freshDir();
    for (const cmd of [[], ['train'], ['eval'], ['sample'], ['inspect'], ['demo']]) {
      const r = ok(cli(dir, ...cmd, '--help'));
      assert.match(r.stdout, /Usage: rnn-lab/);
    }
    assert.match(ok(cli(dir, '--version')).stdout, /^\d+\.\d+\.\d+/);
  });
});

/** Runs the CLI asynchronously; resolves with its exit code and output. */
function cliAsync(cwd: string, ...args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, RNN_LAB_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  return { child, done };
}

/** The pid of a process that has exited (so no live process has it, barring reuse within the test). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('outputs that are not regular files', () => {
  it('refuses an --out that is a FIFO, a directory or a link to a device, and leaves it as it was', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    const fifo = path.join(dir, 'pipe.safetensors');
    spawnSync('mkfifo', [fifo]);
    assert.ok(fs.lstatSync(fifo).isFIFO());
    fs.mkdirSync(path.join(dir, 'folder.safetensors'));
    // A link in the temporary folder to a device node: the device itself is never written.
    fs.symlinkSync('/dev/null', path.join(dir, 'dev.safetensors'));
    for (const [name, kind] of [
      ['pipe.safetensors', /a FIFO \(named pipe\)/],
      ['folder.safetensors', /a directory/],
      ['dev.safetensors', /a device/],
    ] as const) {
      const r = cli(dir, 'train', 'a.txt', ...TINY, '--steps', '1', '--out', name);
      fails(r, new RegExp(`cannot write '${name.replace('.', '\\.')}': it is ${kind.source}, not a regular file`));
    }
    assert.ok(fs.lstatSync(fifo).isFIFO());
    assert.ok(fs.lstatSync(path.join(dir, 'folder.safetensors')).isDirectory());
    assert.ok(fs.lstatSync(path.join(dir, 'dev.safetensors')).isSymbolicLink());
    assert.ok(fs.statSync('/dev/null').isCharacterDevice());
  });

  it('writeFileAtomic refuses a FIFO target (the rename would replace it)', () => {
    const dir = freshDir();
    const fifo = path.join(dir, 'report.html');
    spawnSync('mkfifo', [fifo]);
    assert.throws(() => writeFileAtomic(fifo, new Uint8Array([1])), (e: Error) => e instanceof FileError && /it is a FIFO/.test(e.message));
    assert.ok(fs.lstatSync(fifo).isFIFO());
    assert.deepEqual(listDir(dir), ['report.html']);
  });
});

describe('inputs that are not regular files', () => {
  it('refuses a FIFO with no writer, /dev/zero and /dev/urandom at once, in train, eval and inspect', () => {
    const dir = freshDir();
    const { ckpt } = trainTiny(dir);
    const fifo = path.join(dir, 'pipe.txt');
    spawnSync('mkfifo', [fifo]);
    for (const input of [fifo, '/dev/zero', '/dev/urandom']) {
      const kind = input === fifo ? /a FIFO \(named pipe\)/ : /a device/;
      const started = Date.now();
      const runs = [
        cli(dir, 'train', input, ...TINY, '--steps', '1', '--out', 'x.safetensors'),
        cli(dir, 'eval', ckpt, input),
        cli(dir, 'inspect', ckpt, '--file', input),
      ];
      for (const r of runs) {
        assert.notEqual(r.signal, 'SIGTERM', `${input}: timed out (it hangs)`);
        fails(r, new RegExp(`cannot read '${input.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}': it is ${kind.source}, not a text file`));
      }
      assert.ok(Date.now() - started < 30_000);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'x.safetensors')));
  });
});

describe('temporaries left by killed saves', () => {
  it('train removes those of dead processes beside --out and keeps those of live ones', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    const dead = `m.safetensors.tmp-${deadPid()}-0123abcd`;
    const live = `m.safetensors.tmp-${process.pid}-89abcdef`;
    const other = `other.safetensors.tmp-${deadPid()}-00000000`;
    for (const name of [dead, live, other]) writeText(dir, name, 'partial');
    ok(cli(dir, 'train', 'a.txt', ...TINY, '--steps', '1', '--out', 'm.safetensors'));
    assert.deepEqual(listDir(dir), ['a.txt', 'm.history.jsonl', 'm.safetensors', live, other].sort());
  });
});

describe('two runs writing the same --out', () => {
  it('the second is refused with one line and exit 2 while the first runs and saves', async () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(2000));
    const first = cliAsync(dir, 'train', 'a.txt', ...TINY, '--minutes', '0.15', '--out', 'm.safetensors', '--json');
    const lock = path.join(dir, 'm.safetensors.lock');
    for (let i = 0; i < 300 && !fs.existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(lock), 'the first run holds a lock beside its checkpoint');
    assert.equal((JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number }).pid, first.child.pid);
    const second = await cliAsync(dir, 'train', 'a.txt', ...TINY, '--steps', '1', '--out', 'm.safetensors').done;
    const lines = second.stderr.split('\n').filter(Boolean);
    assert.equal(second.status, 2, second.stderr);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^rnn-lab: --out 'm\\.safetensors' is being written by another rnn-lab run \\(process ${first.child.pid}`));
    const r = await first.done;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(load(path.join(dir, 'm.safetensors')).trainState!.step > 0);
    assert.ok(!fs.existsSync(lock), 'the lock is released at the end');
  });

  it('takes over the lock of a process that no longer runs', () => {
    const dir = freshDir();
    writeText(dir, 'a.txt', makeText(400));
    const lock = path.join(dir, 'm.safetensors.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: deadPid(), start: null, host: os.hostname() }));
    ok(cli(dir, 'train', 'a.txt', ...TINY, '--steps', '1', '--out', 'm.safetensors'));
    assert.ok(!fs.existsSync(lock));
    assert.ok(fs.existsSync(path.join(dir, 'm.safetensors')));
  });
});

describe('large texts', () => {
  it('train, eval and inspect a 40 MB text inside a 96 MB V8 heap (the text is never one string or an array of strings)', () => {
    const dir = freshDir();
    const line = 'It was the best of times, it was the worst of times; ünïcode — 😀.\n';
    const big = path.join(dir, 'big.txt');
    fs.writeFileSync(big, line.repeat(Math.ceil(40e6 / Buffer.byteLength(line))));
    const run = (...args: string[]): SpawnSyncReturns<string> =>
      spawnSync(process.execPath, ['--max-old-space-size=96', CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const r = ok(run('train', 'big.txt', ...TINY, '--steps', '2', '--val-fraction', '0', '--out', 'm.safetensors', '--json'));
    const start = jsonLines(r.stdout).find((e) => e.event === 'start')!;
    assert.ok((start.trainChars as number) > 39e6 / 1.1, String(start.trainChars));
    fails(run('inspect', 'm.safetensors', '--file', 'big.txt'), /cannot read 'big\.txt': it is 38\.\d MiB, larger than the 39\.1 KiB limit/);
    // Scoring 40 M characters takes long; a tail of the file is enough to prove the memory bound.
    fs.truncateSync(big, 4e6);
    ok(run('eval', 'm.safetensors', 'big.txt', '--json'));
  });

  it('refuses a text whose tokens do not fit the memory limit, saying so', () => {
    const dir = freshDir();
    // The smallest limit (16 MiB) with a 17 MB text: its tokens alone (1 byte each) do not fit.
    writeText(dir, 'a.txt', makeText(17_000_000));
    fails(
      cli(dir, 'train', 'a.txt', ...TINY, '--steps', '1', '--max-memory-mb', '16'),
      /this run needs about 16\.\d MiB \(.*16\.\d MiB of tokens for 17,000,000 characters of text\), more than the limit of 16\.0 MiB/,
    );
  });
});
