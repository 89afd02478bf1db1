import type * as vscode from 'vscode';
import { PAGE_MESSAGE_LIMITS } from '../../shared/panelProtocol';
import { Rpc, type Checked, type Direction } from '../../shared/rpc';
import type { Observers, PanelChannel } from '../observers';

const PEERS: Record<PanelChannel, string> = { hidden: 'hidden-states view', loss: 'loss panel', gradflow: 'gradient-flow panel', experiment: 'experiment panel' };

export interface PanelChannelOptions<PageSends extends Direction> {
  panel: PanelChannel;
  modelId: string | undefined;
  /** Which of the channel's pages this is, when it has two (see PanelMessageEvent). */
  host?: 'view' | 'panel';
  /** Validates a message from the page (its size is checked before). */
  accept: (raw: unknown) => Checked<PageSends['requests'] | PageSends['notifications']>;
  log: vscode.OutputChannel;
  observers: Observers | undefined;
}

/**
 * The host's end of a webview's channel: an Rpc over the webview that checks
 * the size of everything the page sends before validating it (the page is
 * untrusted), logs what it refuses, and tells the observers what passes.
 * The Rpc closes when the webview is disposed, rejecting what is pending.
 */
export function panelChannel<HostSends extends Direction, PageSends extends Direction>(
  webview: vscode.Webview,
  o: PanelChannelOptions<PageSends>,
): Rpc<HostSends, PageSends> {
  const observers = o.observers;
  return new Rpc<HostSends, PageSends>(
    {
      post: (message) => webview.postMessage(message),
      listen: (receive) => webview.onDidReceiveMessage(receive),
    },
    {
      peer: `the ${PEERS[o.panel]}`,
      limits: PAGE_MESSAGE_LIMITS,
      accept: o.accept,
      onReject: (reason) => o.log.appendLine(reason),
      observe: observers && ((direction, message) => observers.panelMessage({ panel: o.panel, modelId: o.modelId, ...(o.host ? { host: o.host } : {}), direction, message })),
    },
  );
}
