import type * as vscode from 'vscode';
import type { Message } from '../shared/rpc';

/** The panel channels: the loss chart, the gradient flow, the Hidden States view, the Experiment panel. */
export type PanelChannel = 'loss' | 'gradflow' | 'hidden' | 'experiment';

export interface PanelMessageEvent {
  panel: PanelChannel;
  /** The model whose panel it is (the Hidden States view has none). */
  modelId: string | undefined;
  /** Which page of a channel shown in two places (the Hidden States view: the side bar's, or the editor panel's). */
  host?: 'view' | 'panel';
  /** Sent to the page, or received from it and accepted. */
  direction: 'sent' | 'received';
  message: Message;
}

/**
 * Something that watches what the extension shows the user and what its
 * panels exchange (the integration tests register one through the API's
 * `observe`). Every method is optional.
 */
export interface RnnLabObserver {
  /** An error message was shown to the user (the text without the "RNN Lab:" prefix). */
  errorShown?(message: string): void;
  panelMessage?(event: PanelMessageEvent): void;
}

/** The observers registered now; none in normal use, so each call is a loop over nothing. */
export class Observers {
  private readonly list = new Set<RnnLabObserver>();

  add(observer: RnnLabObserver): vscode.Disposable {
    this.list.add(observer);
    return { dispose: () => this.list.delete(observer) };
  }

  errorShown(message: string): void {
    for (const o of this.list) o.errorShown?.(message);
  }

  panelMessage(event: PanelMessageEvent): void {
    for (const o of this.list) o.panelMessage?.(event);
  }
}
