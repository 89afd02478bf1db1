/**
 * The Getting Started walkthrough (package.json `contributes.walkthroughs`):
 * the commands behind its buttons, each finishing one step (the steps'
 * completion events are these commands, and the plain ones they wrap), and
 * opening it once, on the first activation after install, unless the user
 * turned VS Code's `workbench.welcomePage.walkthroughs.openOnInstall` off.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { walkthroughExperimentText } from '../shared/experiment/starter';
import type { ModelEntry, ModelLibrary } from './library';

export const WALKTHROUGH_ID = 'rnn-lab.rnn-lab#rnnLab.gettingStarted';
/** Executed by VS Code when the user accepts one of our inline completions (the walkthrough's last step listens for it). */
export const COMPLETION_ACCEPTED_COMMAND = 'rnnLab.completionAccepted';
const OPENED_KEY = 'rnnLab.walkthroughOpened';
const MODEL_KEY = 'rnnLab.walkthroughModel';
/** A text shorter than this trains too little to show anything: the walkthrough uses its sample instead. */
const MIN_CHARS = 2000;
const WALKTHROUGH_EXPERIMENT = 'walkthrough.rnnlab.json';

export interface WalkthroughDeps {
  context: vscode.ExtensionContext;
  library: ModelLibrary;
}

/** The sample the walkthrough trains on: the extension's own README, written once to its storage. */
function writeSample(context: vscode.ExtensionContext): vscode.Uri {
  const dir = context.globalStorageUri.fsPath;
  const file = path.join(dir, 'rnn-lab-sample.txt');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    // The .vsix stores it as readme.md (vsce lower-cases it), a checkout as README.md.
    const readme = fs.readdirSync(context.extensionPath).find((f) => f.toLowerCase() === 'readme.md');
    if (!readme) throw new Error(`the sample text (the extension's README) is missing from ${context.extensionPath}`);
    fs.writeFileSync(file, fs.readFileSync(path.join(context.extensionPath, readme), 'utf8'));
  }
  return vscode.Uri.file(file);
}

/** A file the user has open that is long enough to learn from: the active editor's, else a visible or open one. */
function textToTrain(context: vscode.ExtensionContext): vscode.Uri | undefined {
  const fits = (d: vscode.TextDocument | undefined): boolean =>
    !!d && d.uri.scheme === 'file' && !d.uri.fsPath.startsWith(context.globalStorageUri.fsPath) && d.getText().length >= MIN_CHARS;
  const candidates = [vscode.window.activeTextEditor?.document, ...vscode.window.visibleTextEditors.map((e) => e.document), ...vscode.workspace.textDocuments];
  return candidates.find(fits)?.uri;
}

export function registerWalkthrough(d: WalkthroughDeps): vscode.Disposable[] {
  const { context, library } = d;
  const model = (): ModelEntry | undefined => {
    const id = context.globalState.get<string>(MODEL_KEY);
    return (id ? library.get(id) : undefined) ?? [...library.list()].sort((a, b) => b.updated - a.updated)[0];
  };
  const needModel = (): ModelEntry => {
    const m = model();
    if (!m) throw new Error('no model yet: run the first step, "Train on a Text"');
    return m;
  };
  const guarded = (id: string, run: () => Promise<unknown>) =>
    vscode.commands.registerCommand(id, () =>
      run().catch((e: unknown) => void vscode.window.showErrorMessage(`RNN Lab: ${(e as Error).message}`)),
    );
  return [
    guarded('rnnLab.walkthrough.train', async () => {
      // The file the user has open (the walkthrough's own tab has the focus when its button is clicked), else the sample.
      const own = textToTrain(context);
      const uri = own ?? writeSample(context);
      await vscode.window.showTextDocument(uri, { preview: false });
      const entry = await vscode.commands.executeCommand<ModelEntry | undefined>('rnnLab.train', uri, [uri], { preset: 'tiny', ...(own ? {} : { name: 'walkthrough sample' }) });
      if (entry) await context.globalState.update(MODEL_KEY, entry.id);
    }),
    guarded('rnnLab.walkthrough.showLoss', () => Promise.resolve(vscode.commands.executeCommand('rnnLab.showLoss', needModel().id))),
    guarded('rnnLab.walkthrough.showGradientFlow', () => Promise.resolve(vscode.commands.executeCommand('rnnLab.showGradientFlow', needModel().id))),
    guarded('rnnLab.walkthrough.tryCompletion', async () => {
      const m = needModel();
      const source = m.sources.find((s) => s.startsWith('file:'));
      const uri = source ? vscode.Uri.parse(source) : writeSample(context);
      const editor = await vscode.window.showTextDocument(uri, { preview: false });
      // A new last line that starts like the first line with words on it: the model continues it as ghost text.
      const doc = editor.document;
      let line = 0;
      while (line < doc.lineCount - 1 && doc.lineAt(line).text.trim().split(/\s+/).length < 4) line++;
      const start = doc.lineAt(line).text.trim().split(/\s+/).slice(0, 2).join(' ') + ' ';
      const end = doc.lineAt(doc.lineCount - 1).range.end;
      await editor.edit((e) => e.insert(end, (doc.lineAt(doc.lineCount - 1).text.length > 0 ? '\n' : '') + start));
      const at = doc.lineAt(doc.lineCount - 1).range.end;
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at));
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      void vscode.window.setStatusBarMessage('RNN Lab: press Tab to accept the grey completion (undo the new line when you are done)', 10_000);
    }),
    guarded('rnnLab.walkthrough.runExperiment', async () => {
      // Beside the sample in the extension's storage: the user's folders get an experiment file only when they ask for one (New Experiment…).
      const sample = writeSample(context).fsPath;
      const file = path.join(path.dirname(sample), WALKTHROUGH_EXPERIMENT);
      if (!fs.existsSync(file)) fs.writeFileSync(file, walkthroughExperimentText(path.basename(sample)), { flag: 'wx' });
      const uri = vscode.Uri.file(file);
      await vscode.window.showTextDocument(uri, { preview: false });
      await vscode.commands.executeCommand('rnnLab.runExperiment', uri);
    }),
    vscode.commands.registerCommand(COMPLETION_ACCEPTED_COMMAND, () => undefined),
  ];
}

/** Opens the walkthrough on the first activation after install (once per profile). */
export async function openWalkthroughOnFirstInstall(context: vscode.ExtensionContext): Promise<void> {
  if (context.globalState.get<boolean>(OPENED_KEY)) return;
  await context.globalState.update(OPENED_KEY, true);
  if (vscode.workspace.getConfiguration('workbench.welcomePage.walkthroughs').get<boolean>('openOnInstall', true) === false) return;
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
}
