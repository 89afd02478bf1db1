/**
 * Experiments in a real VS Code: New Experiment… writes a valid starter and
 * refuses to overwrite; the CodeLens on a `*.rnnlab.json` runs a small
 * experiment through the training manager's queue and the experiment worker
 * into `<name>.runs/` in the CLI's layout (the CLI then resumes it without
 * training anything again); bad files are refused with the CLI's JSON-path
 * message before anything trains; a stopped experiment continues its
 * interrupted run from the checkpoint; more than 100 runs asks first.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import { parseExperiment } from '../../../src/shared/experiment';
import type { HiddenTraceMessage } from '../../../src/shared/hiddenStatesProtocol';
import { parseHistory } from '../../../src/shared/history';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(60);
const waitFor = waiter(120_000);

type MutableWindow = { -readonly [K in keyof typeof vscode.window]: (typeof vscode.window)[K] };

suite('experiments', function () {
  this.timeout(240_000);
  let api: RnnLabApi;
  let root: vscode.Uri;
  const errors: string[] = [];
  const window = vscode.window as MutableWindow;
  const realWarning = window.showWarningMessage;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext);
    api = await ext.activate();
    api.observe({ errorShown: (m) => errors.push(m) });
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    root = vscode.Uri.joinPath(folder.uri, 'exp');
    fs.mkdirSync(root.fsPath, { recursive: true });
    fs.writeFileSync(path.join(root.fsPath, 'corpus.txt'), TEXT);
  });

  teardown(() => {
    window.showWarningMessage = realWarning;
  });

  // The suites after this one start from a window with no editors or panels of ours.
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  /** A saved text file that no model was trained on (an untitled one would stay dirty and stop closeAllEditors). */
  const otherText = (): Thenable<vscode.TextDocument> => {
    const file = path.join(root.fsPath, 'other.txt');
    fs.writeFileSync(file, 'x');
    return vscode.workspace.openTextDocument(vscode.Uri.file(file));
  };

  const write = (name: string, spec: unknown): vscode.Uri => {
    const file = vscode.Uri.joinPath(root, name);
    fs.writeFileSync(file.fsPath, JSON.stringify(spec, null, 2));
    return file;
  };

  /** Runs the CodeLens whose title starts with `title` on `file`, as a click on it does. */
  async function clickLens(file: vscode.Uri, title: string): Promise<unknown> {
    await vscode.window.showTextDocument(file);
    let lens: vscode.CodeLens | undefined;
    const end = Date.now() + 30_000;
    while (!lens) {
      const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file);
      lens = all?.find((x) => x.command?.title.startsWith(title));
      if (!lens && Date.now() > end) throw new Error(`no CodeLens "${title}" on ${path.basename(file.fsPath)}`);
      if (!lens) await new Promise((r) => setTimeout(r, 100));
    }
    return vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []));
  }

  /** Does `action`, then waits for the Hidden States view to send a trace that `wanted` accepts. */
  async function traceAfter(action: () => Thenable<unknown>, wanted: (t: HiddenTraceMessage) => boolean): Promise<HiddenTraceMessage> {
    const traces: HiddenTraceMessage[] = [];
    const watch = api.observe({
      panelMessage: (e) => {
        if (e.panel === 'hidden' && e.direction === 'sent' && e.message.kind === 'hidden/trace') traces.push(e.message as HiddenTraceMessage);
      },
    });
    try {
      await action();
      return await waitFor('a trace of the Hidden States view', () => traces.find(wanted));
    } finally {
      watch.dispose();
    }
  }

  test('New Experiment… writes a valid starter beside the text, opens it, and refuses to overwrite it', async () => {
    const text = vscode.Uri.joinPath(root, 'corpus.txt');
    const made = await vscode.commands.executeCommand<vscode.Uri>('rnnLab.newExperiment', text);
    assert.ok(made);
    assert.equal(path.basename(made.fsPath), 'corpus.rnnlab.json');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, made.fsPath);
    const source = fs.readFileSync(made.fsPath, 'utf8');
    const spec = parseExperiment(source, { families: ['rnn', 'lstm', 'gru', 'gpt', 'mingru', 'minlstm'] });
    assert.deepEqual(spec.text, ['corpus.txt']);
    assert.deepEqual(spec.grid, [['cell', ['rnn', 'lstm', 'gru']]]);
    assert.equal(spec.matchParams, 100000);
    assert.deepEqual(spec.budget, { minutes: 2 });
    // The schema the extension ships knows the file: VS Code's JSON support finds no problem in it.
    const again = await vscode.commands.executeCommand('rnnLab.newExperiment', text);
    assert.equal(again, undefined);
    assert.match(errors.at(-1)!, /^corpus\.rnnlab\.json already exists beside corpus\.txt: open it, or rename it to start another$/);
    assert.equal(fs.readFileSync(made.fsPath, 'utf8'), source);
  });

  test('a bad experiment file is refused with the JSON path of the bad key, before anything trains', async () => {
    const bad = write('bad.rnnlab.json', { text: 'corpus.txt', budget: { steps: 5 }, grid: { lr: [0.01, -1] } });
    errors.length = 0;
    await clickLens(bad, '▶ Run Experiment');
    assert.match(errors[0] ?? '', /bad\.rnnlab\.json': grid\.lr\[1\]: must be > 0$/);
    assert.equal(fs.existsSync(path.join(root.fsPath, 'bad.runs')), false);

    const missing = write('missing.rnnlab.json', { text: ['corpus.txt', 'gone.txt'], budget: { steps: 5 } });
    errors.length = 0;
    await clickLens(missing, '▶ Run Experiment');
    await waitFor('the refusal', () => errors.length > 0);
    assert.match(errors[0]!, /missing\.rnnlab\.json': text\[1\]: no such file 'gone\.txt' \(paths are relative to the experiment file's folder/);
    assert.equal(api.experiments.get(path.join(root.fsPath, 'missing.runs'))?.state, 'failed');
    assert.equal(fs.existsSync(path.join(root.fsPath, 'missing.runs')), false, 'nothing was written');
  });

  test('more than 100 runs: the editor asks (modal); declining queues nothing', async () => {
    const asked: { message: string; modal: boolean }[] = [];
    window.showWarningMessage = function (message: string, options: vscode.MessageOptions) {
      asked.push({ message, modal: options?.modal === true });
      return Promise.resolve(undefined);
    } as typeof vscode.window.showWarningMessage;
    const many = write('many.rnnlab.json', { text: 'corpus.txt', budget: { steps: 1 }, grid: { lr: Array.from({ length: 51 }, (_, i) => 0.001 * (i + 1)) }, seeds: [1, 2] });
    const out = await clickLens(many, '▶ Run Experiment');
    assert.equal(out, undefined);
    assert.deepEqual(asked, [{ message: 'many.rnnlab.json has 102 runs. Train them all?', modal: true }]);
    assert.equal(api.experiments.get(path.join(root.fsPath, 'many.runs')), undefined);
  });

  test('▶ Run Experiment trains every run into <name>.runs/ in the CLI\'s layout, live in the panel; the CLI resumes it without training again', async () => {
    const file = write('tiny.rnnlab.json', {
      name: 'tiny cells',
      text: 'corpus.txt',
      valFraction: 0.1,
      budget: { steps: 30 },
      valEvery: 10,
      base: { hidden: 8, layers: 1, seq: 16, batch: 4, lr: 0.01 },
      grid: { cell: ['rnn', 'gru', 'lstm'] },
    });
    const out = path.join(root.fsPath, 'tiny.runs');
    const seenStates = new Set<string>();
    const sub = api.experiments.onDidChange((e) => {
      if (e.out === out) seenStates.add(e.state);
    });
    const started = await clickLens(file, '▶ Run Experiment');
    assert.equal(started, out);
    const panel = await waitFor('the experiment panel', () => api.experimentPanels.get(out));
    // While it runs the CodeLens offers Stop.
    let sawStop = false;
    while (api.experiments.get(out)?.state !== 'done' && !sawStop) {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', file);
      sawStop = l?.some((x) => x.command?.title === '$(debug-stop) Stop') ?? false;
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('the experiment to finish', () => api.experiments.get(out)?.state === 'done');
    sub.dispose();
    assert.ok(seenStates.has('running'));

    const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; steps: number; valBpc: number; checkpoint: string; history: string });
    assert.deepEqual(rows.map((r) => r.id).sort(), ['gru-s42', 'lstm-s42', 'rnn-s42']);
    for (const r of rows) {
      assert.equal(r.steps, 30);
      assert.ok(r.valBpc > 0 && r.valBpc < 8);
      assert.ok(fs.statSync(path.join(out, r.checkpoint)).size > 1000);
      assert.equal(parseHistory(fs.readFileSync(path.join(out, r.history), 'utf8')).steps.at(-1)?.step, 30);
    }
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /RNN Lab experiment: tiny cells/);

    // The panel shows what the folder holds: every run with its curve.
    const view = panel.view();
    assert.equal(view.state, 'done');
    assert.deepEqual(view.rows.map((r) => r.id).sort(), ['gru-s42', 'lstm-s42', 'rnn-s42']);
    for (const r of rows) assert.equal(view.curves[r.id]?.at(-1)?.step, 30, `curve of ${r.id}`);

    // Each run is a model of the library, under its experiment.
    const models = api.library.list().filter((m) => m.experiment?.out === out);
    assert.deepEqual(models.map((m) => m.name).sort(), ['gru-s42', 'lstm-s42', 'rnn-s42']);
    assert.ok(models.every((m) => m.hasCheckpoint && m.steps === 30 && m.experiment?.name === 'tiny cells'));

    // The panel's actions on selected runs: their loss charts, one for completions, the table as CSV.
    const [first, second] = [models[0]!, models[1]!];
    await panel.act('loss', [first.name, second.name]);
    assert.ok(api.lossPanels.get(first.id) && api.lossPanels.get(second.id), 'a loss chart per selected run');
    await panel.act('completions', [second.name]);
    assert.equal(api.completions.modelFor(await otherText()), second.id);
    // Hidden states of a run: the view traces the experiment's text (opened) with the run's model;
    // which model completes the text stays as it was.
    const corpusUri = vscode.Uri.file(path.join(root.fsPath, 'corpus.txt'));
    const completerBefore = api.completions.modelFor(await vscode.workspace.openTextDocument(corpusUri));
    assert.equal(completerBefore, second.id, 'the text has no model of its own: the chosen one completes it');
    await traceAfter(() => panel.act('hidden', [first.name]), (t) => t.modelId === first.id && t.source === 'corpus.txt');
    const corpus = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === corpusUri.fsPath);
    assert.ok(corpus, 'the experiment\'s text is open');
    assert.equal(api.completions.modelFor(corpus), completerBefore, 'opening Hidden States changed the model that completes the text');
    assert.deepEqual(api.library.get(first.id)?.sources, [], 'the run was not made a model of the text');
    assert.equal(api.completions.modelFor(await otherText()), second.id, 'the completion model chosen stays');
    // Show Hidden States without a model: the view follows the text's completion model again.
    await traceAfter(() => vscode.commands.executeCommand('rnnLab.showHiddenStates'), (t) => t.modelId === second.id && t.source === 'corpus.txt');
    const csv = vscode.Uri.joinPath(root, 'table.csv');
    const realSave = window.showSaveDialog;
    window.showSaveDialog = (() => Promise.resolve(csv)) as typeof vscode.window.showSaveDialog;
    try {
      await panel.act('csv', [second.name, first.name]);
    } finally {
      window.showSaveDialog = realSave;
    }
    const lines = fs.readFileSync(csv.fsPath, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0]!.split(',').slice(0, 2).join(), 'id,cell');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), [second.name, first.name]);

    // The CLI continues the editor's folder: nothing left to train, the same rows.
    const before = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    const cli = path.join(vscode.extensions.getExtension('rnn-lab.rnn-lab')!.extensionPath, 'dist', 'cli.js');
    const log = execFileSync(process.execPath, [cli, 'experiment', file.fsPath, '--out', out, '--resume', '--json'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    assert.doesNotMatch(log, /"event":"start"/, 'the CLI trained a run again');
    assert.match(log, /"event":"done","runs":3,"interrupted":false/);
    assert.equal(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8'), before);
  });

  test('Stop checkpoints the running run; Run again keeps the finished runs and continues the interrupted one from its checkpoint', async () => {
    const file = write('long.rnnlab.json', {
      text: 'corpus.txt',
      budget: { steps: 100000 },
      base: { hidden: 8, layers: 1, seq: 16, batch: 4 },
      runs: [{ cell: 'rnn' }],
    });
    const out = path.join(root.fsPath, 'long.runs');
    await clickLens(file, '▶ Run Experiment');
    await waitFor('training progress', () => (api.experiments.get(out)?.live?.step ?? 0) > 50);
    await clickLens(file, '$(debug-stop) Stop');
    const exp = api.experiments.get(out)!;
    assert.equal(exp.state, 'stopped');
    const ckpt = path.join(out, 'rnn-s42.safetensors');
    assert.ok(fs.existsSync(ckpt), 'the interrupted run was checkpointed');
    const stoppedAt = parseHistory(fs.readFileSync(path.join(out, 'rnn-s42.history.jsonl'), 'utf8')).steps.at(-1)!.step;
    assert.ok(stoppedAt > 50);

    await clickLens(file, '▶ Run Experiment');
    await waitFor('the resumed run to start', () => api.experiments.get(out)?.state === 'running' && (api.experiments.get(out)?.live?.step ?? 0) > stoppedAt);
    await vscode.commands.executeCommand('rnnLab.stopExperiment', file);
    const h = parseHistory(fs.readFileSync(path.join(out, 'rnn-s42.history.jsonl'), 'utf8'));
    // Two sessions of one run: the second starts exactly where the first stopped.
    assert.equal(h.sessions.length, 2);
    assert.ok(h.sessions[1]!.startStep >= stoppedAt, `resumed at ${h.sessions[1]!.startStep}, stopped at ${stoppedAt}`);
    assert.ok(h.steps.at(-1)!.step > stoppedAt);
  });
});
