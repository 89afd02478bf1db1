import * as vscode from 'vscode';
import type { Checked, Direction, Rpc } from '../../shared/rpc';
import type { Observers, PanelChannel } from '../observers';
import { makeNonce, renderPanelHtml } from './html';
import { panelChannel } from './panelChannel';

export interface PanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.OutputChannel;
  observers?: Observers;
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
 * through asWebviewUri), talks to its page through an Rpc that checks every
 * message the page posts as untrusted input (size first, then shape) before
 * `onMessage` sees it, and owns its disposables.
 */
export abstract class PanelHost<HostSends extends Direction, PageSends extends Direction> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  private readonly rpc: Rpc<HostSends, PageSends>;
  private disposed = false;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly deps: PanelDeps,
    bundle: PanelChannel,
    body: string,
    accept: (raw: unknown) => Checked<PageSends['notifications']>,
    modelId: string,
    /** Style sheets beyond media/panel.css, relative to the extension (e.g. a bundle's dist/webview/*.css). */
    styles: readonly string[] = [],
  ) {
    const webview = panel.webview;
    webview.options = panelOptions(deps.extensionUri);
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, ...p)).toString();
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title: panel.title,
      scriptUri: uri('dist', 'webview', `${bundle}.js`),
      styleUris: [uri('media', 'panel.css'), ...styles.map((s) => uri(...s.split('/')))],
      body,
    });
    this.rpc = panelChannel<HostSends, PageSends>(webview, { panel: bundle, modelId, accept, log: deps.log, observers: deps.observers });
    this.rpc.onNotification((message) => {
      try {
        const r = this.onMessage(message);
        if (r instanceof Promise) r.catch((e: unknown) => this.reportError(e));
      } catch (e) {
        this.reportError(e);
      }
    });
    this.disposables.push(
      { dispose: () => this.rpc.close('the panel was closed') },
      panel.onDidChangeViewState(() => this.onVisibilityChanged(panel.visible)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  protected abstract onMessage(message: PageSends['notifications']): void | Promise<void>;

  protected onVisibilityChanged(_visible: boolean): void {}

  /** Posts to the page; false when the page is gone (the caller sends it all again on `ready`). */
  protected post(message: HostSends['notifications']): Thenable<boolean> {
    if (this.disposed) return Promise.resolve(false);
    return this.rpc.notify(message);
  }

  protected reportError(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.deps.log.appendLine(`panel "${this.panel.title}": ${message}`);
    this.deps.observers?.errorShown(message);
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
