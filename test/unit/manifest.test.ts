/**
 * The extension manifest's promises about Restricted Mode: every setting that
 * costs resources or widens what runs is tagged `restricted` where it is
 * declared, and exactly those are in `restrictedConfigurations`, so VS Code
 * ignores their workspace values until the workspace is trusted. And what
 * `npm run demo` writes into the clone is ignored by git.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

interface Setting {
  type: string;
  tags?: string[];
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Setting> } | { properties: Record<string, Setting> }[] };
  capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
};

const settings: Record<string, Setting> = Object.assign(
  {},
  ...[manifest.contributes.configuration].flat().map((c) => c.properties),
);
const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [];
const tagged = Object.keys(settings).filter((k) => settings[k]!.tags?.includes('restricted'));

describe('Restricted Mode in package.json', () => {
  it('restricts exactly the settings tagged "restricted", each once', () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.equal(new Set(restricted).size, restricted.length, 'no duplicates');
    for (const name of restricted) assert.ok(name in settings, `${name} is a contributed setting`);
    assert.deepEqual([...restricted].sort(), [...tagged].sort());
  });

  it('covers what a workspace must not raise: memory, threads, run length, where and how often completions run', () => {
    // The reproduction (maxMemoryMB 65536, threads, completions for every language, debounceMs 0)
    // and the other limits a run or a keystroke spends.
    for (const name of [
      'rnnLab.training.maxMemoryMB',
      'rnnLab.training.threads',
      'rnnLab.training.maxConcurrentRuns',
      'rnnLab.training.maxSteps',
      'rnnLab.training.maxMinutes',
      'rnnLab.completions.enabled',
      'rnnLab.completions.languages',
      'rnnLab.completions.debounceMs',
    ]) {
      assert.ok(restricted.includes(name), `${name} is restricted`);
    }
  });

  it('leaves the numerics of training to the workspace: only sizes, budgets and scope are restricted', () => {
    // A learning rate or a seed changes results, not what the machine spends.
    for (const name of ['rnnLab.training.lr', 'rnnLab.training.seed', 'rnnLab.training.optimizer', 'rnnLab.model.cell']) {
      assert.ok(name in settings, name);
      assert.ok(!restricted.includes(name), `${name} is not restricted`);
    }
  });
});

describe('.gitignore', () => {
  const root = path.resolve(__dirname, '..', '..');
  const inRepo = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' }).stdout.trim() === 'true';
  it('ignores the model `npm run demo` saves in the project folder', { skip: inRepo ? false : 'not a git checkout' }, () => {
    // --no-index: ignored even if someone committed one by mistake.
    const r = spawnSync('git', ['check-ignore', '--no-index', '-q', 'demo.safetensors'], { cwd: root });
    assert.equal(r.status, 0, 'git check-ignore demo.safetensors');
  });
});
