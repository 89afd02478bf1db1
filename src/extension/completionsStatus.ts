/**
 * The completions status-bar item, as Copilot has one: which model completes
 * the current file (or why nothing does), and a quick pick that turns RNN
 * Lab's completions on or off for the file's language or everywhere,
 * persisted in the user's settings. It follows `editor.inlineSuggest.enabled`:
 * when VS Code's inline suggestions are off it says so and offers to turn them on.
 */
import * as vscode from 'vscode';
import type { RnnCompletionProvider } from './completions';
import { completionsOffReason, toggleForLanguage, type CompletionSwitches } from './completionsToggle';
import type { ModelLibrary } from './library';

export const COMPLETIONS_MENU_COMMAND = 'rnnLab.completionsMenu';
export const TOGGLE_LANGUAGE_COMMAND = 'rnnLab.toggleCompletionsForLanguage';
export const TOGGLE_EVERYWHERE_COMMAND = 'rnnLab.toggleCompletionsEverywhere';

/** rnnLab.completions.enabled without any language's override. */
function everywhereValue(): boolean {
  const i = vscode.workspace.getConfiguration('rnnLab.completions').inspect<boolean>('enabled');
  return (i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue ?? i?.defaultValue ?? true) === true;
}

/** The switches for a document (its language's overrides included). */
export function completionSwitches(document: vscode.TextDocument): CompletionSwitches {
  const own = vscode.workspace.getConfiguration('rnnLab.completions', document);
  const everywhere = everywhereValue();
  const languages = own.get<unknown>('languages', ['plaintext', 'markdown']);
  return {
    language: document.languageId,
    inlineSuggest: vscode.workspace.getConfiguration('editor.inlineSuggest', document).get<boolean>('enabled', true) !== false,
    everywhere,
    forLanguage: own.get<boolean>('enabled', true) === true,
    languages: Array.isArray(languages) ? languages.filter((l): l is string => typeof l === 'string') : ['plaintext', 'markdown'],
  };
}

/** What the item shows (the tests read it through the extension's API). */
export interface CompletionsStatus {
  readonly visible: boolean;
  readonly text: string;
  readonly tooltip: string;
  readonly on: boolean;
  readonly modelId: string | undefined;
}

export class CompletionsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rnnLab.completions', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [];
  private shown: CompletionsStatus = { visible: false, text: '', tooltip: '', on: false, modelId: undefined };

  constructor(private readonly completions: RnnCompletionProvider, private readonly library: ModelLibrary) {
    this.item.name = 'RNN Lab Completions';
    this.item.command = COMPLETIONS_MENU_COMMAND;
    this.disposables.push(
      this.item,
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('rnnLab.completions') || e.affectsConfiguration('editor.inlineSuggest')) this.update();
      }),
      vscode.workspace.onDidOpenTextDocument(() => this.update()),
      library.onDidChange(() => this.update()),
      vscode.commands.registerCommand(COMPLETIONS_MENU_COMMAND, () => this.menu()),
      vscode.commands.registerCommand(TOGGLE_LANGUAGE_COMMAND, (on?: boolean) => this.toggleLanguage(on)),
      vscode.commands.registerCommand(TOGGLE_EVERYWHERE_COMMAND, (on?: boolean) => this.toggleEverywhere(on)),
    );
    this.update();
  }

  get status(): CompletionsStatus {
    return this.shown;
  }

  /** The active editor's document, if it is a text file (not the output panel). */
  private document(): vscode.TextDocument | undefined {
    const d = vscode.window.activeTextEditor?.document;
    return d && (d.uri.scheme === 'file' || d.uri.scheme === 'untitled' || d.uri.scheme === 'vscode-remote') ? d : undefined;
  }

  update(): void {
    const document = this.document();
    if (!document) {
      this.item.hide();
      this.shown = { ...this.shown, visible: false };
      return;
    }
    const s = completionSwitches(document);
    const off = completionsOffReason(s);
    const modelId = this.completions.modelFor(document);
    const name = modelId ? this.library.get(modelId)?.name ?? 'model' : undefined;
    const own = modelId !== undefined && this.library.newestFor(document.uri.toString())?.id === modelId;
    const who = name ? `"${name}" ${own ? '(trained on this file)' : '(chosen for completions)'}` : 'no model: train one on this file or choose one for completions';
    const text = `${off || !name ? '$(circle-slash)' : '$(sparkle)'} RNN${name ? `: ${name}` : ''}`;
    const tooltip = off ? `RNN Lab: ${off}. Completes ${s.language} with ${who}. Click to change.` : `RNN Lab completes ${s.language} with ${who}. Click to turn completions off for ${s.language} or everywhere.`;
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: tooltip };
    this.item.show();
    this.shown = { visible: true, text, tooltip, on: off === null && name !== undefined, modelId };
  }

  private async menu(): Promise<void> {
    const document = this.document();
    type Item = vscode.QuickPickItem & { run: () => Thenable<unknown> };
    const items: Item[] = [];
    if (document) {
      const s = completionSwitches(document);
      if (!s.inlineSuggest) {
        items.push({ label: "$(eye) Turn On VS Code's Inline Suggestions", description: 'editor.inlineSuggest.enabled', run: () => vscode.workspace.getConfiguration('editor.inlineSuggest').update('enabled', true, vscode.ConfigurationTarget.Global) });
      }
      const onHere = s.forLanguage && completionsOffReason({ ...s, inlineSuggest: true }) === null;
      items.push({ label: `${onHere ? '$(circle-slash) Disable' : '$(check) Enable'} Completions for ${s.language}`, description: 'in your settings', run: () => this.toggleLanguage(!onHere) });
    }
    const onEverywhere = everywhereValue();
    items.push(
      { label: `${onEverywhere ? '$(circle-slash) Disable' : '$(check) Enable'} Completions Everywhere`, description: 'rnnLab.completions.enabled', run: () => this.toggleEverywhere(!onEverywhere) },
      { label: '$(lightbulb) Choose the Model for Completions…', run: () => vscode.commands.executeCommand('rnnLab.setCompletionModel') },
      { label: '$(gear) Completion Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'rnnLab.completions') },
    );
    const pick = await vscode.window.showQuickPick(items, { title: 'RNN Lab Completions', placeHolder: this.shown.tooltip });
    await pick?.run();
  }

  /** Turns completions on or off (absent: the other way) for the active document's language, in the user's settings. */
  async toggleLanguage(on?: boolean): Promise<boolean | undefined> {
    const document = this.document();
    if (!document) {
      void vscode.window.showWarningMessage('RNN Lab: open a text file to turn completions on or off for its language.');
      return undefined;
    }
    const s = completionSwitches(document);
    const target = on ?? !(s.forLanguage && completionsOffReason({ ...s, inlineSuggest: true }) === null);
    const change = toggleForLanguage(s, target);
    await vscode.workspace.getConfiguration('rnnLab.completions', { languageId: s.language }).update('enabled', change.override, vscode.ConfigurationTarget.Global, true);
    if (change.languages) await vscode.workspace.getConfiguration('rnnLab.completions').update('languages', change.languages, vscode.ConfigurationTarget.Global);
    this.update();
    return target;
  }

  /** Turns completions on or off (absent: the other way) everywhere, in the user's settings; a language's own switch still wins. */
  async toggleEverywhere(on?: boolean): Promise<boolean> {
    const target = on ?? !everywhereValue();
    await vscode.workspace.getConfiguration('rnnLab.completions').update('enabled', target, vscode.ConfigurationTarget.Global);
    this.update();
    return target;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
