/**
 * The completions status-bar item and its toggles in a real VS Code: what the
 * item says for the active file (which model completes it, or why nothing
 * does), turning completions off and on for the file's language and
 * everywhere (persisted as the user's settings, a language's own switch as a
 * `[language]` override), following editor.inlineSuggest.enabled, and the
 * provider obeying every switch.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import { waiter } from '../helpers';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log.\n'.repeat(20);
const waitFor = waiter(60_000);
let api: RnnLabApi;

async function writeFile(name: string, content: string): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  const uri = vscode.Uri.joinPath(folder.uri, name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  return uri;
}

async function open(uri: vscode.Uri): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  editor.selection = new vscode.Selection(1, 8, 1, 8);
  return editor;
}

async function completions(editor: vscode.TextEditor, explicit = false): Promise<readonly vscode.InlineCompletionItem[] | undefined> {
  return api.completions.provideInlineCompletionItems(
    editor.document,
    editor.selection.active,
    { triggerKind: explicit ? vscode.InlineCompletionTriggerKind.Invoke : vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined },
    new vscode.CancellationTokenSource().token,
  );
}

const enabled = (languageId?: string) => vscode.workspace.getConfiguration('rnnLab.completions', languageId ? { languageId } : undefined).inspect<boolean>('enabled')!;

suite('completions status bar', function () {
  this.timeout(120_000);
  let txt: vscode.Uri;
  let md: vscode.Uri;
  let py: vscode.Uri;
  let modelName: string;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext);
    api = await ext.activate();
    const c = vscode.workspace.getConfiguration('rnnLab');
    await c.update('completions.debounceMs', 0, vscode.ConfigurationTarget.Global);
    await c.update('completions.temperature', 0, vscode.ConfigurationTarget.Global);
    txt = await writeFile('toggle.txt', TEXT);
    md = await writeFile('toggle.md', TEXT);
    py = await writeFile('toggle.py', TEXT);
  });

  suiteTeardown(async () => {
    const c = vscode.workspace.getConfiguration('rnnLab.completions');
    for (const languageId of ['plaintext', 'markdown', 'python']) {
      await vscode.workspace.getConfiguration('rnnLab.completions', { languageId }).update('enabled', undefined, vscode.ConfigurationTarget.Global, true);
    }
    await c.update('enabled', undefined, vscode.ConfigurationTarget.Global);
    await c.update('languages', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('editor.inlineSuggest').update('enabled', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('names the model that completes the file, or says there is none', async () => {
    await open(txt);
    await waitFor('the item for toggle.txt', () => api.completionsStatus.status.visible);
    let s = api.completionsStatus.status;
    assert.equal(s.on, false);
    assert.match(s.tooltip, /no model: train one on this file or choose one for completions/);
    assert.match(s.text, /^\$\(circle-slash\) RNN$/);

    const c = vscode.workspace.getConfiguration('rnnLab');
    await c.update('training.maxSteps', 20, vscode.ConfigurationTarget.Global);
    const entry = await vscode.commands.executeCommand<{ id: string; name: string } | undefined>('rnnLab.train', txt, [txt], { preset: 'tiny', name: 'toggle model' });
    assert.ok(entry);
    await api.training.whenEnded(entry.id);
    await c.update('training.maxSteps', undefined, vscode.ConfigurationTarget.Global);
    modelName = entry.name;
    s = await waitFor('the item names the model', () => api.completionsStatus.status.modelId === entry.id && api.completionsStatus.status);
    assert.equal(s.text, `$(sparkle) RNN: ${modelName}`);
    assert.equal(s.on, true);
    assert.match(s.tooltip, /completes plaintext with "toggle model" \(trained on this file\)/);
    assert.ok((await completions(vscode.window.activeTextEditor!))?.length, 'the provider completes');
    // Another language's file, without a model of its own: the model chosen for completions.
    await vscode.commands.executeCommand('rnnLab.setCompletionModel', entry.id);
    await open(md);
    s = await waitFor('the markdown file', () => api.completionsStatus.status.tooltip.includes('markdown') && api.completionsStatus.status);
    assert.equal(s.on, true);
    assert.match(s.tooltip, /\(chosen for completions\)/);
  });

  test('turns completions off and on for the file\'s language, as a [language] override in the user\'s settings', async () => {
    const editor = await open(txt);
    assert.equal(await vscode.commands.executeCommand('rnnLab.toggleCompletionsForLanguage'), false, 'a toggle without an argument turns them off');
    assert.equal(enabled('plaintext').globalLanguageValue, false);
    assert.equal(enabled().globalValue, undefined, 'the switch for every language is untouched');
    const s = api.completionsStatus.status;
    assert.equal(s.on, false);
    assert.equal(s.text, `$(circle-slash) RNN: ${modelName}`);
    assert.match(s.tooltip, /off for plaintext/);
    assert.equal(await completions(editor), undefined, 'the provider is quiet for plaintext');
    await open(md);
    assert.equal(api.completionsStatus.status.on, true, 'markdown keeps its completions');
    const mdEditor = vscode.window.activeTextEditor!;
    assert.ok((await completions(mdEditor))?.length);

    await open(txt);
    assert.equal(await vscode.commands.executeCommand('rnnLab.toggleCompletionsForLanguage'), true);
    assert.equal(enabled('plaintext').globalLanguageValue, undefined, 'turning it back on removes the override');
    assert.equal(api.completionsStatus.status.on, true);
    assert.ok((await completions(vscode.window.activeTextEditor!))?.length);
  });

  test('the quick pick turns them off for the language; everywhere; a language can stay on when the rest is off', async () => {
    await open(txt);
    // The status-bar item's command: the first entry is "Disable Completions for plaintext".
    const shown = vscode.commands.executeCommand('rnnLab.completionsMenu');
    await new Promise((r) => setTimeout(r, 800));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await shown;
    await waitFor('the quick pick turned plaintext off', () => enabled('plaintext').globalLanguageValue === false);
    assert.equal(api.completionsStatus.status.on, false);
    await vscode.commands.executeCommand('rnnLab.toggleCompletionsForLanguage', true);

    assert.equal(await vscode.commands.executeCommand('rnnLab.toggleCompletionsEverywhere'), false);
    assert.equal(enabled().globalValue, false);
    assert.match(api.completionsStatus.status.tooltip, /off everywhere \(rnnLab\.completions\.enabled\)/);
    assert.equal(await completions(vscode.window.activeTextEditor!), undefined);
    // On for this language only, while everywhere stays off.
    await vscode.commands.executeCommand('rnnLab.toggleCompletionsForLanguage', true);
    assert.equal(enabled('plaintext').globalLanguageValue, true);
    assert.equal(api.completionsStatus.status.on, true);
    assert.ok((await completions(vscode.window.activeTextEditor!))?.length);
    await open(md);
    assert.equal(api.completionsStatus.status.on, false, 'markdown is off with everything else');
    assert.equal(await completions(vscode.window.activeTextEditor!), undefined);
    await vscode.commands.executeCommand('rnnLab.toggleCompletionsEverywhere', true);
    assert.equal(api.completionsStatus.status.on, true);
    await open(txt);
    await vscode.workspace.getConfiguration('rnnLab.completions', { languageId: 'plaintext' }).update('enabled', undefined, vscode.ConfigurationTarget.Global, true);
  });

  test('a language outside rnnLab.completions.languages joins the list when turned on', async () => {
    await open(py);
    let s = await waitFor('the python file', () => api.completionsStatus.status.tooltip.includes('python') && api.completionsStatus.status);
    assert.equal(s.on, false);
    assert.match(s.tooltip, /python is not in rnnLab\.completions\.languages/);
    assert.equal(await completions(vscode.window.activeTextEditor!), undefined);
    await vscode.commands.executeCommand('rnnLab.toggleCompletionsForLanguage', true);
    assert.deepEqual(vscode.workspace.getConfiguration('rnnLab.completions').inspect('languages')!.globalValue, ['plaintext', 'markdown', 'python']);
    s = api.completionsStatus.status;
    assert.equal(s.on, true);
    assert.ok((await completions(vscode.window.activeTextEditor!))?.length);
    await vscode.workspace.getConfiguration('rnnLab.completions').update('languages', undefined, vscode.ConfigurationTarget.Global);
  });

  test('follows editor.inlineSuggest.enabled: off says so; an explicit request still completes', async () => {
    const editor = await open(txt);
    await vscode.workspace.getConfiguration('editor.inlineSuggest').update('enabled', false, vscode.ConfigurationTarget.Global);
    const s = await waitFor('the item sees inline suggestions off', () => !api.completionsStatus.status.on && api.completionsStatus.status);
    assert.match(s.tooltip, /VS Code's inline suggestions are off \(editor\.inlineSuggest\.enabled\)/);
    assert.equal(s.text, `$(circle-slash) RNN: ${modelName}`);
    assert.equal(await completions(editor), undefined, 'no automatic completions');
    assert.ok((await completions(editor, true))?.length, 'Trigger Inline Suggestion still completes');
    await vscode.workspace.getConfiguration('editor.inlineSuggest').update('enabled', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('back on', () => api.completionsStatus.status.on);
  });
});
