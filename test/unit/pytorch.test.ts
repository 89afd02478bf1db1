/**
 * RNN Lab models in PyTorch and back, with Debian's python3-torch: the
 * README's snippet (extracted from README.md and run as it is), the loader
 * script, and scripts/from_pytorch.py. Each gives the loss `rnn-lab eval`
 * gives on the same text. Skipped, saying why, where torch is absent.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCli } from './helpers/buildCli';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const torchMissing =
  spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0
    ? false
    : `${PYTHON} cannot import torch (apt-get install python3-torch): the PyTorch round trips are not checked`;
if (torchMissing) console.log(`# skipped: ${torchMissing}`);

let tmp = '';
let cliPath = '';
/** A text every model below knows all characters of: the losses compare one for one. */
let textPath = '';

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-torch-'));
  // Our own CLI bundle: test files run in parallel, and cli.test.ts rebuilds dist/cli.js.
  cliPath = path.join(tmp, 'cli.js');
  await buildCli(cliPath);
  const words = 'the cat sat on a mat and the dog ran far'.split(' ');
  let state = 12345;
  const picked: string[] = [];
  for (let i = 0; i < 300; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    picked.push(words[state % words.length]!);
  }
  textPath = path.join(tmp, 'text.txt');
  fs.writeFileSync(textPath, `${picked.join(' ')}\n`);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd = tmp): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RNN_LAB_DEBUG: '' } });
}

function ok(r: SpawnSyncReturns<string>): string {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

function rnnLab(...args: string[]): string {
  return ok(run(process.execPath, [cliPath, ...args]));
}

function evalLoss(checkpoint: string): number {
  const r = JSON.parse(rnnLab('eval', checkpoint, textPath, '--json')) as { loss: number; unknown: number };
  assert.equal(r.unknown, 0);
  return r.loss;
}

/** A small model trained by the CLI, in its own folder as model.safetensors (the name the README snippet opens). */
function trained(name: string, ...flags: string[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  rnnLab('train', textPath, '--hidden', '12', '--layers', '2', '--seq', '16', '--batch', '4', '--steps', '40', '--out', path.join(dir, 'model.safetensors'), ...flags);
  return dir;
}

/** The first python block of the README's "Checkpoints and PyTorch" section, as a user copies it. */
function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Checkpoints and PyTorch'));
  const m = /```python\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has a python snippet under "Checkpoints and PyTorch"');
  return m[1]!;
}

/** What a user appends to the snippet: the loss on a text, from the model the snippet built. */
const LOSS_OF_TEXT = `
import sys
text = open(sys.argv[1], encoding="utf-8").read()
x = torch.zeros(len(text) - 1, 1, V)
for i, ch in enumerate(text[:-1]):
    x[i, 0, index[ch]] = 1
targets = torch.tensor([index[ch] for ch in text[1:]])
with torch.no_grad():
    out, _ = model.rnn(x)
    print(json.dumps({"loss": torch.nn.functional.cross_entropy(model.decoder(out)[:, 0], targets).item()}))
`;

// Float32 sums over ~1,100 characters in two orders, and eval's 6 decimals.
const TOLERANCE = 2e-5;

describe('the README snippet in PyTorch', { skip: torchMissing }, () => {
  for (const [label, flags] of [
    ['a relu RNN', ['--cell', 'rnn', '--activation', 'relu']],
    ['a tanh RNN', ['--cell', 'rnn', '--activation', 'tanh']],
    ['an LSTM', ['--cell', 'lstm']],
    ['a GRU', ['--cell', 'gru']],
  ] as const) {
    it(`builds ${label} whose loss is rnn-lab eval's`, () => {
      const dir = trained(label.replace(/\W+/g, '-'), ...flags);
      const script = path.join(dir, 'snippet.py');
      fs.writeFileSync(script, readmeSnippet() + LOSS_OF_TEXT);
      const torchLoss = (JSON.parse(ok(run(PYTHON, [script, textPath], dir))) as { loss: number }).loss;
      const ours = evalLoss(path.join(dir, 'model.safetensors'));
      assert.ok(Math.abs(torchLoss - ours) < TOLERANCE, `PyTorch ${torchLoss}, rnn-lab eval ${ours}`);
    });
  }

  it('refuses a sigmoid RNN, naming the script that loads one', () => {
    const dir = trained('sigmoid-snippet', '--cell', 'rnn', '--activation', 'sigmoid');
    const script = path.join(dir, 'snippet.py');
    fs.writeFileSync(script, readmeSnippet() + LOSS_OF_TEXT);
    const r = run(PYTHON, [script, textPath], dir);
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.trim(), /^nn\.RNN has no sigmoid: scripts\/load_in_pytorch\.py builds that cell itself$/);
  });
});

