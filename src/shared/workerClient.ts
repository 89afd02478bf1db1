import { Worker } from 'node:worker_threads';
import type { HostToInference, InferenceEvent, InferenceToHost } from './inferenceProtocol';
import { Rpc, type Direction, type RequestOf, type RequestOptions, type ResultOf } from './rpc';
import type { ExperimentEvent, ExperimentToHost, HostToExperiment } from './experimentProtocol';
import type { HostToTrainer, TrainerEvent, TrainerToHost } from './trainerProtocol';

/**
 * The host's end of a worker thread: one Rpc per thread (typed requests that
 * each resolve or reject exactly once, on the response, a timeout, a
 * cancellation or the thread's death) and the worker's events for whoever
 * listens. The thread starts at the first request and again after a death.
 */
export class WorkerClient<Sends extends Direction, Receives extends Direction> {
  private worker: Worker | null = null;
  private rpc: Rpc<Sends, Receives> | null = null;
  private disposed = false;

  constructor(
    private readonly script: string,
    private readonly onEvent: (event: Receives['notifications']) => void,
    /** Called when the worker died; not after dispose(). */
    private readonly onDeath: (reason: string) => void,
    /** The thread in words for messages: "the inference worker". */
    private readonly peer = 'the worker',
  ) {}

  /** Started lazily: a worker costs memory, and most sessions never train. */
  private ensure(): Rpc<Sends, Receives> {
    if (this.rpc) return this.rpc;
    const worker = new Worker(this.script);
    const rpc = new Rpc<Sends, Receives>(
      {
        post: (message, transfer) => worker.postMessage(message, transfer),
        listen: (receive) => {
          worker.on('message', receive);
          return { dispose: () => worker.off('message', receive) };
        },
      },
      { peer: this.peer, sharedCancellation: true, onReject: (reason) => logRejected(reason) },
    );
    rpc.onNotification((event) => this.onEvent(event));
    worker.on('error', (err) => this.died(worker, `${this.peer} crashed: ${err.message}`));
    worker.on('exit', (code) => this.died(worker, `${this.peer} exited with code ${code}`));
    this.worker = worker;
    this.rpc = rpc;
    return rpc;
  }

  get running(): boolean {
    return this.worker !== null;
  }

  request<K extends Sends['requests']['kind']>(message: RequestOf<Sends, K>, options: RequestOptions = {}): Promise<ResultOf<Sends, K>> {
    if (this.disposed) return Promise.reject(new Error(`${this.peer} has been shut down`));
    return this.ensure().request(message, options);
  }

  private died(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    worker.removeAllListeners();
    this.worker = null;
    const rpc = this.rpc;
    this.rpc = null;
    rpc?.close(reason);
    if (!this.disposed) this.onDeath(reason);
  }

  /** Stops the thread; pending requests reject. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    if (!worker) return;
    this.died(worker, `${this.peer} was shut down`);
    await worker.terminate();
  }
}

/** A malformed message from our own worker is a bug: keep a trace of it. */
function logRejected(reason: string): void {
  console.error(`RNN Lab: ${reason}`);
}

export type TrainerClient = WorkerClient<HostToTrainer, TrainerToHost>;
export type InferenceClient = WorkerClient<HostToInference, InferenceToHost>;

/** The host's end of a trainer worker running `script`. */
export function trainerClient(script: string, onEvent: (event: TrainerEvent) => void, onDeath: (reason: string) => void): TrainerClient {
  return new WorkerClient(script, onEvent, onDeath);
}

/** The host's end of the inference worker running `script`. */
export function inferenceClient(script: string, onEvent: (event: InferenceEvent) => void, onDeath: (reason: string) => void): InferenceClient {
  return new WorkerClient(script, onEvent, onDeath, 'the inference worker');
}

export type ExperimentClient = WorkerClient<HostToExperiment, ExperimentToHost>;

/** The host's end of an experiment worker running `script`. */
export function experimentClient(script: string, onEvent: (event: ExperimentEvent) => void, onDeath: (reason: string) => void): ExperimentClient {
  return new WorkerClient(script, onEvent, onDeath, 'the experiment worker');
}
