import { Worker } from 'node:worker_threads';
import type { HostRequest, ResponseMessage, ResultOf, WorkerEvent, WorkerMessage } from './protocol';

// The intersection (not Extract) also narrows TrainControlRequest, whose kind is itself a union.
type RequestBody<K extends HostRequest['kind']> = DistributiveOmit<HostRequest & { kind: K }, 'id'>;
type DistributiveOmit<T, Key extends PropertyKey> = T extends unknown ? Omit<T, Key> : never;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The host's end of a worker thread: typed requests that each resolve or
 * reject exactly once (on the response, a timeout, or the worker's death),
 * and events for whoever listens.
 */
export class WorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed = false;

  constructor(
    private readonly script: string,
    private readonly onEvent: (event: WorkerEvent) => void,
    /** Called when the worker died with requests or work in flight; not after dispose(). */
    private readonly onDeath: (reason: string) => void,
  ) {}

  /** Started lazily: a worker costs memory, and most sessions never train. */
  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.on('message', (msg: WorkerMessage) => this.receive(msg));
    worker.on('error', (err) => this.died(`the worker crashed: ${err.message}`));
    worker.on('exit', (code) => this.died(`the worker exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  get running(): boolean {
    return this.worker !== null;
  }

  request<K extends HostRequest['kind']>(
    body: RequestBody<K> & { kind: K },
    options: { timeoutMs?: number; transfer?: ArrayBuffer[] } = {},
  ): Promise<ResultOf[K]> {
    if (this.disposed) return Promise.reject(new Error('the worker has been shut down'));
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<ResultOf[K]>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timer = timeoutMs > 0
        ? setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`the worker did not answer ${body.kind} within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs)
        : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ ...body, id }, options.transfer ?? []);
    });
  }

  /** The id the next request will get (for cancelling a streamed request). */
  peekNextId(): number {
    return this.nextId;
  }

  private receive(msg: WorkerMessage): void {
    if (msg.kind === 'response') {
      this.settle(msg);
      return;
    }
    this.onEvent(msg);
  }

  private settle(msg: ResponseMessage): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (p.timer) clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error ?? 'the worker reported an error'));
  }

  private died(reason: string): void {
    if (!this.worker) return;
    this.worker.removeAllListeners();
    this.worker = null;
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new Error(reason));
      this.pending.delete(id);
    }
    if (!this.disposed) this.onDeath(reason);
  }

  /** Stops the thread; pending requests reject. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    if (!worker) return;
    this.died('the worker was shut down');
    await worker.terminate();
  }
}
