/**
 * The loss panel in a real VS Code: `rnnLab.showLoss` opens a webview tab for
 * a trained model, its page loads (bundle, CSP, vscode-elements, chart.js)
 * and asks for its data, and the host sends the whole history.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { PanelMessageEvent } from '../../../src/extension/observers';
import type { HiddenStatusMessage, HiddenTraceMessage } from '../../../src/shared/hiddenStatesProtocol';
import type { LossDataMessage } from '../../../src/shared/lossProtocol';
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
  /** What the panels sent and accepted, as the API's observer sees it. */
  const events: PanelMessageEvent[] = [];
  const pageReady = (panel: PanelMessageEvent['panel'], modelId: string) =>
    events.some((e) => e.panel === panel && e.modelId === modelId && e.direction === 'received' && e.message.kind === 'panel/ready');
  /** Progress points of `modelId` sent to its loss page: a reset chunk replaces, the others add. */
  const sentPoints = (modelId: string) => {
    let n = 0;
    for (const e of events) {
      if (e.panel !== 'loss' || e.direction !== 'sent' || e.message.kind !== 'loss/data') continue;
      const m = e.message as LossDataMessage;
      if (m.modelId === modelId) n = (m.reset ? 0 : n) + m.progress.step.length;
    }
    return n;
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    api.observe({ panelMessage: (e) => events.push(e) });
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
    await waitFor('the page to load and ask for its data', () => pageReady('loss', model.id));
    const history = api.training.history(model.id);
    assert.ok(history.progress.length > 0, 'the run has a saved history');
    await waitFor('the whole history to be sent', () => sentPoints(model.id) === history.progress.length);
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
    await waitFor('the page to load and ask for its data', () => pageReady('gradflow', model.id));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the Hidden States view traces the selection with the model trained on the file', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'panel-corpus.txt'));
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(1, 10));
    await vscode.commands.executeCommand('rnnLab.hiddenStates.focus');
    // The view may have loaded earlier (it shares the sidebar with the Models view): the trace is what counts.
    const selected = doc.getText(editor.selection);
    const trace = await waitFor('a trace of the selection', () =>
      events
        .filter((e) => e.panel === 'hidden' && e.direction === 'sent' && e.message.kind === 'hidden/trace')
        .map((e) => e.message as HiddenTraceMessage)
        .find((t) => t.source === 'panel-corpus.txt' && t.chars.length === [...selected].length),
    );
    assert.equal(trace.modelId, model.id);
    assert.deepEqual(trace.chars, [...selected]);
  });

  test('the Hidden States view keeps tracing the text editor beside a focused webview panel', async () => {
    const folder = vscode.workspace.workspaceFolders![0]!;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'panel-corpus.txt'));
    const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('rnnLab.hiddenStates.focus');
    // The view has loaded by now (the test above traced with it): what counts is the trace that follows.
    // The loss chart opens beside the text and takes the focus: no text editor is active, the text is still shown.
    await vscode.commands.executeCommand('rnnLab.showLoss', model.id);
    await waitFor('the webview panel to be active', () => vscode.window.activeTextEditor === undefined && api.lossPanels.get(model.id)?.panel.active, 10_000);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === doc), 'the text editor is still visible');
    // A new selection in that editor is traced as if it had the focus.
    editor.selection = new vscode.Selection(new vscode.Position(2, 0), new vscode.Position(2, 12));
    const selected = doc.getText(editor.selection);
    const hiddenSent = (kind: string) => events.filter((e) => e.panel === 'hidden' && e.direction === 'sent' && e.message.kind === kind).map((e) => e.message);
    const lastStatus = () => hiddenSent('hidden/status').pop() as HiddenStatusMessage | undefined;
    const before = hiddenSent('hidden/trace').length;
    await waitFor(`a trace of the ${[...selected].length} selected characters`, () =>
      (hiddenSent('hidden/trace').slice(before) as HiddenTraceMessage[]).find((t) => t.source === 'panel-corpus.txt' && t.chars.length === [...selected].length),
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the view shows "${lastStatus()?.message ?? 'no status'}"`);
    });
    assert.notEqual(lastStatus()?.state, 'noEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
