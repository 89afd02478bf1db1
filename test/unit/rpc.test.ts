/**
 * The Rpc class both ends of every channel use: the response union, exactly
 * one response per request, timeouts, a dead peer, cancellation (a shared
 * flag a busy loop reads, in a real worker thread), and untrusted input
 * refused by size before anything else looks at it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { CancelledError, Rpc, RpcError, type CancellationSignal, type Checked, type RpcTransport } from '../../src/shared/rpc';
import { exceedsLimits, preview } from '../../src/shared/untrusted';
import type { BusyHostSends, BusyWorkerSends } from './helpers/rpcBusyProtocol';

interface Echo {
  kind: 'test/echo';
  value: unknown;
}
interface Fail {
  kind: 'test/fail';
  how: 'throw' | 'reject' | 'cancelled' | 'unclonable';
}
interface Hang {
  kind: 'test/hang';
}
interface Note {
  kind: 'test/note';
  text: string;
}

interface ClientSends {
  requests: Echo | Fail | Hang;
  results: { 'test/echo': unknown; 'test/fail': never; 'test/hang': never };
  notifications: Note;
}
interface ServerSends {
  requests: never;
  results: Record<never, never>;
  notifications: Note;
}

/** Two ends joined in one thread: messages are structured-cloned (SharedArrayBuffers stay shared) and delivered asynchronously; every message is recorded. */
function pair() {
  const wire: { from: 'client' | 'server'; message: Record<string, unknown> }[] = [];
  const listeners = { client: [] as ((m: unknown) => void)[], server: [] as ((m: unknown) => void)[] };
  const end = (me: 'client' | 'server'): RpcTransport => ({
    post(message) {
      const copy = structuredClone(message);
      wire.push({ from: me, message: copy as Record<string, unknown> });
      setImmediate(() => {
        for (const l of listeners[me === 'client' ? 'server' : 'client']) l(copy);
      });
    },
    listen(receive) {
      listeners[me].push(receive);
      return { dispose: () => listeners[me].splice(listeners[me].indexOf(receive), 1) };
    },
  });
  return { wire, client: end('client'), server: end('server') };
}

function serving() {
  const { wire, client: ct, server: st } = pair();
  const client = new Rpc<ClientSends, ServerSends>(ct, { peer: 'the server', sharedCancellation: true });
  const server = new Rpc<ServerSends, ClientSends>(st, { peer: 'the client', sharedCancellation: true });
  const hanging: { token: { isCancellationRequested: boolean } }[] = [];
  server.onRequest((msg, context) => {
    switch (msg.kind) {
      case 'test/echo':
        return msg.value;
      case 'test/fail':
        if (msg.how === 'throw') throw new Error('thrown at once');
        if (msg.how === 'cancelled') throw new CancelledError();
        if (msg.how === 'unclonable') return { f: () => 1 };
        return Promise.reject(new Error('rejected later'));
      case 'test/hang':
        hanging.push(context);
        return new Promise(() => undefined);
    }
  });
  return { wire, client, server, hanging };
}

function responses(wire: { from: string; message: Record<string, unknown> }[], id: number) {
  return wire.filter((w) => w.from === 'server' && w.message.id === id && 'ok' in w.message).map((w) => w.message);
}

