/**
 * RNN Lab inside a real VS Code: commands run as the menus run them, training
 * happens in the real worker threads, and results are checked against the
 * engine itself.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { decodeCheckpoint, Rng, Stepper, tsKernels } from '../../../src/engine';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { ModelEntry } from '../../../src/extension/library';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);

let api: RnnLabApi;
/** Every error message the extension showed, newest last (seen through the API's observer). */
const shownErrors: string[] = [];

function workspaceUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function writeFile(name: string, content: string | Uint8Array): Promise<vscode.Uri> {
  const uri = workspaceUri(name);
  await vscode.workspace.fs.writeFile(uri, typeof content === 'string' ? new TextEncoder().encode(content) : content);
  return uri;
}

const waitFor = waiter(60_000);

async function setConfig(section: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('rnnLab').update(section, value, vscode.ConfigurationTarget.Global);
}

function entry(id: string): ModelEntry {
  const e = api.library.get(id);
  assert.ok(e, `model ${id} exists`);
  return e;
}

/** Starts a run the way the explorer's context menu does: (clicked file, selected files). */
async function train(uri: vscode.Uri, options: { preset: 'tiny' | 'small' | 'medium' | 'settings'; name: string }): Promise<ModelEntry | undefined> {
  return vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], options);
}

function lastError(): string {
  return shownErrors[shownErrors.length - 1] ?? '';
}

/** Runs a command that must fail, and waits for the message the user sees. */
async function expectError(pattern: RegExp, action: () => Thenable<unknown>): Promise<void> {
  console.log(`      expecting ${pattern}`);
  const before = shownErrors.length;
  const result = await action();
  assert.equal(result, undefined);
  await waitFor(`an error message matching ${pattern}`, () => shownErrors.length > before, 10_000);
  assert.match(lastError(), pattern);
}

