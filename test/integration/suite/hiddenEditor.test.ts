/**
 * Hidden States in an editor column, in a real VS Code: "Open Hidden States
 * in Editor" opens one webview panel beside the text, its page loads and asks
 * for a trace, and the host sends it the states of the model trained on the
 * file for the selected text (checked against the engine on the saved
 * checkpoint); the command again reveals the same panel; the side bar's view
 * offers the command in its title bar; closing the tab disposes the panel.
 *
 * Run alone: RNN_LAB_TEST_GREP="Hidden States in an editor" RNN_LAB_TEST_TRUSTED_ONLY=1 npm run test:integration
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { decodeCheckpoint, traceHiddenStates, tsKernels } from '../../../src/engine';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { ModelEntry } from '../../../src/extension/library';
import type { PanelMessageEvent } from '../../../src/extension/observers';
import { OPEN_HIDDEN_IN_EDITOR } from '../../../src/extension/panels/hiddenStates';
import { HIDDEN_PANEL_VIEW_TYPE } from '../../../src/extension/panels/hiddenStatesPanel';
import type { HiddenMatrixMessage, HiddenTraceMessage } from '../../../src/shared/hiddenStatesProtocol';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);
const waitFor = waiter(30_000);

function panelTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(HIDDEN_PANEL_VIEW_TYPE));
}

suite('Hidden States in an editor: Open in Editor in a real VS Code', function () {
  this.timeout(120_000);
  let api: RnnLabApi;
  let model: ModelEntry;
  let uri: vscode.Uri;
  const events: PanelMessageEvent[] = [];
  const toPanel = <T>(kind: string): T[] =>
    events.filter((e) => e.panel === 'hidden' && e.host === 'panel' && e.direction === 'sent' && e.message.kind === kind).map((e) => e.message as T);
  const fromPanel = (kind: string) => events.filter((e) => e.panel === 'hidden' && e.host === 'panel' && e.direction === 'received' && e.message.kind === kind);

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    api.observe({ panelMessage: (e) => events.push(e) });
    const folder = vscode.workspace.workspaceFolders![0]!;
    uri = vscode.Uri.joinPath(folder.uri, 'hidden-editor-corpus.txt');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEXT));
    const started = await vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], { preset: 'tiny', name: 'hidden editor tiny' });
    assert.ok(started, 'a model entry was created');
    await api.training.whenEnded(started.id);
    model = api.library.get(started.id)!;
    assert.equal(model.state, 'done', model.reason);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the side bar view offers Open in Editor in its title bar, and the command is registered', async () => {
    const manifest = vscode.extensions.getExtension('rnn-lab.rnn-lab')!.packageJSON as { contributes: { menus: Record<string, { command: string; when: string }[]> } };
    const menus = manifest.contributes.menus['view/title']!;
    assert.ok(menus.some((m) => m.command === OPEN_HIDDEN_IN_EDITOR && m.when === 'view == rnnLab.hiddenStates'), 'a view/title action of the Hidden States view');
    assert.ok((await vscode.commands.getCommands(true)).includes(OPEN_HIDDEN_IN_EDITOR));
  });

  test('Open in Editor opens one panel beside the text whose page shows the states of the file\'s model for the selection', async () => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    editor.selection = new vscode.Selection(new vscode.Position(1, 0), new vscode.Position(2, 8));
    const selected = doc.getText(editor.selection);
    await vscode.commands.executeCommand(OPEN_HIDDEN_IN_EDITOR);
    const panel = api.hiddenStates.panel.webviewPanel;
    assert.ok(panel, 'a Hidden States panel exists');
    assert.equal(panel.title, 'Hidden States');
    assert.equal(panel.visible, true);
    assert.notEqual(panel.viewColumn, editor.viewColumn, 'beside the text, not over it');
    await waitFor('the tab to appear', () => panelTabs().length > 0, 5_000).catch(() => undefined);
    assert.equal(panelTabs().length, 1, `one panel tab (tabs: ${vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).join(', ')})`);
    // The page ran in the panel: it said ready, and the text beside it (no longer the active editor) was traced for it.
    await waitFor('the panel\'s page to load', () => fromPanel('panel/ready').length > 0);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document === doc), 'the text is still shown');
    const trace = await waitFor('a trace of the selection sent to the panel', () =>
      toPanel<HiddenTraceMessage>('hidden/trace').find((t) => t.modelId === model.id && t.chars.join('') === selected),
    );
    assert.equal(trace.source, 'hidden-editor-corpus.txt');
    assert.equal(trace.firstLine, 2);
    // The page asked for the matrix it shows; the host answered with the engine's values.
    const matrix = await waitFor('the first matrix', () => toPanel<HiddenMatrixMessage>('hidden/matrix').find((m) => m.seq === trace.seq));
    assert.ok(fromPanel('hidden/select').length > 0, 'the panel\'s page asked for it');
    const engine = traceHiddenStates(decodeCheckpoint(api.library.readCheckpoint(model.id)).model, selected, tsKernels);
    const layer = engine.layers[matrix.layer]!;
    const want = matrix.quantity === 'h' ? layer.h : matrix.quantity === 'c' ? layer.c! : layer.gates[matrix.quantity]!;
    assert.equal(matrix.values.length, [...selected].length * engine.hidden);
    matrix.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-3, `${matrix.quantity}[${i}] = ${v}, the engine's ${want[i]}`));
  });

  test('a new selection is traced for the open panel too', async () => {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())!;
    assert.ok(editor);
    editor.selection = new vscode.Selection(new vscode.Position(0, 4), new vscode.Position(0, 15));
    const selected = editor.document.getText(editor.selection);
    await waitFor('a trace of the new selection sent to the panel', () => toPanel<HiddenTraceMessage>('hidden/trace').find((t) => t.chars.join('') === selected));
  });

  test('the command again reveals the same panel; closing its tab disposes it', async () => {
    const first = api.hiddenStates.panel.webviewPanel;
    await vscode.commands.executeCommand(OPEN_HIDDEN_IN_EDITOR);
    assert.equal(api.hiddenStates.panel.webviewPanel, first, 'the same panel');
    assert.equal(panelTabs().length, 1);
    await vscode.window.tabGroups.close(panelTabs());
    await waitFor('the panel to be disposed', () => api.hiddenStates.panel.webviewPanel === undefined, 10_000);
  });
});
