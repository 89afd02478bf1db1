/**
 * RNN Lab in a workspace opened in Restricted Mode (runTest.ts starts this
 * session with workspace trust on and never prompts): the workspace's values
 * for the settings in restrictedConfigurations are ignored, the others apply,
 * and the extension still activates and reads its settings.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RnnLabApi } from '../../../src/extension/extension';
import { UNTRUSTED_WORKSPACE_SETTINGS } from './settings';

suite('Restricted Mode', function () {
  this.timeout(60_000);

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RnnLabApi>('rnn-lab.rnn-lab');
    assert.ok(ext, 'the extension is installed');
    await ext.activate();
  });

  test('the workspace is not trusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test("the workspace's memory, threads and completion scope are ignored; its learning rate applies", () => {
    const manifest = vscode.extensions.getExtension('rnn-lab.rnn-lab')!.packageJSON as {
      capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
      contributes: { configuration: { properties: Record<string, { default: unknown }> } };
    };
    const defaults = manifest.contributes.configuration.properties;
    const c = vscode.workspace.getConfiguration();
    for (const [name, asked] of Object.entries(UNTRUSTED_WORKSPACE_SETTINGS.restricted)) {
      assert.notDeepEqual(asked, defaults[name]!.default, `${name}: the workspace asks for something else than the default`);
      assert.deepEqual(c.get(name), defaults[name]!.default, `${name} keeps the user's (default) value, not the workspace's ${JSON.stringify(asked)}`);
      assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations?.includes(name), `${name} is listed as restricted`);
    }
    // The workspace's settings were read at all: an unrestricted one applies.
    for (const [name, asked] of Object.entries(UNTRUSTED_WORKSPACE_SETTINGS.applies)) {
      assert.deepEqual(c.get(name), asked, `${name} is read from the workspace`);
    }
  });
});
