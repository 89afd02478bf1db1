import * as vscode from 'vscode';
import type { InferenceService } from './inference';
import type { ModelLibrary } from './library';
import { completionSwitches } from './completionsStatus';
import { completionsOffReason } from './completionsToggle';
import { readCompletionSettings } from './settings';
import { COMPLETION_ACCEPTED_COMMAND } from './walkthrough';

export const COMPLETION_MODEL_KEY = 'rnnLab.completionModel';

/**
 * Continues the text at the cursor with a model: the newest one trained on
 * this file, else the one the user chose for completions.
 */
export class RnnCompletionProvider implements vscode.InlineCompletionItemProvider {
  constructor(
    private readonly library: ModelLibrary,
    private readonly inference: InferenceService,
    private readonly state: vscode.Memento,
    private readonly log: vscode.OutputChannel,
  ) {}

  /** The model that completes `document`, if any. */
  modelFor(document: vscode.TextDocument): string | undefined {
    const own = this.library.newestFor(document.uri.toString());
    if (own) return own.id;
    const chosen = this.state.get<string>(COMPLETION_MODEL_KEY);
    return chosen && this.library.get(chosen)?.hasCheckpoint ? chosen : undefined;
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    let settings;
    try {
      settings = readCompletionSettings(document.uri);
    } catch (e) {
      this.log.appendLine(`completions off: ${(e as Error).message}`);
      return undefined;
    }
    const explicit = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    // On or off for the document's language (its [language] override of rnnLab.completions.enabled included), and
    // only while VS Code shows inline suggestions at all, unless the user asked for one.
    const switches = completionSwitches(document);
    if (completionsOffReason(explicit ? { ...switches, inlineSuggest: true } : switches) !== null) return undefined;
    const modelId = this.modelFor(document);
    if (!modelId) return undefined;
    if (!explicit && settings.debounceMs > 0) {
      await new Promise((r) => setTimeout(r, settings.debounceMs));
      if (token.isCancellationRequested) return undefined;
    }
    const prefix = document.getText(new vscode.Range(new vscode.Position(0, 0), position));
    try {
      const result = await this.inference.complete(
        modelId,
        document.uri.toString(),
        prefix,
        {
          maxLength: settings.maxLength,
          temperature: settings.temperature,
          stop: settings.stopAt === 'none' ? [] : settings.stopAt === 'line' ? ['\n'] : ['\n\n'],
          count: explicit ? settings.alternatives : 1,
        },
        token,
      );
      if (!result) return undefined;
      return result.completions
        .map((text) => (settings.stopAt === 'sentence' ? firstSentence(text) : text))
        .filter((text) => text.trim().length > 0)
        .map((text) => {
          const item = new vscode.InlineCompletionItem(text, new vscode.Range(position, position));
          // Run on acceptance: the walkthrough's "accept a completion" step completes on it.
          item.command = { command: COMPLETION_ACCEPTED_COMMAND, title: 'Completion accepted' };
          return item;
        });
    } catch (e) {
      this.log.appendLine(`completion failed: ${(e as Error).message}`);
      return undefined;
    }
  }
}

/** Cuts a completion after its first sentence end (kept), or leaves it whole. */
export function firstSentence(text: string): string {
  const m = /[.!?。！？](?=\s|$)/u.exec(text);
  return m ? text.slice(0, m.index + m[0].length) : text;
}