suite('RNN Lab in a real VS Code', function () {
  this.timeout(120_000);
  let tinyModel: ModelEntry;
  let corpus: vscode.Uri;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    api.observe({ errorShown: (message) => shownErrors.push(message) });
    await setConfig('training.checkpointSeconds', 5);
    await setConfig('completions.temperature', 0);
    await setConfig('completions.debounceMs', 0);
    corpus = await writeFile('corpus.txt', TEXT);
  });

  // A failed test must not leave a run that holds the training slot for the next ones.
  teardown(async () => {
    for (const r of api.training.activeRuns()) await api.training.stop(r.modelId);
  });

  test('the commands, the Models view and settings are contributed', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['rnnLab.train', 'rnnLab.pause', 'rnnLab.resume', 'rnnLab.stop', 'rnnLab.generate', 'rnnLab.exportModel', 'rnnLab.importModel', 'rnnLab.deleteModel', 'rnnLab.setCompletionModel']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
    const c = vscode.workspace.getConfiguration('rnnLab');
    assert.equal(c.inspect('model.hidden')?.defaultValue, 128);
    assert.equal(c.inspect('completions.maxLength')?.defaultValue, 40);
    await vscode.commands.executeCommand('rnnLab.models.focus');
  });

  test('trains a tiny model from the context-menu command, with progress and a saved checkpoint', async () => {
    const started = await train(corpus, { preset: 'tiny', name: 'it tiny' });
    assert.ok(started, 'a model entry was created');
    const id = started.id;
    await waitFor('progress', () => (api.training.live(id)?.progress?.step ?? 0) >= 2);
    await api.training.whenEnded(id);
    tinyModel = entry(id);
    assert.equal(tinyModel.state, 'done', tinyModel.reason);
    assert.equal(tinyModel.steps, 300);
    assert.ok(tinyModel.hasCheckpoint);
    assert.ok(tinyModel.bestValBpc !== null && tinyModel.bestValBpc < 3, `validation ${tinyModel.bestValBpc} bits/char`);
    const checkpoint = decodeCheckpoint(api.library.readCheckpoint(id));
    assert.equal(checkpoint.trainState?.step, 300);
    assert.equal(checkpoint.model.config.hidden, 64);
    assert.deepEqual(JSON.parse(checkpoint.extra.sources!), [corpus.toString()]);
    // The extension host's worker loads the native kernels its build ships (or says it runs wasm).
    const shipped = fs.existsSync(path.join(vscode.extensions.getExtension('rnn-lab.rnn-lab')!.extensionPath, 'dist', 'native', 'products.node'));
    assert.match(tinyModel.kernels ?? '', shipped ? /^native \((avx512|avx2|c)\), [12] threads?$/ : /^wasm-/, 'the kernels it trained on');
  });

  test('pauses, resumes and stops a run; each keeps a checkpoint', async () => {
    await setConfig('model.hidden', 32);
    await setConfig('model.layers', 1);
    await setConfig('training.batch', 4);
    await setConfig('training.seq', 16);
    await setConfig('training.maxSteps', 0);
    const started = await train(corpus, { preset: 'settings', name: 'it long' });
    assert.ok(started);
    const id = started.id;
    await waitFor('training', () => (api.training.live(id)?.progress?.step ?? 0) >= 5);
    await vscode.commands.executeCommand('rnnLab.pause', id);
    await waitFor('paused', () => entry(id).state === 'paused' && entry(id).hasCheckpoint);
    const pausedAt = decodeCheckpoint(api.library.readCheckpoint(id)).trainState!.step;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(api.training.live(id)?.progress?.step, pausedAt, 'nothing trains while paused');
    await vscode.commands.executeCommand('rnnLab.resume', id);
    await waitFor('resumed', () => (api.training.live(id)?.progress?.step ?? 0) > pausedAt + 3);
    await vscode.commands.executeCommand('rnnLab.stop', id);
    await api.training.whenEnded(id);
    const stopped = entry(id);
    assert.equal(stopped.state, 'stopped');
    assert.ok(decodeCheckpoint(api.library.readCheckpoint(id)).trainState!.step > pausedAt + 3);
    // Resuming a stopped model continues from its checkpoint.
    await vscode.commands.executeCommand('rnnLab.resume', id);
    await waitFor('training again', () => (api.training.live(id)?.progress?.step ?? 0) > stopped.steps);
    await vscode.commands.executeCommand('rnnLab.stop', id);
    await api.training.whenEnded(id);
  });

  test('queues a second run while one trains, and starts it when the first ends', async () => {
    const first = await train(corpus, { preset: 'settings', name: 'it first' });
    const second = await train(corpus, { preset: 'settings', name: 'it second' });
    assert.ok(first && second);
    await waitFor('first trains', () => (api.training.live(first.id)?.progress?.step ?? 0) >= 2);
    assert.equal(api.training.live(second.id)?.state, 'queued');
    assert.match(entry(second.id).reason ?? '', /queued: 1 run already training/);
    await vscode.commands.executeCommand('rnnLab.stop', first.id);
    await waitFor('second trains', () => (api.training.live(second.id)?.progress?.step ?? 0) >= 2);
    await vscode.commands.executeCommand('rnnLab.stop', second.id);
    await api.training.whenEnded(second.id);
    assert.equal(entry(second.id).state, 'stopped');
  });

  test('completes text inline with the model trained on the file', async () => {
    const doc = await vscode.workspace.openTextDocument(corpus);
    const editor = await vscode.window.showTextDocument(doc);
    const position = new vscode.Position(3, 8); // after "the cat "
    editor.selection = new vscode.Selection(position, position);
    const token = new vscode.CancellationTokenSource().token;
    const items = await api.completions.provideInlineCompletionItems(
      doc, position, { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined }, token,
    );
    assert.ok(items && items.length === 1, 'one completion');
    // The same model, run by the engine directly, continues the same prefix identically (greedy).
    const model = decodeCheckpoint(api.library.readCheckpoint(api.completions.modelFor(doc)!)).model;
    const stepper = new Stepper(model, tsKernels);
    stepper.prime(doc.getText(new vscode.Range(new vscode.Position(0, 0), position)));
    let expected = '';
    const rng = new Rng(1);
    for (let i = 0; i < 40; i++) {
      const t = stepper.choose(rng, { temperature: 0, topK: 0, topP: 1 });
      const ch = model.vocab.chars[t]!;
      if (ch === '\n') break;
      expected += ch;
      stepper.feed(t);
    }
    assert.equal(items[0]!.insertText, expected);
    assert.ok(expected.length > 0);

    // Through the editor itself: trigger the inline suggestion and accept it.
    const line = doc.lineAt(3).text;
    let accepted = false;
    // A trigger restarts a request still running, so on a busy machine each one gets a few seconds to show.
    for (let i = 0; i < 60 && !accepted; i++) {
      if (i % 10 === 0) await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await new Promise((r) => setTimeout(r, 300));
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      accepted = doc.lineAt(3).text !== line;
    }
    assert.ok(accepted, 'the editor showed and accepted the inline completion');
    assert.equal(doc.lineAt(3).text, line.slice(0, 8) + expected + line.slice(8));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('generates text into a new editor', async () => {
    await setConfig('generate.length', 120);
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('rnnLab.generate', tinyModel.id);
    assert.ok(doc, 'a document was opened');
    assert.equal(doc.isUntitled, true);
    const text = await waitFor('generated text', () => ([...doc.getText()].length >= 120 ? doc.getText() : undefined));
    const vocab = decodeCheckpoint(api.library.readCheckpoint(tinyModel.id)).model.vocab;
    for (const ch of text) assert.ok(vocab.has(ch), `${JSON.stringify(ch)} comes from the model's vocabulary`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('exports a model and imports it back', async () => {
    const target = workspaceUri('exported.safetensors');
    await vscode.commands.executeCommand('rnnLab.exportModel', tinyModel.id, target);
    const bytes = fs.readFileSync(target.fsPath);
    assert.deepEqual(new Uint8Array(bytes), new Uint8Array(api.library.readCheckpoint(tinyModel.id)));
    const imported = await vscode.commands.executeCommand<ModelEntry>('rnnLab.importModel', target);
    assert.ok(imported && imported.id !== tinyModel.id);
    assert.equal(imported.cell, 'lstm');
    assert.equal(imported.hidden, 64);
    const a = decodeCheckpoint(api.library.readCheckpoint(imported.id)).model.params.data;
    const b = decodeCheckpoint(api.library.readCheckpoint(tinyModel.id)).model.params.data;
    assert.deepEqual(a, b);
    // The imported model can generate, and can be deleted.
    await vscode.commands.executeCommand('rnnLab.deleteModel', imported.id, true);
    assert.equal(api.library.get(imported.id), undefined);
  });

  test('exports a model as a PyTorch project, and refuses a folder that is not empty', async () => {
    const folder = workspaceUri('tiny-pytorch');
    const written = await vscode.commands.executeCommand<vscode.Uri>('rnnLab.exportPytorchProject', tinyModel.id, folder);
    assert.equal(written?.fsPath, folder.fsPath);
    for (const f of ['model.py', 'data.py', 'train.py', 'evaluate.py', 'checkpoint_io.py', 'requirements.txt', 'README.md']) {
      assert.ok(fs.statSync(path.join(folder.fsPath, f)).size > 0, `${f} was written`);
    }
    const copied = fs.readFileSync(path.join(folder.fsPath, 'model.safetensors'));
    assert.deepEqual(new Uint8Array(copied), new Uint8Array(api.library.readCheckpoint(tinyModel.id)));
    assert.match(fs.readFileSync(path.join(folder.fsPath, 'README.md'), 'utf8'), /lstm · width 64 · 1 layer /);
    await expectError(/not empty/, () => vscode.commands.executeCommand('rnnLab.exportPytorchProject', tinyModel.id, folder));
  });

  test('a FIFO is neither read as training text nor replaced by an export', async () => {
    const fifo = workspaceUri('pipe.txt');
    const made = spawnSync('mkfifo', [fifo.fsPath]);
    assert.equal(made.status, 0, String(made.stderr));
    await expectError(/is not a regular file/, async () => train(fifo, { preset: 'tiny', name: 'fifo' }));
    await expectError(/it exists and is not a regular file/, async () => vscode.commands.executeCommand('rnnLab.exportModel', tinyModel.id, fifo));
    assert.ok(fs.lstatSync(fifo.fsPath).isFIFO());
    fs.unlinkSync(fifo.fsPath);
  });

  test('bad files, settings and checkpoints give clear messages', async () => {
    await expectError(/is empty/, async () => train(await writeFile('empty.txt', ''), { preset: 'tiny', name: 'x' }));
    await expectError(/looks binary/, async () => train(await writeFile('blob.bin', new Uint8Array([0x89, 0x50, 0, 1, 2, 3])), { preset: 'tiny', name: 'x' }));
    await expectError(/not valid UTF-8/, async () => train(await writeFile('latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a])), { preset: 'tiny', name: 'x' }));
    await expectError(/characters but one batch needs at least/, async () => {
      const e = await train(await writeFile('short.txt', 'hi there'), { preset: 'tiny', name: 'short' });
      if (!e) return e;
      await api.training.whenEnded(e.id);
      // The failure is reported when the worker refuses the run.
      return undefined;
    });
    await expectError(/is 65 MiB, more than the 64 MiB/, async () => train(await writeFile('huge.txt', new Uint8Array(65 * 1024 * 1024).fill(0x61)), { preset: 'tiny', name: 'x' }));
    await setConfig('model.hidden', 100000);
    await expectError(/rnnLab\.model\.hidden must be/, () => train(corpus, { preset: 'settings', name: 'x' }));
    await setConfig('model.hidden', 32);
    await expectError(/cannot import .*(safetensors|header)/, async () =>
      vscode.commands.executeCommand('rnnLab.importModel', await writeFile('corrupt.safetensors', new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 123, 125]))),
    );
    await expectError(/cannot import .*not an RNN Lab checkpoint/, async () => {
      const header = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
      const file = new Uint8Array(8 + header.length + 4);
      new DataView(file.buffer).setUint32(0, header.length, true);
      file.set(header, 8);
      return vscode.commands.executeCommand('rnnLab.importModel', await writeFile('foreign.safetensors', file));
    });
    // Thousands of distinct characters and a memory limit: refused before anything is allocated.
    await setConfig('training.maxMemoryMB', 64);
    const cjk = Array.from({ length: 6000 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
    await expectError(/needs about .* more than the limit/, async () => {
      const e = await train(await writeFile('cjk.txt', cjk.repeat(2)), { preset: 'medium', name: 'cjk' });
      if (e) await api.training.whenEnded(e.id);
      return undefined;
    });
    await setConfig('training.maxMemoryMB', undefined);
  });

  test('a diverging run fails with the reason and no checkpoint of the diverged state', async () => {
    await setConfig('model.cell', 'rnn');
    await setConfig('model.activation', 'relu');
    await setConfig('model.hidden', 64);
    await setConfig('training.optimizer', 'sgd');
    await setConfig('training.lr', 10);
    await setConfig('training.momentum', 0.9);
    await setConfig('training.clip', 0);
    await setConfig('training.maxSteps', 2000);
    try {
      const e = await train(corpus, { preset: 'settings', name: 'diverge' });
      assert.ok(e);
      await api.training.whenEnded(e.id);
      const failed = entry(e.id);
      assert.equal(failed.state, 'failed');
      assert.match(failed.reason ?? '', /diverged at step \d+/);
      await waitFor('the failure is shown', () => /failed: training diverged/.test(lastError()), 10_000);
    } finally {
      for (const k of ['model.cell', 'model.activation', 'training.optimizer', 'training.lr', 'training.momentum', 'training.clip']) await setConfig(k, undefined);
    }
  });

  test('a crashed training worker marks the run failed and keeps the last checkpoint', async () => {
    const started = await train(corpus, { preset: 'settings', name: 'crash' });
    assert.ok(started);
    const id = started.id;
    await waitFor('progress', () => (api.training.live(id)?.progress?.step ?? 0) >= 3);
    await vscode.commands.executeCommand('rnnLab.pause', id);
    await waitFor('checkpoint', () => entry(id).hasCheckpoint && entry(id).state === 'paused');
    const saved = api.library.readCheckpoint(id);
    await vscode.commands.executeCommand('rnnLab.resume', id);
    await waitFor('training', () => entry(id).state === 'training');
    // Kill the thread from outside, as an out-of-memory crash would.
    const live = api.training.live(id) as unknown as { client: { worker: { terminate(): Promise<number> } } };
    await live.client.worker.terminate();
    await api.training.whenEnded(id);
    const failed = entry(id);
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason ?? '', /worker exited .*last checkpoint \(step \d+\) is kept/);
    const after = api.library.readCheckpoint(id);
    assert.ok(after.length > 0);
    assert.equal(decodeCheckpoint(after).model.config.hidden, decodeCheckpoint(saved).model.config.hidden);
  });
});
