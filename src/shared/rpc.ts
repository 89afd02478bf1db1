/**
 * One small RPC class for both ends of every channel: host ↔ trainer worker,
 * host ↔ inference worker, host ↔ each webview (vscode-hexeditor's
 * MessageHandler is the model, vscode-languageserver-node the model for
 * cancellation and dead peers).
 *
 * On the wire a message is its own object, `{kind, ...fields}`: a
 * notification as it is, a request with an `id` added (and, on channels that
 * share memory, `$cancelFlag`, an Int32 in a SharedArrayBuffer). Every request
 * gets exactly one response, `{id, ok: true, result}` or
 * `{id, ok: false, error}`. A pending request rejects on its timeout, when it
 * is cancelled before it was sent, and when the channel closes (the other
 * side died). Cancelling a sent request sets its flag, which the receiver's
 * busy loop reads (`context.token.isCancellationRequested`) without waiting
 * for its event loop, and also posts `{$cancel: id}` for channels without
 * shared memory (webviews). The receiver answers a cancelled request like any
 * other (often with what it has so far, or an error with `cancelled: true`).
 *
 * Incoming messages can be untrusted (webviews): with `limits` their size is
 * checked before anything else, then `accept` validates them; a rejected
 * message is reported through `onReject` (a rejected request is also answered
 * with an error). Pure: no DOM, no Node; the webview bundles import it too.
 */
import { capText, exceedsLimits, preview, type SizeLimits } from './untrusted';

/** A message of a channel: a discriminated union on `kind` (noun/verb). */
export interface Message {
  kind: string;
}

/** What one end of a channel sends: its requests with their results, and its notifications. */
export interface Direction {
  requests: Message;
  /** The result of each request, by its kind. */
  results: object;
  notifications: Message;
}

/** The direction nobody sends anything in. */
export interface Silent {
  requests: never;
  results: Record<never, never>;
  notifications: never;
}

/** The result type of request kind K in direction D. */
export type ResultOf<D extends Direction, K extends string> = K extends keyof D['results'] ? D['results'][K] : never;

/** The request of kind K (an intersection, so a member whose kind is itself a union narrows too). */
export type RequestOf<D extends Direction, K extends D['requests']['kind']> = D['requests'] & { kind: K };

/** How the messages travel: a worker's port, a webview, or a test's pair of queues. */
export interface RpcTransport {
  /** May report delivery (a webview's postMessage resolves to false when the page is gone). */
  post(message: unknown, transfer: ArrayBuffer[]): void | PromiseLike<boolean>;
  listen(receive: (message: unknown) => void): { dispose(): void };
}

/** What a sender passes to cancel a request later (vscode.CancellationToken fits). */
export interface CancellationSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** What a receiver's handler reads to stop early: cheap enough to call once per generated character. */
export interface CancellationFlag {
  readonly isCancellationRequested: boolean;
}

export interface RequestContext {
  readonly id: number;
  readonly token: CancellationFlag;
  /** Buffers of the result to move rather than copy. */
  transfer(buffers: ArrayBuffer[]): void;
}

export interface RequestOptions {
  /** Milliseconds before the request rejects (and is cancelled); 0 = never. Default: the channel's. */
  timeoutMs?: number;
  transfer?: ArrayBuffer[];
  token?: CancellationSignal;
}

export type RpcFailure = 'timeout' | 'closed' | 'cancelled' | 'remote' | 'unsent';

