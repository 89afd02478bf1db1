/**
 * The gradient-flow panel's step-through in a real VS Code: the real webview
 * asks for the shown snapshot's step-through by itself, the host has the
 * inference worker trace it with the model's saved weights, and what the
 * page is sent is what the engine computes from that checkpoint (whose terms
 * test/unit/bptt.test.ts checks against finite differences); clicking
 * nothing, the chain is of the window's last error.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { decodeCheckpoint } from '../../../src/engine';
import { stepThroughView } from '../../../src/engine/bpttView';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { PanelMessageEvent } from '../../../src/extension/observers';
import type { GradFlowStepThroughResultMessage } from '../../../src/shared/gradFlowProtocol';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);
const waitFor = waiter(60_000);

suite('step-through in the gradient-flow panel', function () {
  this.timeout(120_000);
  let api: RnnLabApi;
  const events: PanelMessageEvent[] = [];

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext);
    api = await ext.activate();
    api.observe({ panelMessage: (e) => events.push(e) });
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  let entry: { id: string } | undefined;

  test('the page asks for the shown snapshot; the host answers with the engine\'s terms of the saved weights', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const uri = vscode.Uri.joinPath(folder.uri, 'step-through.txt');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEXT));
    const trained = await vscode.commands.executeCommand<{ id: string } | undefined>('rnnLab.train', uri, [uri], { preset: 'tiny', name: 'step-through tiny' });
    assert.ok(trained);
    entry = trained;
    await api.training.whenEnded(trained.id);
    const snapshots = api.training.history(trained.id).gradflow;
    assert.ok(snapshots.length > 0);
    await vscode.commands.executeCommand('rnnLab.showGradientFlow', trained.id);
    const asked = await waitFor('the page to ask for a step-through', () =>
      events.find((e) => e.panel === 'gradflow' && e.modelId === trained.id && e.direction === 'received' && e.message.kind === 'gradflow/stepThrough'));
    const last = snapshots[snapshots.length - 1]!;
    assert.deepEqual(asked.message, { kind: 'gradflow/stepThrough', step: last.step, errorAt: last.T - 1 }, 'the newest snapshot, its last error');
    const answer = await waitFor('the host to answer', () =>
      events.find((e) => e.panel === 'gradflow' && e.direction === 'sent' && e.message.kind === 'gradflow/stepThroughResult'));
    const m = answer.message as unknown as GradFlowStepThroughResultMessage;
    assert.equal(m.error, null);
    assert.ok(m.view);
    const model = decodeCheckpoint(api.library.readCheckpoint(trained.id)).model;
    assert.deepEqual(m.view, stepThroughView(model, last.text, last.T - 1));
    assert.equal(m.view.chain?.errorAt, last.T - 1);
    assert.equal(m.view.model, 'LSTM');
    // No panel/error: the page drew it (KaTeX included) without complaint.
    assert.equal(events.some((e) => e.panel === 'gradflow' && e.message.kind === 'panel/error'), false);
  });

  test('closing the panel cancels the step-through it is waiting for (the worker stops between slices)', async () => {
    assert.ok(entry, 'the first test trained the model');
    const modelId = entry.id;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const original = api.inference.stepThrough;
    const tokens: vscode.CancellationToken[] = [];
    // Held until cancelled, as a long step-through on a large model would be.
    api.inference.stepThrough = (_model, _text, _errorAt, token) => {
      assert.ok(token, 'the panel passes a cancellation token');
      tokens.push(token);
      return new Promise((_, reject) => token.onCancellationRequested(() => reject(new Error('cancelled'))));
    };
    try {
      await vscode.commands.executeCommand('rnnLab.showGradientFlow', modelId);
      await waitFor('the panel to ask for a step-through', () => tokens.length > 0);
      assert.equal(tokens[0]!.isCancellationRequested, false, 'not cancelled while the panel is open');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await waitFor('the step-through to be cancelled', () => tokens[0]!.isCancellationRequested);
    } finally {
      api.inference.stepThrough = original;
    }
  });
});
