import * as vscode from 'vscode';
import { panelOptions, type PanelDeps } from './panelBase';
import { HiddenStatesPage } from './hiddenStatesPage';
import type { HiddenStatesTracer } from './hiddenStatesTracer';

export const HIDDEN_PANEL_VIEW_TYPE = 'rnnLab.hiddenStatesPanel';

const TITLE = 'Hidden States';

/**
 * The hidden-states page in an editor column (Open in Editor): one panel,
 * beside the text it traces, served by the same tracer as the side bar's
 * view. A window reload reopens it; its page restores its own options from
 * its saved state.
 */
export class HiddenStatesPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly deps: PanelDeps,
    private readonly tracer: HiddenStatesTracer,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(HIDDEN_PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          if (this.panel) {
            // Only one is kept: a second restored one would trace the same text.
            panel.dispose();
            return;
          }
          this.adopt(panel);
        },
      }),
    );
  }

  /** The open panel, if any. */
  get webviewPanel(): vscode.WebviewPanel | undefined {
    return this.panel;
  }

  /** Reveals the panel, or opens it beside the active editor. */
  show(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(HIDDEN_PANEL_VIEW_TYPE, TITLE, vscode.ViewColumn.Beside, panelOptions(this.deps.extensionUri));
    this.adopt(panel);
    return panel;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.title = TITLE;
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'rnn-lab.svg');
    const page = new HiddenStatesPage(panel.webview, 'panel', () => panel.visible, this.deps, this.tracer, this.tracer.handoff());
    const attached = this.tracer.attach(page);
    this.panelDisposables.push(
      attached,
      panel.onDidChangeViewState(() => {
        if (!panel.visible) page.ready = false;
        this.tracer.visibilityChanged();
      }),
      panel.onDidDispose(() => {
        for (const x of this.panelDisposables.splice(0)) x.dispose();
        if (this.panel === panel) this.panel = undefined;
      }),
    );
  }

  dispose(): void {
    this.panel?.dispose();
    for (const x of this.panelDisposables.splice(0)) x.dispose();
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}
