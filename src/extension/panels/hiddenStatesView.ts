import * as vscode from 'vscode';
import type { PanelDeps } from './panelBase';
import { HiddenStatesPage } from './hiddenStatesPage';
import type { HiddenStatesTracer } from './hiddenStatesTracer';

export const HIDDEN_VIEW_ID = 'rnnLab.hiddenStates';

/** The Hidden States view in the RNN Lab side bar: the hidden-states page, served by the tracer. */
export class HiddenStatesViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private viewDisposables: vscode.Disposable[] = [];

  constructor(
    private readonly deps: PanelDeps,
    private readonly tracer: HiddenStatesTracer,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const x of this.viewDisposables.splice(0)) x.dispose();
    const page = new HiddenStatesPage(view.webview, 'view', () => view.visible, this.deps, this.tracer, this.tracer.handoff());
    const attached = this.tracer.attach(page);
    this.viewDisposables.push(
      attached,
      view.onDidChangeVisibility(() => {
        // A hidden view's page is unloaded: it says ready again when shown.
        if (!view.visible) page.ready = false;
        this.tracer.visibilityChanged();
      }),
      view.onDidDispose(() => {
        attached.dispose();
      }),
    );
  }

  dispose(): void {
    for (const x of this.viewDisposables.splice(0)) x.dispose();
  }
}