describe('scripts/load_in_pytorch.py', { skip: torchMissing }, () => {
  for (const [cell, flags] of [['gpt', ['--heads', '2', '--seq', '16']], ['mingru', []]] as const) {
    it(`loads a ${cell} by nanoGPT's names (load_state_dict strict=False, only the mask buffers missing) and gives rnn-lab eval's loss`, () => {
      const dir = trained(`loader-${cell}`, '--cell', cell, '--hidden', '8', '--layers', '2', ...flags);
      const checkpoint = path.join(dir, 'model.safetensors');
      const r = JSON.parse(ok(run(PYTHON, [path.join(ROOT, 'scripts/load_in_pytorch.py'), checkpoint, '--loss-for', textPath]))) as { loss: number };
      const ours = evalLoss(checkpoint);
      assert.ok(Math.abs(r.loss - ours) < TOLERANCE, `PyTorch ${r.loss}, rnn-lab eval ${ours}`);
      const text = ok(run(PYTHON, [path.join(ROOT, 'scripts/load_in_pytorch.py'), checkpoint, '--prime', 'the ', '--length', '30']));
      assert.ok(text.startsWith('the ') && [...text.trimEnd()].length >= 30, text);
    });
  }

  for (const activation of ['sigmoid', 'relu']) {
    it(`loads a ${activation} RNN and gives rnn-lab eval's loss (--loss-for)`, () => {
      const dir = trained(`loader-${activation}`, '--cell', 'rnn', '--activation', activation);
      const checkpoint = path.join(dir, 'model.safetensors');
      const r = JSON.parse(ok(run(PYTHON, [path.join(ROOT, 'scripts/load_in_pytorch.py'), checkpoint, '--loss-for', textPath]))) as { loss: number };
      const ours = evalLoss(checkpoint);
      assert.ok(Math.abs(r.loss - ours) < TOLERANCE, `PyTorch ${r.loss}, rnn-lab eval ${ours}`);
      // And it generates text from it.
      const text = ok(run(PYTHON, [path.join(ROOT, 'scripts/load_in_pytorch.py'), checkpoint, '--prime', 'the ', '--length', '30']));
      assert.ok(text.startsWith('the ') && [...text.trimEnd()].length >= 4, text);
    });
  }
});

/**
 * A model as a PyTorch user has it: their own module names (lstm., fc.), their
 * own vocabulary order, random weights from a seed; prints torch's loss on the text.
 */
const MAKE_MODEL = `
import json, struct, sys, torch
cell, layers, activation, form, out, vocab_path, text_path = sys.argv[1:8]
layers = int(layers)
text = open(text_path, encoding="utf-8").read()
vocab = sorted(set(text), reverse=True)
index = {c: i for i, c in enumerate(vocab)}
V, H = len(vocab), 10
torch.manual_seed(7)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        if cell == "lstm":
            self.lstm = torch.nn.LSTM(V, H, layers)
        elif cell == "gru":
            self.lstm = torch.nn.GRU(V, H, layers)
        else:
            self.lstm = torch.nn.RNN(V, H, layers, nonlinearity=activation)
        self.fc = torch.nn.Linear(H, V)

net = Net()
x = torch.zeros(len(text) - 1, 1, V)
for i, ch in enumerate(text[:-1]):
    x[i, 0, index[ch]] = 1
targets = torch.tensor([index[ch] for ch in text[1:]])
with torch.no_grad():
    o, _ = net.lstm(x)
    loss = torch.nn.functional.cross_entropy(net.fc(o)[:, 0], targets).item()
sd = net.state_dict()
if form == "pt":
    torch.save(sd, out)
elif form == "wrapped":
    torch.save({"model_state_dict": sd, "epoch": 3}, out)
else:
    entries, blobs, offset = {}, [], 0
    for k, v in sd.items():
        blob = v.numpy().astype("<f4").tobytes()
        entries[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header = json.dumps(entries).encode()
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + b"".join(blobs))
json.dump(vocab, open(vocab_path, "w"))
print(json.dumps({"loss": loss}))
`;