/** Why a request did not resolve; `reason` tells a cancelled request from a real failure. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(readonly reason: RpcFailure, message: string) {
    super(message);
  }

  get cancelled(): boolean {
    return this.reason === 'cancelled';
  }
}

/** Thrown by a handler that stopped because its request was cancelled. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'the request was cancelled') {
    super(message);
  }
}

export type Checked<T> = { ok: true; message: T } | { ok: false; error: string };

export interface RpcOptions<Receives extends Direction> {
  /** The other side in words, for error messages: "the inference worker". */
  peer: string;
  /** Give each cancellable request a SharedArrayBuffer flag (worker channels). */
  sharedCancellation?: boolean;
  /** Default request timeout in ms (60 s); 0 = never. */
  timeoutMs?: number;
  /** Refuse incoming messages larger than this, before anything else looks at them. */
  limits?: SizeLimits;
  /** Validates an incoming request or notification (without its `id`); absent = trusted peer. */
  accept?: (raw: unknown) => Checked<Receives['requests'] | Receives['notifications']>;
  /** Called with the reason of every refused incoming message. */
  onReject?: (reason: string) => void;
  /** The text a handler's error becomes (default: its message). */
  describeError?: (error: unknown) => string;
  /** Sees every notification and request sent and accepted (for logs and tests). */
  observe?: (direction: 'sent' | 'received', message: Message) => void;
}

/** Longest error text a response carries. */
export const MAX_ERROR_CHARS = 2000;

interface Pending {
  kind: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  flag: Int32Array | undefined;
  cancelListener: { dispose(): void } | undefined;
}

class ReceivedToken implements CancellationFlag {
  cancelled = false;
  constructor(private readonly flag: Int32Array | undefined) {}
  get isCancellationRequested(): boolean {
    return this.cancelled || (this.flag !== undefined && Atomics.load(this.flag, 0) !== 0);
  }
}

type Handler<M> = (message: M, context: RequestContext) => unknown;