function manualToken(): { token: CancellationSignal; cancel(): void } {
  let cancelled = false;
  const listeners = new Set<() => void>();
  return {
    token: {
      get isCancellationRequested() {
        return cancelled;
      },
      onCancellationRequested(l) {
        listeners.add(l);
        return { dispose: () => listeners.delete(l) };
      },
    },
    cancel() {
      cancelled = true;
      for (const l of listeners) l();
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

/** The busy worker, bundled once (a worker thread cannot load TypeScript by itself). */
const busyWorkerScript = (() => {
  let file: string | undefined;
  return () => {
    if (file) return file;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-rpc-'));
    file = path.join(dir, 'busy-worker.js');
    buildSync({ entryPoints: [path.join(__dirname, 'helpers', 'rpcBusyWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: file, logLevel: 'error' });
    return file;
  };
})();

/** A started busy worker and the host's end of its channel; resolves once the worker answers. */
async function busyWorker(): Promise<{ worker: Worker; rpc: Rpc<BusyHostSends, BusyWorkerSends> }> {
  const worker = new Worker(busyWorkerScript());
  const rpc = new Rpc<BusyHostSends, BusyWorkerSends>(
    {
      post: (m, t) => worker.postMessage(m, t),
      listen: (r) => {
        worker.on('message', r);
        return { dispose: () => worker.off('message', r) };
      },
    },
    { peer: 'the busy worker', sharedCancellation: true },
  );
  worker.on('exit', (code) => rpc.close(`the busy worker exited with code ${code}`));
  assert.equal((await rpc.request({ kind: 'busy/spin', maxMs: 1 }, { timeoutMs: 30_000 })).cancelled, false, 'the worker is up');
  return { worker, rpc };
}

describe('Rpc: responses', () => {
  it('answers with {id, ok: true, result} or {id, ok: false, error}, and the promise follows', async () => {
    const { wire, client } = serving();
    assert.deepEqual(await client.request({ kind: 'test/echo', value: { a: [1, 2] } }), { a: [1, 2] });
    const request = wire.find((w) => w.from === 'client')!.message;
    assert.equal(request.kind, 'test/echo');
    assert.equal(typeof request.id, 'number');
    assert.deepEqual(responses(wire, request.id as number), [{ id: request.id, ok: true, result: { a: [1, 2] } }]);
    await assert.rejects(client.request({ kind: 'test/fail', how: 'throw' }), (e: unknown) => e instanceof RpcError && e.reason === 'remote' && e.message === 'thrown at once');
    const failed = wire.filter((w) => w.from === 'server').at(-1)!.message;
    assert.deepEqual(Object.keys(failed).sort(), ['error', 'id', 'ok']);
    assert.equal(failed.ok, false);
  });

  it('sends exactly one response per request, however the handler ends', async () => {
    const { wire, client } = serving();
    const outcomes = await Promise.allSettled([
      client.request({ kind: 'test/echo', value: 1 }),
      client.request({ kind: 'test/echo', value: undefined }),
      client.request({ kind: 'test/fail', how: 'throw' }),
      client.request({ kind: 'test/fail', how: 'reject' }),
      client.request({ kind: 'test/fail', how: 'cancelled' }),
      client.request({ kind: 'test/fail', how: 'unclonable' }),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'rejected']);
    const ids = wire.filter((w) => w.from === 'client').map((w) => w.message.id as number);
    assert.equal(ids.length, 6);
    for (const id of ids) assert.equal(responses(wire, id).length, 1, `request ${id}`);
    const reasons = outcomes.slice(2).map((o) => (o.status === 'rejected' ? (o.reason as RpcError).reason : ''));
    assert.deepEqual(reasons, ['remote', 'remote', 'cancelled', 'remote']);
    assert.match((outcomes[5] as PromiseRejectedResult).reason.message, /could not send the result/);
  });

  it('keeps the first outcome when a peer answers twice or answers a request it was never sent', async () => {
    const { client: ct, server: st } = pair();
    const client = new Rpc<ClientSends, ServerSends>(ct, { peer: 'the server' });
    const seen: unknown[] = [];
    st.listen((m) => seen.push(m));
    const p = client.request({ kind: 'test/echo', value: 0 });
    await tick();
    const id = (seen[0] as { id: number }).id;
    st.post({ id: id + 100, ok: true, result: 'stray' }, []);
    st.post({ id, ok: true, result: 'first' }, []);
    st.post({ id, ok: false, error: 'second' }, []);
    assert.equal(await p, 'first');
    await tick();
    assert.equal(client.pendingCount, 0);
  });
});

describe('Rpc: timeouts and dead peers', () => {
  it('rejects a request that is not answered in time, and cancels it on the other side', async () => {
    const { client, hanging } = serving();
    const t0 = performance.now();
    await assert.rejects(client.request({ kind: 'test/hang' }, { timeoutMs: 50 }), (e: unknown) => e instanceof RpcError && e.reason === 'timeout' && /did not answer test\/hang within 50 ms/.test(e.message));
    assert.ok(performance.now() - t0 < 1000);
    await tick();
    assert.equal(hanging[0]!.token.isCancellationRequested, true, 'the handler sees the cancellation');
    assert.equal(client.pendingCount, 0);
  });

  it('rejects every pending request when the channel closes, and every later one at once', async () => {
    const { client } = serving();
    const a = client.request({ kind: 'test/hang' }, { timeoutMs: 0 });
    const b = client.request({ kind: 'test/hang' }, { timeoutMs: 0 });
    await tick();
    client.close('the server exited with code 1');
    for (const p of [a, b]) await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.reason === 'closed' && e.message === 'the server exited with code 1');
    await assert.rejects(client.request({ kind: 'test/echo', value: 1 }), /exited with code 1/);
    assert.equal(await client.notify({ kind: 'test/note', text: 'x' }), false);
  });

  it('rejects when the transport says the other side is gone (a disposed webview)', async () => {
    const client = new Rpc<ClientSends, ServerSends>({ post: () => Promise.resolve(false), listen: () => ({ dispose() {} }) }, { peer: 'the page' });
    await assert.rejects(client.request({ kind: 'test/echo', value: 1 }), (e: unknown) => e instanceof RpcError && e.reason === 'closed');
  });

  it('rejects with the peer named when a real worker thread dies mid-request', async () => {
    const { worker, rpc } = await busyWorker();
    const pending = rpc.request({ kind: 'busy/spin', maxMs: 10_000 }, { timeoutMs: 0 });
    await new Promise((r) => setTimeout(r, 300));
    await worker.terminate();
    await assert.rejects(pending, /the busy worker exited with code 1/);
  });
});

describe('Rpc: cancellation', () => {
  const workers: Worker[] = [];
  after(async () => {
    for (const w of workers) await w.terminate();
  });

  it('a busy loop in a worker sees the shared flag and stops long before its deadline', async () => {
    const { worker, rpc } = await busyWorker();
    workers.push(worker);
    const { token, cancel } = manualToken();
    const t0 = performance.now();
    const running = rpc.request({ kind: 'busy/spin', maxMs: 20_000 }, { timeoutMs: 0, token });
    setTimeout(cancel, 200);
    const r = await running;
    const elapsed = performance.now() - t0;
    assert.equal(r.cancelled, true);
    assert.ok(r.spins > 0);
    // The loop never yields, so only the shared flag can have stopped it; it ran about 200 ms, not 20 s.
    assert.ok(r.ms < 5_000 && elapsed < 5_000, `spun ${Math.round(r.ms)} ms, answered after ${Math.round(elapsed)} ms`);
  });

  it('without shared memory, the cancellation arrives as a message', async () => {
    const { client: ct, server: st } = pair();
    const client = new Rpc<ClientSends, ServerSends>(ct, { peer: 'the server' });
    const server = new Rpc<ServerSends, ClientSends>(st, { peer: 'the client' });
    let seen: { isCancellationRequested: boolean } | undefined;
    server.onRequest(async (_msg, { token }) => {
      seen = token;
      while (!token.isCancellationRequested) await tick();
      throw new CancelledError();
    });
    const { token, cancel } = manualToken();
    const p = client.request({ kind: 'test/hang' }, { token, timeoutMs: 0 });
    await tick();
    await tick();
    assert.equal(seen?.isCancellationRequested, false);
    cancel();
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.cancelled);
  });

  it('a request cancelled before it is sent is never sent', async () => {
    const { wire, client } = serving();
    const { token, cancel } = manualToken();
    cancel();
    await assert.rejects(client.request({ kind: 'test/echo', value: 1 }, { token }), (e: unknown) => e instanceof RpcError && e.cancelled);
    assert.equal(wire.length, 0);
  });
});

describe('Rpc: untrusted input', () => {
  const limits = { maxNodes: 10_000, maxChars: 1_000_000, maxDepth: 8 };
  const accept = (raw: unknown): Checked<Note> => {
    const m = raw as Record<string, unknown>;
    return m.kind === 'test/note' && typeof m.text === 'string' && Object.keys(m).length === 2
      ? { ok: true, message: { kind: 'test/note', text: m.text } }
      : { ok: false, error: `ignored a message from the page: bad ${preview(m.kind)}` };
  };

  function untrusted() {
    const { client: pageEnd, server: hostEnd } = pair();
    const rejected: string[] = [];
    const received: Note[] = [];
    const host = new Rpc<ServerSends, { requests: Echo; results: { 'test/echo': unknown }; notifications: Note }>(hostEnd, {
      peer: 'the page',
      limits,
      accept: (raw) => ((raw as { kind?: unknown }).kind === 'test/echo' ? { ok: true, message: raw as Echo } : accept(raw)),
      onReject: (r) => rejected.push(r),
    });
    host.onNotification((n) => received.push(n));
    host.onRequest((m) => (m.kind === 'test/echo' ? 'echoed' : null));
    return { pageEnd, rejected, received, host };
  }

  it('refuses a 5-million-element message by its size, in far less time than serialising it takes', async () => {
    const { pageEnd, rejected, received } = untrusted();
    const huge = { kind: 'test/note', text: 'x', extra: new Array(5_000_000).fill(1.5) };
    const t0 = performance.now();
    assert.match(exceedsLimits(huge, limits) ?? '', /an array of 5000000 elements/);
    const measured = performance.now() - t0;
    assert.ok(measured < 20, `${measured} ms`);
    pageEnd.post(huge, []);
    await tick();
    await tick();
    assert.deepEqual(received, []);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /^ignored a message from the page: it holds an array of 5000000 elements/);
    assert.ok(rejected[0]!.length < 200);
  });

  it('answers an oversized or invalid request with an error, and caps what it echoes', async () => {
    const { pageEnd, rejected } = untrusted();
    const answers: Record<string, unknown>[] = [];
    pageEnd.listen((m) => answers.push(m as Record<string, unknown>));
    pageEnd.post({ kind: 'test/echo', id: 1, value: 'y'.repeat(2_000_000) }, []);
    pageEnd.post({ kind: 'k'.repeat(100_000), id: 2 }, []);
    pageEnd.post({ kind: 'test/echo', id: 3, value: 1 }, []);
    for (let i = 0; i < 4; i++) await tick();
    assert.deepEqual(answers.map((a) => [a.id, a.ok]), [[1, false], [2, false], [3, true]]);
    assert.match(answers[0]!.error as string, /more than 1000000 characters/);
    for (const r of rejected) assert.ok(r.length < 300, `capped: ${r.length} characters`);
  });

  it('passes a valid notification on, without its envelope', async () => {
    const { pageEnd, received } = untrusted();
    pageEnd.post({ kind: 'test/note', text: 'hello' }, []);
    await tick();
    await tick();
    assert.deepEqual(received, [{ kind: 'test/note', text: 'hello' }]);
  });
});
