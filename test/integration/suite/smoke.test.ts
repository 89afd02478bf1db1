/// <reference types="mocha" />
// Probe that the integration harness really runs inside VS Code: the real API,
// our extension loaded from this folder, and the test workspace opened.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'rnn-lab.rnn-lab'; // publisher.name in package.json

suite('smoke: real VS Code', () => {
  test('the vscode API is the real one', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.ok(vscode.env.appName.length > 0, 'appName');
    console.log(`    VS Code ${vscode.version} "${vscode.env.appName}" uiKind=${vscode.UIKind[vscode.env.uiKind]} node=${process.version}`);
  });

  test('the extension activates and registers every command it contributes', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded as the extension under development`);
    const contributed: string[] = (ext.packageJSON?.contributes?.commands ?? []).map((c: { command: string }) => c.command);
    // rnnLab.hello needs no input (the others ask for files or models); without
    // it, activate the extension directly.
    if (contributed.includes('rnnLab.hello')) await vscode.commands.executeCommand('rnnLab.hello');
    else await ext.activate();
    assert.equal(ext.isActive, true);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
  });

  test('a workspace file opens in an editor and can be edited', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'sample.txt'));
    const editor = await vscode.window.showTextDocument(doc);
    assert.match(doc.getText(), /^the quick brown fox/);
    assert.ok(await editor.edit((e) => e.insert(new vscode.Position(0, 0), '>> ')));
    assert.match(doc.getText(), /^>> the quick/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
