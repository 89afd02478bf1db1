/** Node-side file handling shared by the CLI and the extension: stale temporaries, locks, the model library's index. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import { removeStaleTemporaries, writeFileAtomic } from '../../src/shared/atomicFile';
import { LockedError, acquireLock } from '../../src/shared/fileLock';
import { MAX_MODEL_NAME_CHARS, ModelLibrary } from '../../src/extension/library';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-files-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => fs.mkdtempSync(path.join(tmpRoot, `t${n++}-`));

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
}

/** A process that stays alive until killed. */
function liveProcess(): { pid: number; kill(): void } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill() };
}

describe('stale temporaries', () => {
  it('removes those of dead processes only, and only of the given target', () => {
    const dir = freshDir();
    const live = liveProcess();
    try {
      const dead = deadPid();
      const names = {
        dead: `m.safetensors.tmp-${dead}-0123abcd`,
        live: `m.safetensors.tmp-${live.pid}-0123abcd`,
        mine: `m.safetensors.tmp-${process.pid}-0123abcd`,
        other: `x.safetensors.tmp-${dead}-0123abcd`,
        unrelated: `m.safetensors.tmp-${dead}-notahex!`,
      };
      for (const f of Object.values(names)) fs.writeFileSync(path.join(dir, f), 'partial');
      assert.deepEqual(removeStaleTemporaries(dir, 'm.safetensors'), [path.join(dir, names.dead)]);
      assert.deepEqual(fs.readdirSync(dir).sort(), [names.live, names.mine, names.other, names.unrelated].sort());
      // Without a target: every file's.
      assert.deepEqual(removeStaleTemporaries(dir), [path.join(dir, names.other)]);
    } finally {
      live.kill();
    }
  });

  it('writeFileAtomic sweeps a target\'s dead temporaries on its first write', () => {
    const dir = freshDir();
    const stale = path.join(dir, `f.json.tmp-${deadPid()}-deadbeef`);
    fs.writeFileSync(stale, '{');
    writeFileAtomic(path.join(dir, 'f.json'), new TextEncoder().encode('{}'));
    assert.deepEqual(fs.readdirSync(dir), ['f.json']);
  });

  it('the model library removes them from its index folder and every model folder when it opens', () => {
    const root = freshDir();
    const lib = new ModelLibrary(root);
    const entry = lib.create({
      name: 'm', sources: [], cell: 'lstm', hidden: 4, layers: 1, vocabSize: 3, params: 10, steps: 0,
      lastLoss: null, bestValLoss: null, bestValBpc: null, state: 'done', hasCheckpoint: false,
    });
    lib.saveCheckpoint(entry.id, new Uint8Array([1, 2, 3]));
    const live = liveProcess();
    try {
      const dead = deadPid();
      const staleModel = path.join(lib.folder(entry.id), `model.safetensors.tmp-${dead}-0badc0de`);
      const liveModel = path.join(lib.folder(entry.id), `model.safetensors.tmp-${live.pid}-0badc0de`);
      const staleIndex = path.join(root, `index.json.tmp-${dead}-0badc0de`);
      for (const f of [staleModel, liveModel, staleIndex]) fs.writeFileSync(f, 'x'.repeat(1000));
      const reopened = new ModelLibrary(root);
      assert.equal(reopened.get(entry.id)?.name, 'm');
      assert.ok(!fs.existsSync(staleModel) && !fs.existsSync(staleIndex));
      assert.ok(fs.existsSync(liveModel));
      assert.deepEqual(Array.from(reopened.readCheckpoint(entry.id)), [1, 2, 3]);
    } finally {
      live.kill();
    }
  });
});

describe('model names in the library', () => {
  it('are capped and kept on one line, also when read from an old index', () => {
    const root = freshDir();
    const lib = new ModelLibrary(root);
    const entry = lib.create({
      name: `evil\nname ${'x'.repeat(1_000_000)}`, sources: [], cell: 'gru', hidden: 4, layers: 1, vocabSize: 3, params: 10,
      steps: 0, lastLoss: null, bestValLoss: null, bestValBpc: null, state: 'done', hasCheckpoint: false,
    });
    assert.ok([...entry.name].length <= MAX_MODEL_NAME_CHARS, `name of ${entry.name.length} characters`);
    assert.match(entry.name, /^evil name x+…$/);
    assert.ok(fs.statSync(path.join(root, 'index.json')).size < 10_000);
    lib.update(entry.id, { name: '\u0000\n' });
    assert.match(lib.get(entry.id)!.name, /^evil name/, 'a name of only control characters keeps the old one');
    const index = JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8')) as { models: { name: string }[] };
    index.models[0]!.name = 'y'.repeat(100_000);
    fs.writeFileSync(path.join(root, 'index.json'), JSON.stringify(index));
    assert.equal([...new ModelLibrary(root).get(entry.id)!.name].length, MAX_MODEL_NAME_CHARS);
  });
});

describe('file locks', () => {
  it('refuse a second holder while the first lives, and are released', () => {
    const dir = freshDir();
    const file = path.join(dir, 'm.lock');
    const lock = acquireLock(file);
    // The same check another process would make, by the pid written in the file.
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; host: string };
    assert.equal(owner.pid, process.pid);
    assert.throws(() => acquireLock(file), (e: unknown) => e instanceof LockedError && e.owner?.pid === process.pid);
    lock.release();
    assert.ok(!fs.existsSync(file));
    acquireLock(file).release();
  });

  it('take over a lock of a dead process, or of a reused pid whose start time differs', () => {
    const dir = freshDir();
    const file = path.join(dir, 'm.lock');
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), start: null, host: os.hostname() }));
    acquireLock(file).release();
    if (fs.existsSync(`/proc/${process.pid}/stat`)) {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, start: '1', host: os.hostname() }));
      acquireLock(file).release();
    }
    // A live holder on another machine cannot be checked: refused.
    fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), start: null, host: `not-${os.hostname()}` }));
    assert.throws(() => acquireLock(file), LockedError);
  });
});
