import * as vscode from 'vscode';
import { HiddenStatesPanel } from './hiddenStatesPanel';
import { HiddenStatesTracer, type HiddenStatesDeps } from './hiddenStatesTracer';
import { HIDDEN_VIEW_ID, HiddenStatesViewProvider } from './hiddenStatesView';

export const OPEN_HIDDEN_IN_EDITOR = 'rnnLab.openHiddenStatesInEditor';

/**
 * Hidden States, one page with two hosts: the side bar's view and a panel in
 * an editor column, both served by one tracer (the same trace, model and
 * editor colours). Registers the view, the panel's restore and the commands.
 */
export class HiddenStates implements vscode.Disposable {
  readonly tracer: HiddenStatesTracer;
  readonly panel: HiddenStatesPanel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(deps: HiddenStatesDeps) {
    this.tracer = new HiddenStatesTracer(deps, () => this.panel.show());
    this.panel = new HiddenStatesPanel(deps, this.tracer);
    const view = new HiddenStatesViewProvider(deps, this.tracer);
    this.disposables.push(
      this.panel,
      view,
      this.tracer,
      vscode.window.registerWebviewViewProvider(HIDDEN_VIEW_ID, view),
      // With a model (the Experiment panel's runs): the pages trace with it; without, with the model that completes the file.
      vscode.commands.registerCommand('rnnLab.showHiddenStates', (model?: unknown) => {
        this.tracer.showModel(modelIdOf(model));
        return vscode.commands.executeCommand(`${HIDDEN_VIEW_ID}.focus`);
      }),
      vscode.commands.registerCommand(OPEN_HIDDEN_IN_EDITOR, () => {
        this.panel.show();
      }),
    );
  }

  dispose(): void {
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}

/** A command's model argument (an entry of the library or its id); anything else (a menu's URI) is none. */
function modelIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const id = (arg as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
