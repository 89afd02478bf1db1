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
      vscode.commands.registerCommand('rnnLab.showHiddenStates', () => vscode.commands.executeCommand(`${HIDDEN_VIEW_ID}.focus`)),
      vscode.commands.registerCommand(OPEN_HIDDEN_IN_EDITOR, () => {
        this.panel.show();
      }),
    );
  }

  dispose(): void {
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}