describe('scripts/from_pytorch.py', { skip: torchMissing }, () => {
  const cases = [
    { label: 'a 2-layer nn.LSTM state_dict (.pt)', cell: 'lstm', layers: '2', activation: 'tanh', form: 'pt', flags: [] as string[] },
    { label: 'a 1-layer relu nn.RNN (.safetensors)', cell: 'rnn', layers: '1', activation: 'relu', form: 'safetensors', flags: ['--activation', 'relu'] },
    { label: 'a 3-layer nn.GRU inside a training checkpoint dict', cell: 'gru', layers: '3', activation: 'tanh', form: 'wrapped', flags: [] as string[] },
  ];
  for (const c of cases) {
    it(`converts ${c.label}; rnn-lab eval gives torch's loss`, () => {
      const dir = path.join(tmp, `from-${c.cell}-${c.form}`);
      fs.mkdirSync(dir);
      const maker = path.join(dir, 'make.py');
      fs.writeFileSync(maker, MAKE_MODEL);
      const weights = path.join(dir, c.form === 'safetensors' ? 'weights.safetensors' : 'weights.pt');
      const vocab = path.join(dir, 'vocab.json');
      const torchLoss = (JSON.parse(ok(run(PYTHON, [maker, c.cell, c.layers, c.activation, c.form, weights, vocab, textPath]))) as { loss: number }).loss;
      const out = path.join(dir, 'model.safetensors');
      const r = run(PYTHON, [path.join(ROOT, 'scripts/from_pytorch.py'), weights, '--vocab', vocab, '--out', out, ...c.flags]);
      ok(r);
      assert.match(r.stderr, new RegExp(`wrote .*model\\.safetensors: ${c.layers}-layer ${c.cell.toUpperCase()}, hidden 10, vocabulary \\d+`));
      const ours = evalLoss(out);
      assert.ok(Math.abs(torchLoss - ours) < TOLERANCE, `PyTorch ${torchLoss}, rnn-lab eval ${ours}`);
    });
  }

  it('writes a checkpoint RNN Lab samples from and trains further (no train_state needed)', () => {
    const out = path.join(tmp, 'from-lstm-pt', 'model.safetensors');
    assert.ok(fs.existsSync(out), 'the LSTM conversion ran first');
    assert.equal([...rnnLab('sample', out, '--length', '25', '--seed', '1')].length, 25);
    const done = JSON.parse(
      rnnLab('train', textPath, '--init', out, '--steps', '3', '--batch', '2', '--seq', '8', '--out', path.join(tmp, 'continued.safetensors'), '--json').trim().split('\n').pop()!,
    ) as { event: string; step: number };
    assert.deepEqual([done.event, done.step], ['done', 3]);
  });

  it('refuses a vocabulary that does not match the weights, in one line', () => {
    const dir = path.join(tmp, 'from-lstm-pt');
    const small = path.join(dir, 'two.json');
    fs.writeFileSync(small, '["a", "b"]');
    const r = run(PYTHON, [path.join(ROOT, 'scripts/from_pytorch.py'), path.join(dir, 'weights.pt'), '--vocab', small, '--out', path.join(dir, 'bad.safetensors')]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^from_pytorch: lstm\.weight_ih_l0 has shape \[40, \d+\], expected \[40, 2\] for a vocabulary of 2$/m);
    assert.ok(!fs.existsSync(path.join(dir, 'bad.safetensors')));
  });
});
