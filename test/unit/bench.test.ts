/**
 * The benchmark's command line, without running the benchmark: the bundle is
 * built into a folder laid out like a fresh clone (no shared data beside it).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import * as esbuild from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');
let clone = '';
let bench = '';

before(async () => {
  clone = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-bench-'));
  // The project folder of a normal clone: nothing at ../shared/data from it.
  const project = path.join(clone, 'rnn-lab');
  await esbuild.build({
    entryPoints: { bench: path.join(ROOT, 'bench/bench.ts') },
    bundle: true,
    outdir: path.join(project, 'dist'),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  // The fallback text our side trains on without a corpus.
  const fallback = 'src/engine/models/stacked/network.ts';
  fs.mkdirSync(path.join(project, path.dirname(fallback)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, fallback), path.join(project, fallback));
  bench = path.join(project, 'dist', 'bench.js');
});

after(() => {
  if (clone) fs.rmSync(clone, { recursive: true, force: true });
});

function run(...args: string[]): SpawnSyncReturns<string> {
  // Killed at 60 s: a benchmark that started instead of answering fails the test, it does not hang it.
  return spawnSync(process.execPath, [bench, ...args], { cwd: clone, encoding: 'utf8', timeout: 60_000 });
}

describe('bench command line', () => {
  it('--help prints usage, every option, and exits 0 without measuring', () => {
    const r = run('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: node dist\/bench\.js \[options\]/);
    for (const flag of ['--only', '--seconds', '--backend', '--threads', '--corpus', '--no-torch', '--json', '--plan']) assert.ok(r.stdout.includes(flag), flag);
    assert.doesNotMatch(r.stdout, /chars\/s \|/, 'no benchmark table');
  });

  it('says why PyTorch is not compared when the default corpus is absent', () => {
    const r = run('--plan');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0]!, /src\/engine\/models\/stacked\/network\.ts ×20 \(no --corpus\)/);
    assert.match(lines[1]!, /^PyTorch not compared: it needs a text file and .*shared\/data\/tinyshakespeare\.txt is not there; pass --corpus FILE$/);
  });

  it('--corpus names the text; a missing one is refused in one line with exit 2', () => {
    const text = path.join(clone, 'corpus.txt');
    fs.writeFileSync(text, 'to be or not to be\n'.repeat(50));
    const r = run('--plan', '--corpus', text, '--no-torch');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^RNN Lab benchmark — corpus\.txt, vocab 8,/);
    assert.match(r.stdout, /\nPyTorch not compared \(--no-torch\)\n/);
    const missing = run('--plan', '--corpus', path.join(clone, 'absent.txt'));
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^bench: option '--corpus <file>' argument '.*absent\.txt' is invalid\. no such file: ".*absent\.txt"\.\n$/);
  });
});
