import * as vscode from 'vscode';
import type { HiddenHandoff, HiddenPageHost, HiddenPageToHost, HiddenWebviewMessage, HostToHiddenPage } from '../../shared/hiddenStatesProtocol';
import type { Rpc } from '../../shared/rpc';
import { hiddenBody } from './hiddenStatesHtml';
import { makeNonce, renderPanelHtml } from './html';
import { panelResourceRoots, type PanelDeps } from './panelBase';
import { panelChannel } from './panelChannel';
import { checkHiddenWebviewMessage } from './validate';

/** What a page's messages go to (the tracer both hosts share). */
export interface HiddenPageListener {
  onPageMessage(page: HiddenStatesPage, message: HiddenWebviewMessage): void;
}

/**
 * One webview showing the hidden-states page, in the side bar or in an
 * editor panel: sets its HTML once (the same bundle and styles for both),
 * checks what the page posts as untrusted input and hands it to the
 * listener. `visible` says whether the page can be drawn now.
 */
export class HiddenStatesPage implements vscode.Disposable {
  /** The page said panel/ready and has not been reloaded since. */
  ready = false;
  private readonly rpc: Rpc<HostToHiddenPage, HiddenPageToHost>;

  constructor(
    webview: vscode.Webview,
    readonly host: HiddenPageHost,
    private readonly isVisible: () => boolean,
    deps: PanelDeps,
    listener: HiddenPageListener,
    handoff: HiddenHandoff | undefined,
  ) {
    webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: panelResourceRoots(deps.extensionUri) };
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(deps.extensionUri, ...p)).toString();
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title: 'Hidden states',
      scriptUri: uri('dist', 'webview', 'hidden.js'),
      styleUris: [uri('media', 'panel.css'), uri('media', 'hidden.css')],
      body: hiddenBody(host, handoff),
    });
    this.rpc = panelChannel<HostToHiddenPage, HiddenPageToHost>(webview, {
      panel: 'hidden',
      modelId: undefined,
      host,
      accept: checkHiddenWebviewMessage,
      log: deps.log,
      observers: deps.observers,
    });
    this.rpc.onNotification((message) => {
      try {
        if (message.kind === 'panel/ready') this.ready = true;
        listener.onPageMessage(this, message);
      } catch (e) {
        deps.log.appendLine(`hidden states (${host}): ${(e as Error).message}`);
      }
    });
  }

  get visible(): boolean {
    return this.isVisible();
  }

  /** Posts to the page; false when it is gone or not loaded (it asks again with panel/ready). */
  post(message: HostToHiddenPage['notifications']): Thenable<boolean> {
    if (this.rpc.closed) return Promise.resolve(false);
    return this.rpc.notify(message);
  }

  dispose(): void {
    this.ready = false;
    this.rpc.close(`the hidden-states ${this.host === 'view' ? 'view' : 'panel'} was closed`);
  }
}
