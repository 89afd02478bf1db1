/**
 * Typed messaging with the extension host: the page's end of the panel's Rpc
 * (src/shared/rpc.ts, the same class the host's end uses). `acquireVsCodeApi`
 * may be called once per page; this module calls it and hands out one typed
 * channel. Messages from the host are checked too (`check`): a malformed one
 * is ignored, and reported back to the host as `panel/error` so it is logged.
 */
import type { PanelErrorMessage } from '../../src/shared/panelProtocol';
import { Rpc, type Message } from '../../src/shared/rpc';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export type Check<T> = (raw: unknown) => { ok: true; message: T } | { ok: false; error: string };

export interface HostChannel<In, Out, State> {
  post(message: Out | PanelErrorMessage): void;
  /** Called for every valid message from the host. */
  onMessage(handler: (message: In) => void): void;
  getState(): Partial<State> | undefined;
  setState(state: State): void;
  /** Reasons of rejected host messages and page errors (tests read them). */
  readonly errors: string[];
  reportError(message: string): void;
}

/** A channel direction that carries only notifications of type N. */
interface Notifications<N extends Message> {
  requests: never;
  results: Record<never, never>;
  notifications: N;
}

export function connect<In extends Message, Out extends Message, State>(check: Check<In>): HostChannel<In, Out, State> {
  const api = acquireVsCodeApi();
  const errors: string[] = [];
  const rpc = new Rpc<Notifications<Out | PanelErrorMessage>, Notifications<In>>(
    {
      post: (message) => api.postMessage(message),
      listen: (receive) => {
        const listener = (event: MessageEvent): void => receive(event.data);
        window.addEventListener('message', listener);
        return { dispose: () => window.removeEventListener('message', listener) };
      },
    },
    { peer: 'the host', accept: check, onReject: (reason) => reportError(reason) },
  );
  function reportError(message: string): void {
    errors.push(message);
    void rpc.notify({ kind: 'panel/error', message: message.slice(0, 2000) });
  }
  window.addEventListener('error', (e) => reportError(`page error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => reportError(`page error: ${String((e as PromiseRejectionEvent).reason)}`));
  return {
    post: (m) => void rpc.notify(m),
    onMessage: (handler) => rpc.onNotification(handler),
    getState: () => {
      const s = api.getState();
      return typeof s === 'object' && s !== null ? (s as Partial<State>) : undefined;
    },
    setState: (s) => api.setState(s),
    errors,
    reportError,
  };
}

/** Helpers for checkers: arrays of finite numbers (or null for gaps). */
export function isNumberArray(x: unknown, allowNull = false): x is number[] {
  return Array.isArray(x) && x.every((v) => (typeof v === 'number' && Number.isFinite(v)) || (allowNull && v === null));
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
