import { parentPort } from 'node:worker_threads';
import type { HostToInference, InferenceToHost } from '../shared/inferenceProtocol';
import { Rpc, type Direction, type RequestContext } from '../shared/rpc';
import type { ExperimentToHost, HostToExperiment } from '../shared/experimentProtocol';
import type { HostToTrainer, TrainerToHost } from '../shared/trainerProtocol';

/**
 * The worker's end of its channel to the host: one Rpc over `parentPort`
 * (answers each request exactly once, errors as one-line strings, reads the
 * cancellation flags the host shares) and thin `serve` / `post` wrappers.
 */
const port = parentPort;
if (!port) throw new Error('this module must run in a worker thread');

/** User-caused errors carry their own one-line message; anything else says it is unexpected. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const userFacing = ['UserError', 'ConfigError', 'DataError', 'DivergenceError', 'CheckpointError', 'CancelledError'];
    return userFacing.includes(error.name) ? error.message : `internal error: ${error.message}`;
  }
  return String(error);
}

/** A worker runs one of the channels; which one is fixed by the entry point that calls serve. */
type WorkerSends = TrainerToHost | InferenceToHost | ExperimentToHost;
type WorkerReceives = HostToTrainer | HostToInference | HostToExperiment;

const rpc = new Rpc<WorkerSends, WorkerReceives>(
  {
    post: (message, transfer) => port!.postMessage(message, transfer),
    listen: (receive) => {
      port!.on('message', receive);
      return { dispose: () => port!.off('message', receive) };
    },
  },
  { peer: 'the host', sharedCancellation: true, describeError: errorText },
);

/** The worker's end, typed for its channel. */
export function channel<Sends extends Direction, Receives extends Direction>(): Rpc<Sends, Receives> {
  return rpc as unknown as Rpc<Sends, Receives>;
}

/** Posts an event to the host. */
export function post(event: WorkerSends['notifications'], transfer: ArrayBuffer[] = []): void {
  void rpc.notify(event, transfer);
}

/** Runs `handle` for each request; its value (or promise) is the response, a throw or rejection the error. */
export function serve<Request extends WorkerReceives['requests']>(handle: (msg: Request, context: RequestContext) => unknown): void {
  rpc.onRequest(handle as (msg: WorkerReceives['requests'], context: RequestContext) => unknown);
}
