/**
 * A worker for the Rpc tests: answers `busy/spin` with a busy loop that
 * never yields to the event loop and stops only when the request's
 * cancellation flag is set (or after `maxMs`), as the inference worker's
 * generation loop does.
 */
import { parentPort } from 'node:worker_threads';
import { assertNever, Rpc } from '../../../src/shared/rpc';
import type { BusyHostSends, BusyWorkerSends } from './rpcBusyProtocol';

const port = parentPort!;
const rpc = new Rpc<BusyWorkerSends, BusyHostSends>(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    listen: (receive) => {
      port.on('message', receive);
      return { dispose: () => port.off('message', receive) };
    },
  },
  { peer: 'the test', sharedCancellation: true },
);

rpc.onRequest((msg, { token }) => {
  switch (msg.kind) {
    case 'busy/spin': {
      const start = performance.now();
      let spins = 0;
      while (!token.isCancellationRequested && performance.now() - start < msg.maxMs) spins++;
      return { spins, cancelled: token.isCancellationRequested, ms: performance.now() - start };
    }
    default:
      return assertNever(msg.kind, 'request');
  }
});
