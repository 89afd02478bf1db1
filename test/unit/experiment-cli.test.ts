/**
 * `rnn-lab experiment` end to end: the CLI bundle run as a child process,
 * killed (SIGKILL, no chance to save) in the middle of an experiment and
 * resumed with --resume, against the same experiment run uninterrupted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';


import { buildCli } from './helpers/buildCli';
import { makeText } from './helpers/text';

let tmp = '';
let cliPath = '';

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-experiment-cli-'));
  // A bundle of its own, so this test never races another over dist/cli.js.
  cliPath = path.join(tmp, 'bin', 'cli.js');
  await buildCli(cliPath);
  fs.writeFileSync(path.join(tmp, 'notes.txt'), makeText(6000, 11));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function cli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliPath, ...args], { cwd: tmp, encoding: 'utf8', env: { ...process.env, RNN_LAB_DEBUG: '' }, timeout: 300_000 });
}

function rows(dir: string): Record<string, unknown>[] {
  const file = path.join(tmp, dir, 'results.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function untimed(r: Record<string, unknown>): Record<string, unknown> {
  const { seconds: _s, charsPerSec: _c, ...rest } = r;
  return rest;
}

const EXPERIMENT = {
  name: 'kill and resume',
  text: ['notes.txt'],
  valFraction: 0.1,
  budget: { steps: 400 },
  base: { hidden: 16, layers: 1, seq: 16, batch: 4, lr: 0.01 },
  grid: { cell: ['lstm', 'gru'] },
  seeds: [1, 2],
};

describe('rnn-lab experiment (CLI)', () => {
  it('killed mid-experiment and resumed, it writes the same results as an uninterrupted run', async () => {
    fs.writeFileSync(path.join(tmp, 'a.rnnlab.json'), JSON.stringify(EXPERIMENT));
    fs.writeFileSync(path.join(tmp, 'b.rnnlab.json'), JSON.stringify(EXPERIMENT));

    const whole = cli('experiment', 'b.rnnlab.json', '--out', 'whole');
    assert.equal(whole.status, 0, whole.stderr);
    const expected = rows('whole');
    assert.equal(expected.length, 4);
    assert.match(whole.stdout, /#\s+run\s+params\s+steps\s+time\s+chars\/s\s+val bpc/, 'the final table');
    const bpcs = whole.stdout.split('\n').filter((l) => /^\s*\d+\s+(lstm|gru)-/.test(l)).map((l) => Number(l.trim().split(/\s+/)[6]));
    assert.equal(bpcs.length, 4);
    assert.deepEqual(bpcs, [...bpcs].sort((a, b) => a - b), 'best first');
    assert.ok(fs.existsSync(path.join(tmp, 'whole', 'report.html')));

    // Each run keeps the one history format beside its checkpoint (report.test.ts reads one with `rnn-lab report`).
    const first = expected[0]!;
    assert.equal(first.history, `${String(first.id)}.history.jsonl`);
    const logged = fs.readFileSync(path.join(tmp, 'whole', String(first.history)), 'utf8').split('\n').filter((l) => l.startsWith('{"kind":"step"')).length;
    assert.ok(logged >= 2, `${logged} steps logged`);

    // Kill it once the first run is finished and the second has saved a checkpoint of its own.
    const child = spawn(process.execPath, [cliPath, 'experiment', 'a.rnnlab.json', '--out', 'killed', '--json', '--save-every', '10'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let killedAt: { results: number; step: number } | null = null;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? null : code)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const e = JSON.parse(line) as { event: string; path?: string; step?: number };
        const secondRun = e.event === 'checkpoint' && e.path?.endsWith(`${String(expected[1]!.id)}.safetensors`) && e.step! >= 20 && e.step! < 400;
        if (secondRun && !killedAt) {
          killedAt = { results: rows('killed').length, step: e.step! };
          child.kill('SIGKILL');
        }
      }
    });
    const code = await exit;
    assert.equal(code, null, 'killed by the signal, not finished');
    assert.ok(killedAt, 'the second run saved a checkpoint before the end');
    assert.equal(rows('killed').length, 1, 'one run had finished');

    const resumed = cli('experiment', 'a.rnnlab.json', '--out', 'killed', '--resume', '--json');
    assert.equal(resumed.status, 0, resumed.stderr);
    const events = resumed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; id?: string; startStep?: number });
    const starts = events.filter((e) => e.event === 'start');
    assert.equal(starts.length, 3, 'the finished run is not redone');
    assert.ok(starts[0]!.startStep! >= 20 && starts[0]!.startStep! % 10 === 0, `the interrupted run continues from a checkpoint (step ${starts[0]!.startStep})`);
    assert.deepEqual(rows('killed').map(untimed), expected.map(untimed));
    assert.equal(events.filter((e) => e.event === 'result').length, 4, 'every row is reported, the one from before the kill too');
  });

  it('refuses bad input with the path of the bad key, one line, exit 2, before anything is written', () => {
    fs.writeFileSync(path.join(tmp, 'bad.rnnlab.json'), JSON.stringify({ ...EXPERIMENT, grid: { lr: [0.01, -1] } }));
    const r = cli('experiment', 'bad.rnnlab.json', '--out', 'bad');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "rnn-lab: 'bad.rnnlab.json': grid.lr[1]: must be > 0\n");
    assert.equal(fs.existsSync(path.join(tmp, 'bad')), false);
  });
});
