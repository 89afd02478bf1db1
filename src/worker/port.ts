import { parentPort } from 'node:worker_threads';
import type { HostRequest, ResponseMessage, WorkerEvent } from '../shared/protocol';

/**
 * The worker's end of the message channel: one place that answers requests
 * (exactly once, errors as plain strings) and posts events.
 */
const port = parentPort;
if (!port) throw new Error('this module must run in a worker thread');

export function post(event: WorkerEvent, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(event, transfer);
}

export function respond(id: number, result: unknown): void {
  const msg: ResponseMessage = { kind: 'response', id, ok: true, result };
  port!.postMessage(msg);
}

export function fail(id: number, error: unknown): void {
  const msg: ResponseMessage = { kind: 'response', id, ok: false, error: errorText(error) };
  port!.postMessage(msg);
}

/** User-caused errors carry their own one-line message; anything else says it is unexpected. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const userFacing = ['UserError', 'ConfigError', 'DataError', 'DivergenceError', 'CheckpointError'];
    return userFacing.includes(error.name) ? error.message : `internal error: ${error.message}`;
  }
  return String(error);
}

/** Runs `handle` for each request; a throw or rejection becomes the error response. */
export function serve(handle: (msg: HostRequest) => unknown): void {
  port!.on('message', (msg: HostRequest) => {
    Promise.resolve()
      .then(() => handle(msg))
      .then(
        (result) => {
          if (result !== NO_RESPONSE) respond(msg.id, result ?? null);
        },
        (error) => fail(msg.id, error),
      );
  });
}

/** Returned by a handler that responds later by itself (e.g. streamed requests). */
export const NO_RESPONSE = Symbol('no-response');
