/**
 * The Getting Started walkthrough as package.json declares it: every step has
 * exactly one button, a command the extension contributes, completion events
 * on commands that exist, and a light and a dark image that ship in the .vsix.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FAMILY_NAMES } from '../../src/engine/models/catalog';
import { countRuns, parseExperiment, walkthroughExperimentText } from '../../src/shared/experiment';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: {
    commands: { command: string }[];
    walkthroughs: { id: string; steps: { id: string; description: string; completionEvents: string[]; media: { image: Record<string, string>; altText: string } }[] }[];
  };
};
const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8');
const commands = new Set(pkg.contributes.commands.map((c) => c.command));
/** Commands of VS Code itself or of views the walkthrough may listen for. */
const VIEW_EVENT = /^onView:rnnLab\.\w+$/;

describe('the walkthrough in package.json', () => {
  const [w] = pkg.contributes.walkthroughs;
  it('has six steps, each with one button to a contributed command', () => {
    assert.equal(w?.steps.length, 6);
    for (const s of w.steps) {
      const buttons = [...s.description.matchAll(/\]\(command:([\w.]+)\)/g)].map((m) => m[1]!);
      assert.equal(buttons.length, 1, `${s.id}: one button`);
      assert.ok(commands.has(buttons[0]!), `${s.id}: ${buttons[0]} is contributed`);
    }
  });

  it('completes each step on a command the extension contributes (or its view)', () => {
    for (const s of w!.steps) {
      assert.ok(s.completionEvents.length > 0, `${s.id}: a completion event`);
      for (const e of s.completionEvents) {
        const cmd = /^onCommand:([\w.]+)$/.exec(e)?.[1];
        assert.ok((cmd && commands.has(cmd)) || VIEW_EVENT.test(e), `${s.id}: ${e}`);
      }
    }
  });

  it('has a light and a dark image per step that exist and ship', () => {
    assert.ok(/^!media\/walkthrough\/\*\.svg$/m.test(ignore), '.vscodeignore ships media/walkthrough/*.svg');
    for (const s of w!.steps) {
      const img = s.media.image;
      assert.ok(s.media.altText.length > 10, `${s.id}: alt text`);
      for (const theme of ['light', 'dark', 'hc', 'hcLight']) {
        assert.ok(img[theme] && existsSync(path.join(root, img[theme])), `${s.id}: ${theme} image ${img[theme]}`);
      }
      assert.notEqual(img.light, img.dark, `${s.id}: the dark theme has its own image`);
      const dark = readFileSync(path.join(root, img.dark!), 'utf8');
      assert.ok(/<svg[^>]*viewBox/.test(dark) && /<title>/.test(dark), `${s.id}: an svg with a title`);
    }
  });

  it('ends with a small experiment: its button writes and runs one, and Run Experiment on any file ticks it too', () => {
    const last = w!.steps.at(-1)!;
    assert.equal(last.id, 'experiment');
    assert.match(last.description, /\[Run a Small Experiment\]\(command:rnnLab\.walkthrough\.runExperiment\)$/);
    assert.deepEqual(last.completionEvents, ['onCommand:rnnLab.walkthrough.runExperiment', 'onCommand:rnnLab.runExperiment']);
  });

  it('the experiment it writes is valid and small: the three recurrent cells, a step budget', () => {
    const spec = parseExperiment(walkthroughExperimentText('rnn-lab-sample.txt'), { families: FAMILY_NAMES });
    assert.deepEqual(spec.text, ['rnn-lab-sample.txt']);
    assert.deepEqual(spec.grid, [['cell', ['rnn', 'lstm', 'gru']]]);
    assert.equal(countRuns(spec), 3);
    assert.ok('steps' in spec.budget && spec.budget.steps <= 100, 'a budget of steps, not minutes');
  });
});
