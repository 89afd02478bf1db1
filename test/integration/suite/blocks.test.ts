/**
 * The block models in a real VS Code: a tiny gpt and a tiny minGRU trained
 * from the settings (in the real trainer worker), completing text inline in
 * the editor (the same greedy continuation as the engine's own), and
 * inspected: the Hidden States view (the residual stream, the mixer's state
 * and gates, a gpt's attention asked for by the page and answered by the host
 * with the engine's weights) and the Gradient Flow panel (snapshots of the
 * residual stream taken while training).
 *
 * Kept small for a 2-core machine: width 32, 2 blocks, 150 steps.
 * Run alone: RNN_LAB_TEST_GREP="block models" RNN_LAB_TEST_TRUSTED_ONLY=1 npm run test:integration
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { decodeCheckpoint, Rng, Stepper, traceHiddenStates, tsKernels } from '../../../src/engine';
import type { RnnLabApi } from '../../../src/extension/extension';
import type { ModelEntry } from '../../../src/extension/library';
import type { PanelMessageEvent } from '../../../src/extension/observers';
import type { GradFlowDataMessage, GradFlowInitMessage } from '../../../src/shared/gradFlowProtocol';
import type { HiddenAttentionMessage, HiddenMatrixMessage, HiddenTraceMessage } from '../../../src/shared/hiddenStatesProtocol';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\nthe cat saw the dog.\n'.repeat(30);
const waitFor = waiter(60_000);

/** The settings a block run reads (preset "settings"); reset afterwards for the other suites. */
const SETTINGS: Record<string, unknown> = {
  'model.hidden': 32,
  'model.layers': 2,
  'training.seq': 32,
  'training.batch': 8,
  'training.maxSteps': 150,
  'training.lr': 0.01,
  'training.warmupSteps': 0,
  'training.validateEvery': 50,
  'completions.temperature': 0,
  'completions.debounceMs': 0,
};

async function setConfig(section: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('rnnLab').update(section, value, vscode.ConfigurationTarget.Global);
}

