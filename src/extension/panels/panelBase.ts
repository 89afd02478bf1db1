import * as vscode from 'vscode';
import type { Checked } from './validate';
import { makeNonce, renderPanelHtml } from './html';

export interface PanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.OutputChannel;
}

/** Where a webview may load from: the bundles and the media folder, nothing else. */
export function panelResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: panelResourceRoots(extensionUri) };
}

/**
 * A webview panel of ours: sets its HTML once (CSP, nonce, bundle and styles
 * through asWebviewUri), checks every message it posts as untrusted input
 * before `onMessage` sees it, and owns its disposables.
 */
export abstract class PanelHost<In, Out> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly deps: PanelDeps,
    bundle: string,
    body: string,
    private readonly check: (raw: unknown) => Checked<In>,
  ) {
    const webview = panel.webview;
    webview.options = panelOptions(deps.extensionUri);
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, ...p)).toString();
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title: panel.title,
      scriptUri: uri('dist', 'webview', `${bundle}.js`),
      styleUris: [uri('media', 'panel.css')],
      body,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => {
        const checked = this.check(raw);
        if (!checked.ok) {
          this.deps.log.appendLine(checked.error);
          return;
        }
        try {
          const r = this.onMessage(checked.message);
          if (r instanceof Promise) r.catch((e: unknown) => this.reportError(e));
        } catch (e) {
          this.reportError(e);
        }
      }),
      panel.onDidChangeViewState(() => this.onVisibilityChanged(panel.visible)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  protected abstract onMessage(message: In): void | Promise<void>;

  protected onVisibilityChanged(_visible: boolean): void {}

  /** Posts to the page; false when the page is gone (the caller sends it all again on `ready`). */
  protected post(message: Out): Thenable<boolean> {
    if (this.disposed) return Promise.resolve(false);
    return this.panel.webview.postMessage(message);
  }

  protected reportError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.deps.log.appendLine(`panel "${this.panel.title}": ${message}`);
    void vscode.window.showErrorMessage(`RNN Lab: ${message}`);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
