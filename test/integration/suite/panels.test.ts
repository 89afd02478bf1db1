/**
 * The loss panel in a real VS Code: `rnnLab.showLoss` opens a webview tab for
 * a trained model, its page loads (bundle, CSP, vscode-elements, chart.js)
 * and asks for its data, and the host sends the whole history.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { ModelEntry } from '../../../src/extension/library';
import { LOSS_VIEW_TYPE } from '../../../src/extension/panels/lossPanel';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);

const waitFor = waiter(30_000);

function lossTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(LOSS_VIEW_TYPE));
}

suite('panels: the loss chart in a real VS Code', function () {
  this.timeout(120_000);
  let api: RnnLabApi;
  let model: ModelEntry;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace is open');
    const uri = vscode.Uri.joinPath(folder.uri, 'panel-corpus.txt');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEXT));
    const started = await vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], { preset: 'tiny', name: 'panel tiny' });
    assert.ok(started, 'a model entry was created');
    await api.training.whenEnded(started.id);
    model = api.library.get(started.id)!;
    assert.equal(model.state, 'done', model.reason);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('rnnLab.showLoss opens one visible webview tab whose page loads and receives the whole history', async () => {
    await vscode.commands.executeCommand('rnnLab.showLoss', model.id);
    const panel = api.lossPanels.get(model.id);
    assert.ok(panel, 'a loss panel exists for the model');
    assert.equal(panel.panel.visible, true, 'the panel is visible');
    assert.equal(panel.panel.title, 'Loss: panel tiny');
    // The tab model catches up with the new panel asynchronously.
    await waitFor('the tab to appear', () => lossTabs().length > 0, 5_000).catch(() => undefined);
    const tabs = lossTabs();
    assert.equal(tabs.length, 1, `one loss tab (tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).join(', ')})`);
    assert.equal(tabs[0]!.label, 'Loss: panel tiny');
    // The page ran: its bundle loaded under the CSP and posted panel/ready, which the host accepted.
    await waitFor('the page to load and ask for its data', () => panel.pageReady);
    const history = api.training.history(model.id);
    assert.ok(history.progress.length > 0, 'the run has a saved history');
    await waitFor('the whole history to be sent', () => panel.sentPoints(model.id) === history.progress.length);
  });

  test('showing it again reveals the same panel; closing the tab disposes it', async () => {
    const first = api.lossPanels.get(model.id);
    await vscode.commands.executeCommand('rnnLab.showLoss', model.id);
    assert.equal(api.lossPanels.get(model.id), first, 'the same panel');
    assert.equal(lossTabs().length, 1);
    await vscode.window.tabGroups.close(lossTabs());
    await waitFor('the panel to be disposed', () => api.lossPanels.get(model.id) === undefined, 10_000);
    assert.ok(first?.isDisposed);
  });

  test('rnnLab.showGradientFlow opens the gradient-flow panel with the snapshots taken while training', async () => {
    const history = api.training.history(model.id);
    assert.ok(history.gradflow.length > 0, 'the run recorded gradient-flow snapshots');
    await vscode.commands.executeCommand('rnnLab.showGradientFlow', model.id);
    const panel = api.gradFlowPanels.get(model.id);
    assert.ok(panel, 'a gradient-flow panel exists for the model');
    assert.equal(panel.panel.visible, true);
    await waitFor('the page to load and ask for its data', () => panel.pageReady);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the Hidden States view traces the selection with the model trained on the file', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'panel-corpus.txt'));
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(1, 10));
    await vscode.commands.executeCommand('rnnLab.hiddenStates.focus');
    await waitFor('the view to load', () => api.hiddenStates.pageReady);
    const selected = doc.getText(editor.selection);
    const trace = await waitFor(
      'a trace of the selection',
      () => {
        const t = api.hiddenStates.currentTrace;
        return t && t.documentUri === doc.uri.toString() && t.chars === [...selected].length ? t : undefined;
      },
    );
    assert.equal(trace.modelId, model.id);
  });

  test('the Hidden States view keeps tracing the text editor beside a focused webview panel', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'panel-corpus.txt'));
    const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('rnnLab.hiddenStates.focus');
    await waitFor('the view to load', () => api.hiddenStates.pageReady);
    // The loss chart opens beside the text and takes the focus: no text editor is active, the text is still shown.
    await vscode.commands.executeCommand('rnnLab.showLoss', model.id);
    await waitFor('the webview panel to be active', () => vscode.window.activeTextEditor === undefined && api.lossPanels.get(model.id)?.panel.active, 10_000);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === doc), 'the text editor is still visible');
    // A new selection in that editor is traced as if it had the focus.
    editor.selection = new vscode.Selection(new vscode.Position(2, 0), new vscode.Position(2, 12));
    const selected = doc.getText(editor.selection);
    await waitFor(`a trace of the ${[...selected].length} selected characters`, () => {
      const t = api.hiddenStates.currentTrace;
      return t && t.documentUri === doc.uri.toString() && t.chars === [...selected].length;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the view shows "${api.hiddenStates.shownStatus?.message ?? 'no status'}"`);
    });
    assert.notEqual(api.hiddenStates.shownStatus?.state, 'noEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
