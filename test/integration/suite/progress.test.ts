/**
 * The training notification in a real VS Code: its progress ends with the run,
 * not when the user dismisses the message that says how the run ended.
 * Observed through the VS Code API the extension calls: the test wraps
 * `window.withProgress` (to see when the notification's task settles) and
 * `window.showInformationMessage` (a message nobody dismisses).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { ModelEntry } from '../../../src/extension/library';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);

const waitFor = waiter(60_000);

type MutableWindow = { -readonly [K in keyof typeof vscode.window]: (typeof vscode.window)[K] };

suite('the training notification', function () {
  this.timeout(120_000);
  let api: RnnLabApi;
  const window = vscode.window as MutableWindow;
  const realWithProgress = window.withProgress;
  const realShowInformationMessage = window.showInformationMessage;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
  });

  teardown(() => {
    window.withProgress = realWithProgress;
    window.showInformationMessage = realShowInformationMessage;
  });

  test('stops spinning when the run ends, while the "done" message is still open', async () => {
    const tasks: { title: string | undefined; settled: boolean }[] = [];
    window.withProgress = function (options, task) {
      const record = { title: options.title, settled: false };
      tasks.push(record);
      const running = realWithProgress.call(vscode.window, options, task);
      void Promise.resolve(running).finally(() => (record.settled = true));
      return running;
    } as typeof vscode.window.withProgress;
    const shown: string[] = [];
    // The user leaves the message open: it never resolves.
    window.showInformationMessage = function (message: string) {
      shown.push(message);
      return new Promise<undefined>(() => undefined);
    } as typeof vscode.window.showInformationMessage;

    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace is open');
    const uri = vscode.Uri.joinPath(folder.uri, 'progress-corpus.txt');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEXT));
    const started = await vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], { preset: 'tiny', name: 'progress tiny' });
    assert.ok(started, 'a model entry was created');
    const notification = tasks.find((t) => t.title === 'RNN Lab: training progress tiny');
    assert.ok(notification, `a progress notification for the run (titles: ${tasks.map((t) => t.title).join(', ')})`);
    assert.equal(notification.settled, false, 'it shows while the run trains');
    await api.training.whenEnded(started.id);
    assert.equal(api.library.get(started.id)?.state, 'done');
    const message = await waitFor('the message saying the run is done', () => shown.find((m) => m.includes('"progress tiny" done at step 300')), 10_000);
    assert.ok(message);
    await waitFor('the progress notification to end', () => notification.settled, 5_000);
  });
});