suite('block models (gpt, minGRU) in a real VS Code: train, complete, inspect', function () {
  this.timeout(180_000);
  let api: RnnLabApi;
  const events: PanelMessageEvent[] = [];
  const sent = <T>(panel: PanelMessageEvent['panel'], kind: string): T[] =>
    events.filter((e) => e.panel === panel && e.direction === 'sent' && e.message.kind === kind).map((e) => e.message as T);
  const received = (panel: PanelMessageEvent['panel'], kind: string) => events.filter((e) => e.panel === panel && e.direction === 'received' && e.message.kind === kind).map((e) => e.message);
  const trained: Record<string, { entry: ModelEntry; uri: vscode.Uri }> = {};
  const errors: string[] = [];

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    api.observe({ panelMessage: (e) => events.push(e), errorShown: (m) => errors.push(m) });
    for (const [k, v] of Object.entries(SETTINGS)) await setConfig(k, v);
  });

  suiteTeardown(async () => {
    for (const k of [...Object.keys(SETTINGS), 'model.cell', 'model.heads']) await setConfig(k, undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  for (const cell of ['gpt', 'mingru'] as const) {
    test(`${cell}: trains from the settings in the trainer worker, with gradient-flow snapshots of each block's residual stream`, async () => {
      await setConfig('model.cell', cell);
      // Heads are a gpt's setting: another family refuses it.
      await setConfig('model.heads', cell === 'gpt' ? 2 : undefined);
      const folder = vscode.workspace.workspaceFolders![0]!;
      const uri = vscode.Uri.joinPath(folder.uri, `${cell}-corpus.txt`);
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(TEXT));
      const started = await vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], { preset: 'settings', name: `it ${cell}` });
      assert.ok(started, `a model entry was created (${errors.at(-1) ?? 'no error shown'})`);
      await api.training.whenEnded(started.id);
      const entry = api.library.get(started.id)!;
      assert.equal(entry.state, 'done', entry.reason);
      assert.equal(entry.cell, cell);
      assert.equal(entry.steps, 150);
      const { model } = decodeCheckpoint(api.library.readCheckpoint(entry.id));
      assert.equal(model.config.cell, cell);
      assert.equal(model.config.hidden, 32);
      if (cell === 'gpt') assert.deepEqual([model.config.heads, model.config.context], [2, 32]);
      assert.ok(entry.bestValBpc !== null && entry.bestValBpc < 3.5, `validation ${entry.bestValBpc} bits/char`);
      const snaps = api.training.history(entry.id).gradflow;
      assert.ok(snaps.length > 0, 'snapshots were taken while training');
      const last = snaps.at(-1)!;
      assert.equal(last.network, 'blocks');
      assert.deepEqual(last.taps, ['block 1: residual stream x', 'block 2: residual stream x']);
      assert.equal(last.hGradNorm.length, 2);
      assert.ok(last.hGradNorm[1]!.some((v) => v > 0), 'the gradient reaches the residual stream');
      trained[cell] = { entry, uri };
    });

    test(`${cell}: completes text inline in the editor, as the engine continues the same prefix`, async () => {
      const { uri } = trained[cell]!;
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      const position = new vscode.Position(3, 8);
      editor.selection = new vscode.Selection(position, position);
      const items = await api.completions.provideInlineCompletionItems(
        doc, position, { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined }, new vscode.CancellationTokenSource().token,
      );
      assert.ok(items && items.length === 1, 'one completion');
      const model = decodeCheckpoint(api.library.readCheckpoint(api.completions.modelFor(doc)!)).model;
      assert.equal(model.config.cell, cell, 'the model trained on the file completes it');
      const stepper = new Stepper(model, tsKernels);
      stepper.prime(doc.getText(new vscode.Range(new vscode.Position(0, 0), position)));
      let expected = '';
      for (let i = 0; i < 40; i++) {
        const t = stepper.choose(new Rng(1), { temperature: 0, topK: 0, topP: 1 });
        const ch = model.vocab.chars[t]!;
        if (ch === '\n') break;
        expected += ch;
        stepper.feed(t);
      }
      assert.ok(expected.length > 0, 'the engine continues the line');
      assert.equal(items[0]!.insertText, expected);
      const line = doc.lineAt(3).text;
      let accepted = false;
      for (let i = 0; i < 20 && !accepted; i++) {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await new Promise((r) => setTimeout(r, 300));
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        accepted = doc.lineAt(3).text !== line;
      }
      assert.ok(accepted, 'the editor showed and accepted the inline completion');
      assert.equal(doc.lineAt(3).text, line.slice(0, 8) + expected + line.slice(8));
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });

    test(`${cell}: the Hidden States view shows its quantities${cell === 'gpt' ? ' and the attention the page asks for' : ''}`, async () => {
      const { uri, entry } = trained[cell]!;
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(new vscode.Position(1, 0), new vscode.Position(1, 23));
      const selected = doc.getText(editor.selection);
      const before = sent<HiddenTraceMessage>('hidden', 'hidden/trace').length;
      await vscode.commands.executeCommand('rnnLab.hiddenStates.focus');
      const trace = await waitFor('a trace of the selection', () =>
        sent<HiddenTraceMessage>('hidden', 'hidden/trace').slice(before).find((t) => t.modelId === entry.id && t.chars.join('') === selected),
      );
      assert.deepEqual(trace.quantities, cell === 'gpt' ? ['x'] : ['h', 'x', 'z', 'g']);
      assert.equal(trace.heads, cell === 'gpt' ? 2 : 0);
      assert.equal(trace.layers, 2);
      // The page asked for a matrix of its first quantity, and the host sent it.
      const matrix = await waitFor('the first matrix', () => sent<HiddenMatrixMessage>('hidden', 'hidden/matrix').find((m) => m.seq === trace.seq));
      assert.equal(matrix.values.length, selected.length * 32);
      const model = decodeCheckpoint(api.library.readCheckpoint(entry.id)).model;
      const engine = traceHiddenStates(model, selected, tsKernels);
      // The page asks for the layer and quantity it shows (kept from the last trace when this one has it).
      const q = matrix.quantity;
      assert.ok(trace.quantities.includes(q));
      const layer = engine.layers[matrix.layer]!;
      const want = q === 'h' ? layer.h : layer.gates[q]!;
      matrix.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-3, `${q}[${i}] = ${v}, the engine's ${want[i]}`));
      if (cell !== 'gpt') return;
      // A gpt: the page asked where the last character attends; the host answered from the trace.
      const T = selected.length;
      const att = await waitFor('the attention of the last character', () => sent<HiddenAttentionMessage>('hidden', 'hidden/attention').find((m) => m.seq === trace.seq));
      assert.ok(received('hidden', 'hidden/attend').some((m) => (m as unknown as { t: number }).t === T - 1), 'the page asked for the last position');
      assert.equal(att.t, T - 1);
      assert.equal(att.weights.length, 2 * 2 * T);
      for (let r = 0; r < 4; r++) {
        const row = att.weights.slice(r * T, (r + 1) * T);
        const w = engine.attention!.weights[Math.floor(r / 2)]![r % 2]!.subarray((T - 1) * T, T * T);
        row.forEach((v, s) => assert.ok(Math.abs(v - w[s]!) < 1e-4, `layer ${Math.floor(r / 2)} head ${r % 2}, s ${s}: ${v} vs the engine's ${w[s]}`));
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'a head\'s weights sum to 1');
      }
    });

    test(`${cell}: the Gradient Flow panel opens with its snapshots, labelled as blocks`, async () => {
      const { entry } = trained[cell]!;
      await vscode.commands.executeCommand('rnnLab.showGradientFlow', entry.id);
      assert.ok(api.gradFlowPanels.get(entry.id), 'a gradient-flow panel exists for the model');
      await waitFor('the page to ask for its data', () => events.some((e) => e.panel === 'gradflow' && e.modelId === entry.id && e.direction === 'received' && e.message.kind === 'panel/ready'));
      const init = await waitFor('the init message', () => sent<GradFlowInitMessage>('gradflow', 'gradflow/init').find((m) => m.primary === entry.id));
      assert.equal(init.models.find((m) => m.id === entry.id)?.family, cell === 'gpt' ? 'GPT' : 'minGRU');
      const data = await waitFor('the snapshots', () => sent<GradFlowDataMessage>('gradflow', 'gradflow/data').find((m) => m.modelId === entry.id && m.snapshots.length > 0));
      assert.ok(data.snapshots.every((s) => s.network === 'blocks'));
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  }
});