/** A SharedArrayBuffer-backed flag, or undefined where shared memory is unavailable. */
function createFlag(): Int32Array | undefined {
  return typeof SharedArrayBuffer === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export class Rpc<Sends extends Direction, Receives extends Direction> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests received and not yet answered, with their tokens. */
  private readonly inFlight = new Map<number, ReceivedToken>();
  private requestHandler: Handler<Receives['requests']> | undefined;
  private notificationHandler: ((message: Receives['notifications']) => void) | undefined;
  private readonly subscription: { dispose(): void };
  private closedReason: string | undefined;

  constructor(private readonly transport: RpcTransport, private readonly options: RpcOptions<Receives>) {
    this.subscription = transport.listen((raw) => this.receive(raw));
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Requests sent and not yet settled. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends a request; resolves with its result, rejects with an RpcError. */
  request<K extends Sends['requests']['kind']>(message: RequestOf<Sends, K>, options: RequestOptions = {}): Promise<ResultOf<Sends, K>> {
    const kind = message.kind;
    if (this.closedReason !== undefined) return Promise.reject(new RpcError('closed', this.closedReason));
    if (options.token?.isCancellationRequested) return Promise.reject(new RpcError('cancelled', `${kind} was cancelled`));
    const id = this.nextId++;
    const flag = options.token && this.options.sharedCancellation ? createFlag() : undefined;
    return new Promise<ResultOf<Sends, K>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 60_000;
      const p: Pending = { kind, resolve: resolve as (v: unknown) => void, reject, timer: undefined, flag, cancelListener: undefined };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.cancelRemote(id, p);
          this.settle(id, new RpcError('timeout', `${this.options.peer} did not answer ${kind} within ${formatSeconds(timeoutMs)}`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      p.cancelListener = options.token?.onCancellationRequested(() => this.cancelRemote(id, p));
      const wire: Record<string, unknown> = { ...(message as Message), id };
      if (flag) wire.$cancelFlag = flag.buffer;
      try {
        this.options.observe?.('sent', message);
        const delivered = this.transport.post(wire, options.transfer ?? []);
        if (delivered && typeof delivered.then === 'function') {
          delivered.then(
            (ok) => {
              if (!ok) this.settle(id, new RpcError('closed', `${this.options.peer} is gone`));
            },
            (e: unknown) => this.settle(id, new RpcError('unsent', `could not send ${kind}: ${describe(e)}`)),
          );
        }
      } catch (e) {
        this.settle(id, new RpcError('unsent', `could not send ${kind}: ${describe(e)}`));
      }
    });
  }

  /** Sends a notification (no response); resolves to false when the other side is known to be gone. */
  notify(message: Sends['notifications'], transfer: ArrayBuffer[] = []): Promise<boolean> {
    if (this.closedReason !== undefined) return Promise.resolve(false);
    this.options.observe?.('sent', message);
    const delivered = this.transport.post(message, transfer);
    return delivered && typeof delivered.then === 'function' ? Promise.resolve(delivered) : Promise.resolve(true);
  }

  /**
   * Answers every request: the handler's return value (or what its promise
   * resolves to) is the result, a throw or rejection the error. One handler,
   * so it can `switch (message.kind)` with an exhaustiveness check.
   */
  onRequest(handler: Handler<Receives['requests']>): void {
    this.requestHandler = handler;
  }

  onNotification(handler: (message: Receives['notifications']) => void): void {
    this.notificationHandler = handler;
  }

  /** The other side is gone (or we are shutting down): every pending request rejects with `reason`. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.subscription.dispose();
    for (const id of [...this.pending.keys()]) this.settle(id, new RpcError('closed', reason));
    for (const token of this.inFlight.values()) token.cancelled = true;
    this.inFlight.clear();
  }

  private cancelRemote(id: number, p: Pending): void {
    if (!this.pending.has(id)) return;
    if (p.flag) Atomics.store(p.flag, 0, 1);
    try {
      this.transport.post({ $cancel: id }, []);
    } catch {
      // The peer is gone; the close that follows settles the request.
    }
  }

  private settle(id: number, outcome: { value: unknown } | Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.cancelListener?.dispose();
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome.value);
  }

  private reject(reason: string): void {
    this.options.onReject?.(reason);
  }

  private receive(raw: unknown): void {
    if (this.closedReason !== undefined) return;
    const { limits } = this.options;
    if (limits) {
      const tooBig = exceedsLimits(raw, limits);
      if (tooBig) {
        // Only the id is read of an oversized message, to answer it if it was a request.
        const id = isRecord(raw) && isId(raw.id) && typeof raw.kind === 'string' ? raw.id : undefined;
        this.reject(`ignored a message from ${this.options.peer}: it holds ${tooBig}`);
        if (id !== undefined && !this.inFlight.has(id)) {
          this.inFlight.set(id, new ReceivedToken(undefined));
          this.respondError(id, `the message holds ${tooBig}`);
        }
        return;
      }
    }
    if (!isRecord(raw)) {
      this.reject(`ignored a message from ${this.options.peer}: not an object: ${preview(raw)}`);
      return;
    }
    if (typeof raw.kind === 'string') {
      if ('id' in raw) this.receiveRequest(raw);
      else this.receiveNotification(raw);
      return;
    }
    if (isId(raw.id) && typeof raw.ok === 'boolean') {
      this.receiveResponse(raw);
      return;
    }
    if (isId(raw.$cancel)) {
      const token = this.inFlight.get(raw.$cancel);
      if (token) token.cancelled = true;
      return;
    }
    this.reject(`ignored a message from ${this.options.peer}: neither a message, a response nor a cancellation: ${preview(raw)}`);
  }

  private receiveResponse(raw: Record<string, unknown>): void {
    const id = raw.id as number;
    if (!this.pending.has(id)) return; // Answered late (after its timeout) or twice: the first outcome stands.
    const kind = this.pending.get(id)!.kind;
    if (raw.ok === true) {
      this.settle(id, { value: raw.result });
      return;
    }
    const text = typeof raw.error === 'string' ? capText(raw.error, MAX_ERROR_CHARS) : `${this.options.peer} failed ${kind}`;
    this.settle(id, new RpcError(raw.cancelled === true ? 'cancelled' : 'remote', text));
  }

  private accept(body: Record<string, unknown>): Checked<Receives['requests'] | Receives['notifications']> {
    if (!this.options.accept) return { ok: true, message: body as unknown as Receives['requests'] };
    return this.options.accept(body);
  }

  private receiveNotification(raw: Record<string, unknown>): void {
    const checked = this.accept(raw);
    if (!checked.ok) {
      this.reject(checked.error);
      return;
    }
    this.options.observe?.('received', checked.message);
    if (!this.notificationHandler) {
      this.reject(`ignored ${preview(raw.kind)} from ${this.options.peer}: nothing listens to notifications`);
      return;
    }
    try {
      this.notificationHandler(checked.message as Receives['notifications']);
    } catch (e) {
      this.reject(`failed to handle ${preview(raw.kind)}: ${this.errorText(e)}`);
    }
  }

  private receiveRequest(raw: Record<string, unknown>): void {
    const { id, $cancelFlag, ...body } = raw;
    if (!isId(id)) {
      this.reject(`ignored a request from ${this.options.peer}: its id is ${preview(id)}`);
      return;
    }
    if (this.inFlight.has(id)) {
      this.reject(`ignored a request from ${this.options.peer}: request ${id} is already being answered`);
      return;
    }
    // A page without cross-origin isolation has no SharedArrayBuffer at all (not even the name).
    const shared = typeof SharedArrayBuffer === 'function' && $cancelFlag instanceof SharedArrayBuffer && $cancelFlag.byteLength >= 4;
    const flag = shared ? new Int32Array($cancelFlag as SharedArrayBuffer, 0, 1) : undefined;
    const token = new ReceivedToken(flag);
    this.inFlight.set(id, token);
    const checked = this.accept(body);
    if (!checked.ok) {
      this.reject(checked.error);
      this.respondError(id, checked.error);
      return;
    }
    const handler = this.requestHandler;
    if (!handler) {
      this.respondError(id, `no handler answers ${preview(body.kind)} on this channel`);
      return;
    }
    this.options.observe?.('received', checked.message);
    const transfer: ArrayBuffer[] = [];
    const context: RequestContext = { id, token, transfer: (buffers) => transfer.push(...buffers) };
    let result: unknown;
    try {
      result = handler(checked.message as Receives['requests'], context);
    } catch (e) {
      this.respondError(id, this.errorText(e), e instanceof CancelledError);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.respond(id, value ?? null, transfer),
      (e: unknown) => this.respondError(id, this.errorText(e), e instanceof CancelledError),
    );
  }

  private errorText(e: unknown): string {
    const text = this.options.describeError ? this.options.describeError(e) : e instanceof Error ? e.message : String(e);
    return capText(text, MAX_ERROR_CHARS);
  }

  /** Sends the one response of request `id`; false when it was already answered or the channel closed. */
  private claim(id: number): boolean {
    return this.inFlight.delete(id) && this.closedReason === undefined;
  }

  private respond(id: number, result: unknown, transfer: ArrayBuffer[]): void {
    if (!this.claim(id)) return;
    try {
      this.transport.post({ id, ok: true, result }, transfer);
    } catch (e) {
      // A result that cannot be posted (not cloneable) still gets its one answer.
      try {
        this.transport.post({ id, ok: false, error: `could not send the result: ${describe(e)}` }, []);
      } catch {
        // The peer is gone.
      }
    }
  }

  private respondError(id: number, error: string, cancelled = false): void {
    if (!this.claim(id)) return;
    try {
      this.transport.post({ id, ok: false, error, ...(cancelled ? { cancelled: true } : {}) }, []);
    } catch {
      // The peer is gone.
    }
  }
}

function describe(e: unknown): string {
  return capText(e instanceof Error ? e.message : String(e), 200);
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Compile-time exhaustiveness for every `switch (msg.kind)`; at run time, a clear error with a capped echo. */
export function assertNever(x: never, what = 'message'): never {
  const kind = isRecord(x) ? (x as Record<string, unknown>).kind : x;
  throw new Error(`unexpected ${what}: ${preview(kind)}`);
}
