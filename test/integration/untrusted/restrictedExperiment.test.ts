/**
 * Experiments in a workspace opened in Restricted Mode: an experiment file
 * there sizes its own models, runs and budget, so the CodeLens and the menus
 * say Run asks first and offer Manage Workspace Trust; Run Experiment shows
 * what the file would train (runs, budget, the largest model's memory, what
 * it reads and writes) in a modal and trains nothing unless the user says
 * Run Once; it then trains only what was shown (a file changed since is
 * refused), and the memory limit is the user's, not the workspace's.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(40);
const waitFor = waiter(120_000);

type MutableWindow = { -readonly [K in keyof typeof vscode.window]: (typeof vscode.window)[K] };
type MutableCommands = { -readonly [K in keyof typeof vscode.commands]: (typeof vscode.commands)[K] };

interface Asked {
  message: string;
  modal: boolean;
  detail: string;
  items: string[];
}

suite('experiments in Restricted Mode', function () {
  this.timeout(240_000);
  let api: RnnLabApi;
  let root: vscode.Uri;
  const errors: string[] = [];
  const window = vscode.window as MutableWindow;
  const commands = vscode.commands as MutableCommands;
  const realWarning = window.showWarningMessage;
  const realExecute = commands.executeCommand;
  let asked: Asked[] = [];

  /** Answers every warning with `answer` (after `before`, if given), recording what was asked. */
  function answerWith(answer: string | undefined, before?: () => void): void {
    window.showWarningMessage = function (message: string, options: vscode.MessageOptions, ...items: string[]) {
      asked.push({ message, modal: options?.modal === true, detail: options?.detail ?? '', items });
      before?.();
      return Promise.resolve(answer);
    } as typeof vscode.window.showWarningMessage;
  }

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext);
    api = await ext.activate();
    api.observe({ errorShown: (m) => errors.push(m) });
    assert.equal(vscode.workspace.isTrusted, false);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    root = vscode.Uri.joinPath(folder.uri, 'exp');
    fs.mkdirSync(root.fsPath, { recursive: true });
    fs.writeFileSync(path.join(root.fsPath, 'corpus.txt'), TEXT);
  });

  setup(() => {
    asked = [];
    errors.length = 0;
  });

  teardown(() => {
    window.showWarningMessage = realWarning;
    commands.executeCommand = realExecute;
  });

  const write = (name: string, spec: unknown): vscode.Uri => {
    const file = vscode.Uri.joinPath(root, name);
    fs.writeFileSync(file.fsPath, JSON.stringify(spec, null, 2));
    return file;
  };

  async function lenses(file: vscode.Uri): Promise<vscode.CodeLens[]> {
    await vscode.window.showTextDocument(file);
    const end = Date.now() + 30_000;
    for (;;) {
      const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file);
      if (all?.length) return all;
      if (Date.now() > end) throw new Error(`no CodeLens on ${path.basename(file.fsPath)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Runs the first CodeLens on `file`, as a click on it does. */
  async function clickRun(file: vscode.Uri): Promise<unknown> {
    const lens = (await lenses(file))[0]!;
    return vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []));
  }

  const SMALL = {
    name: 'sizes',
    text: 'corpus.txt',
    budget: { steps: 20 },
    base: { cell: 'gru', hidden: 8, layers: 1, seq: 16, batch: 4, lr: 0.01 },
    grid: { hidden: [8, 24] },
    seeds: [1, 2],
  };

  test('the CodeLens says Run asks first and offers Manage Workspace Trust; the menus show that command only untrusted', async () => {
    const file = write('lens.rnnlab.json', SMALL);
    const all = await lenses(file);
    assert.deepEqual(
      all.map((l) => [l.command?.title, l.command?.command]),
      [
        ['$(shield) Run Experiment (Restricted Mode: asks first)…', 'rnnLab.runExperimentRestricted'],
        ['$(workspace-untrusted) Manage Workspace Trust', 'workbench.trust.manage'],
      ],
    );
    assert.match(all[0]!.command!.tooltip ?? '', /not trusted/);
    assert.ok((await vscode.commands.getCommands(true)).includes('workbench.trust.manage'), 'the lens runs a command this VS Code has');

    const manifest = vscode.extensions.getExtension('rnn-lab.rnn-lab')!.packageJSON as {
      contributes: { menus: Record<string, { command: string; when?: string }[]> };
    };
    for (const menu of ['explorer/context', 'editor/context', 'commandPalette']) {
      const when = (command: string) => manifest.contributes.menus[menu]!.find((m) => m.command === command)?.when ?? '';
      assert.match(when('rnnLab.runExperiment'), /(^|&& )isWorkspaceTrusted$/, `${menu}: Run Experiment only when trusted`);
      assert.match(when('rnnLab.runExperimentRestricted'), /(^|&& )!isWorkspaceTrusted$/, `${menu}: the Restricted Mode title only when not`);
    }
  });

  test('Run Experiment shows what the file would train and asks (modal); declining trains and writes nothing', async () => {
    const file = write('sizes.rnnlab.json', SMALL);
    const out = path.join(root.fsPath, 'sizes.runs');
    answerWith(undefined);
    const started = await clickRun(file);
    assert.equal(started, undefined);
    assert.equal(asked.length, 1);
    const q = asked[0]!;
    assert.equal(q.message, 'Run the experiment "sizes" from an untrusted workspace?');
    assert.equal(q.modal, true);
    assert.deepEqual(q.items, ['Run Once', 'Manage Workspace Trust']);
    const lines = q.detail.split('\n');
    assert.equal(lines[0], 'sizes.rnnlab.json comes from a workspace in Restricted Mode. It asks to train:');
    assert.equal(lines[1], '• 4 runs, 20 steps each (80 steps in all)');
    // The widest runs need the most memory; the limit shown is the user's (the default), not the workspace's 65536 MB.
    assert.match(lines[2]!, /^• largest model: gru-hidden24-s[12], [\d,]+ parameters, about [\d.]+ [KMG]iB of memory in training \(your limit: 2\.0 GiB\)$/);
    assert.equal(lines[3], `• reads ${path.join('exp', 'corpus.txt')}`);
    assert.equal(lines[4], `• writes ${path.join('exp', 'sizes.runs')}${path.sep}`);
    assert.equal(api.experiments.get(out), undefined, 'nothing was queued');
    assert.equal(fs.existsSync(out), false, 'nothing was written');
    assert.deepEqual(errors, []);
  });

  test('a text file outside the workspace is named as such in the question', async () => {
    // Beside the workspace folder, not in it: an experiment file may point anywhere its paths reach.
    const outside = path.join(path.dirname(path.dirname(root.fsPath)), 'outside.txt');
    fs.writeFileSync(outside, TEXT);
    try {
      const file = write('outside.rnnlab.json', { ...SMALL, text: ['corpus.txt', '../../outside.txt'] });
      answerWith(undefined);
      assert.equal(await clickRun(file), undefined);
      assert.equal(asked[0]?.detail.split('\n')[3], `• reads ${path.join('exp', 'corpus.txt')}, ${outside} (outside the workspace)`);
    } finally {
      fs.rmSync(outside, { force: true });
    }
  });

  test('Manage Workspace Trust in the question opens the trust editor and trains nothing', async () => {
    const file = write('manage.rnnlab.json', SMALL);
    const ran: string[] = [];
    commands.executeCommand = function (command: string, ...rest: unknown[]) {
      ran.push(command);
      // The trust editor itself is VS Code's: the test only checks it is asked for.
      return command === 'workbench.trust.manage' ? Promise.resolve(undefined) : realExecute.call(vscode.commands, command, ...rest);
    } as typeof vscode.commands.executeCommand;
    answerWith('Manage Workspace Trust');
    assert.equal(await clickRun(file), undefined);
    assert.ok(ran.includes('workbench.trust.manage'));
    assert.equal(api.experiments.get(path.join(root.fsPath, 'manage.runs')), undefined);
    assert.equal(fs.existsSync(path.join(root.fsPath, 'manage.runs')), false);
  });

  test('Run Once trains the experiment that was shown into <name>.runs/', async () => {
    const file = write('once.rnnlab.json', { ...SMALL, name: 'once', grid: { hidden: [8, 12] }, seeds: [1] });
    const out = path.join(root.fsPath, 'once.runs');
    answerWith('Run Once');
    assert.equal(await clickRun(file), out);
    assert.equal(asked.length, 1);
    await waitFor('the experiment to finish', () => api.experiments.get(out)?.state === 'done' || api.experiments.get(out)?.state === 'failed');
    assert.equal(api.experiments.get(out)?.state, 'done', api.experiments.get(out)?.reason);
    const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; steps: number });
    assert.deepEqual(rows.map((r) => [r.id, r.steps]).sort(), [['gru-hidden12-s1', 20], ['gru-hidden8-s1', 20]]);
  });

  test('a file edited after it was confirmed is refused before it trains', async () => {
    const file = write('edited.rnnlab.json', SMALL);
    const out = path.join(root.fsPath, 'edited.runs');
    // The file grows while the question is up (a pull, another tool): what would train is no longer what was shown.
    answerWith('Run Once', () => fs.writeFileSync(file.fsPath, JSON.stringify({ ...SMALL, budget: { steps: 1000000 }, seeds: [1, 2, 3, 4, 5, 6] })));
    await clickRun(file);
    await waitFor('the refusal', () => api.experiments.get(out)?.state === 'failed' || api.experiments.get(out)?.state === 'done');
    assert.equal(api.experiments.get(out)?.state, 'failed');
    assert.match(api.experiments.get(out)?.reason ?? '', /edited\.rnnlab\.json' or its text changed since you confirmed it: run it again to review what it trains now$/);
    assert.ok(errors.some((e) => /changed since you confirmed it/.test(e)));
    assert.equal(fs.existsSync(out), false, 'nothing was written');
  });

  test("the workspace cannot raise the memory limit: a run over the user's limit is refused before anything is asked", async () => {
    // Far over the default 2 GiB, well under the 65536 MB this workspace's settings ask for.
    const file = write('huge.rnnlab.json', { text: 'corpus.txt', budget: { steps: 1 }, base: { cell: 'lstm', hidden: 4096, layers: 4, seq: 256, batch: 64 } });
    answerWith('Run Once');
    assert.equal(await clickRun(file), undefined);
    assert.deepEqual(asked, [], 'no question for a run that cannot train');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /huge\.rnnlab\.json': base: run lstm-s42: needs about [\d.]+ GiB .*more than the limit of 2\.0 GiB: .*raise rnnLab\.training\.maxMemoryMB in your user settings \(Restricted Mode ignores the workspace's\)$/);
    assert.equal(api.experiments.get(path.join(root.fsPath, 'huge.runs')), undefined);
    assert.equal(fs.existsSync(path.join(root.fsPath, 'huge.runs')), false);
  });
});
