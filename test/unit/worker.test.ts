/**
 * The worker threads as the extension host drives them: real threads running
 * the built bundles, spoken to through WorkerClient and the protocol.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { decodeCheckpoint, DEFAULT_TRAIN, encodeCheckpoint, type TrainConfig } from '../../src/engine';
import { inferenceClient, trainerClient, type InferenceClient, type TrainerClient } from '../../src/shared/workerClient';
import type { InferenceEvent } from '../../src/shared/inferenceProtocol';
import type { CancellationSignal } from '../../src/shared/rpc';
import type { TrainerEvent, TrainStartRequest } from '../../src/shared/trainerProtocol';

const root = path.resolve(__dirname, '..', '..');
const TRAINER = path.join(root, 'dist', 'trainer-worker.js');
const INFERENCE = path.join(root, 'dist', 'inference-worker.js');

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);

function startRequest(overrides: Partial<TrainStartRequest> = {}, train: Partial<TrainConfig> = {}): TrainStartRequest {
  return {
    kind: 'train/start',
    runId: 'run-1',
    text: TEXT,
    model: { cell: 'lstm', activation: 'tanh', hidden: 16, layers: 1 },
    train: { ...DEFAULT_TRAIN, batch: 4, seq: 16, lr: 1e-2, valFraction: 0.1, ...train },
    maxSteps: 40,
    maxMinutes: 0,
    valEvery: 20,
    checkpointSeconds: 3600,
    maxMemoryBytes: 1024 ** 3,
    metadata: { name: 'test' },
    ...overrides,
  };
}

/** A client that records events and lets a test wait for one. */
function recording<WorkerEvent extends { kind: string }, Client>(
  make: (onEvent: (e: WorkerEvent) => void, onDeath: (reason: string) => void) => Client,
) {
  const events: WorkerEvent[] = [];
  const deaths: string[] = [];
  const waiters: { pred: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  const client = make(
    (e) => {
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
    (reason) => deaths.push(reason),
  );
  const waitFor = <K extends WorkerEvent['kind']>(kind: K, pred: (e: Extract<WorkerEvent, { kind: K }>) => boolean = () => true, timeoutMs = 20_000) =>
    new Promise<Extract<WorkerEvent, { kind: K }>>((resolve, reject) => {
      const found = events.find((e) => e.kind === kind && pred(e as Extract<WorkerEvent, { kind: K }>));
      if (found) return resolve(found as Extract<WorkerEvent, { kind: K }>);
      const timer = setTimeout(() => reject(new Error(`no ${kind} event within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        pred: (e) => e.kind === kind && pred(e as Extract<WorkerEvent, { kind: K }>),
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as Extract<WorkerEvent, { kind: K }>);
        },
      });
    });
  return { client, events, deaths, waitFor };
}

const recordingTrainer = () => recording<TrainerEvent, TrainerClient>((onEvent, onDeath) => trainerClient(TRAINER, onEvent, onDeath));
const recordingInference = () => recording<InferenceEvent, InferenceClient>((onEvent, onDeath) => inferenceClient(INFERENCE, onEvent, onDeath));

/** A cancellation token a test fires by hand (the shape of vscode.CancellationToken). */
function cancellation(): { token: CancellationSignal; cancel(): void } {
  const listeners: (() => void)[] = [];
  let cancelled = false;
  return {
    token: {
      get isCancellationRequested() {
        return cancelled;
      },
      onCancellationRequested(listener) {
        listeners.push(listener);
        return { dispose: () => listeners.splice(listeners.indexOf(listener) >>> 0, 1) };
      },
    },
    cancel() {
      cancelled = true;
      for (const l of [...listeners]) l();
    },
  };
}

before(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
});

describe('trainer worker', () => {
  const clients: TrainerClient[] = [];
  after(async () => {
    for (const c of clients) await c.dispose();
  });

  it('trains to maxSteps, reports progress and validation, and sends a final checkpoint', async () => {
    const { client, events, waitFor } = recordingTrainer();
    clients.push(client);
    const result = await client.request(startRequest());
    assert.equal(result.startStep, 0);
    assert.ok(result.params > 0);
    const done = await waitFor('train/state', (e) => e.state === 'done');
    assert.equal(done.runId, 'run-1');
    const progress = events.filter((e) => e.kind === 'train/progress');
    assert.ok(progress.length >= 2);
    assert.equal(progress[0]!.kind === 'train/progress' && progress[0]!.step, 1, 'the first step is reported at once');
    assert.equal(progress.at(-1)!.kind === 'train/progress' && progress.at(-1)!.step, 40, 'the last step is always reported');
    const val = events.filter((e) => e.kind === 'train/validation');
    assert.ok(val.length >= 2, 'periodic and final validation');
    const ckpt = events.find((e) => e.kind === 'train/checkpoint' && e.final);
    assert.ok(ckpt && ckpt.kind === 'train/checkpoint');
    const decoded = decodeCheckpoint(ckpt.bytes);
    assert.equal(decoded.trainState?.step, 40);
    assert.equal(decoded.extra.name, 'test');
    // The loss went down on this very repetitive text.
    const first = progress[0]!.kind === 'train/progress' ? progress[0]!.loss : NaN;
    const last = progress.at(-1)!.kind === 'train/progress' ? (progress.at(-1) as { loss: number }).loss : NaN;
    assert.ok(last < first, `loss ${first} → ${last}`);
  });

  it('pauses with a checkpoint, resumes, stops with a final checkpoint, and resumes exactly from a checkpoint', async () => {
    const { client, events, waitFor } = recordingTrainer();
    clients.push(client);
    await client.request(startRequest({ maxSteps: 0, valEvery: 0 }));
    await waitFor('train/progress', (e) => e.step >= 3);
    await client.request({ kind: 'train/pause', runId: 'run-1' });
    const paused = await waitFor('train/state', (e) => e.state === 'paused');
    assert.ok(paused);
    const pauseCkpt = events.filter((e) => e.kind === 'train/checkpoint').at(-1);
    assert.ok(pauseCkpt && pauseCkpt.kind === 'train/checkpoint', 'pausing saves a checkpoint');
    const stepAtPause = pauseCkpt.step;
    // Nothing trains while paused.
    await new Promise((r) => setTimeout(r, 300));
    const after = events.filter((e) => e.kind === 'train/progress' && e.step > stepAtPause);
    assert.equal(after.length, 0);
    await client.request({ kind: 'train/resume', runId: 'run-1' });
    await waitFor('train/progress', (e) => e.step > stepAtPause + 2);
    await client.request({ kind: 'train/stop', runId: 'run-1' });
    const stopped = await waitFor('train/state', (e) => e.state === 'stopped');
    assert.ok(stopped);
    const final = events.filter((e) => e.kind === 'train/checkpoint').at(-1);
    assert.ok(final && final.kind === 'train/checkpoint' && final.final);

    // Resume from the pause checkpoint in a fresh worker, run to the stop step: same weights.
    const second = recordingTrainer();
    clients.push(second.client);
    const r = await second.client.request(startRequest({ init: pauseCkpt.bytes.slice(), maxSteps: final.step, valEvery: 0 }));
    assert.equal(r.startStep, stepAtPause);
    const resumedFinal = await second.waitFor('train/checkpoint', (e) => e.final);
    const a = decodeCheckpoint(final.bytes).model.params.data;
    const b = decodeCheckpoint(resumedFinal.bytes).model.params.data;
    assert.deepEqual(Buffer.from(b.buffer), Buffer.from(a.buffer), 'resumed run matches bit for bit');
  });

  it('fails a diverging run with a clear reason and sends no checkpoint of the diverged state', async () => {
    const { client, events, waitFor } = recordingTrainer();
    clients.push(client);
    const diverging = { model: { cell: 'rnn', activation: 'relu', hidden: 64, layers: 1 } as const, maxSteps: 500, valEvery: 0 };
    const sgd = { optimizer: 'sgd', lr: 10, momentum: 0.9, clip: 0 } as const;
    await client.request(startRequest(diverging, sgd));
    const failed = await waitFor('train/state', (e) => e.state === 'failed');
    assert.match(failed.reason ?? '', /diverged at step \d+.*lower the learning rate.*no checkpoint of this run was saved/);
    assert.equal(events.filter((e) => e.kind === 'train/checkpoint').length, 0);

    // Saving every step: every checkpoint sent holds weights with a finite loss, the last one is named in the reason.
    const second = recordingTrainer();
    clients.push(second.client);
    await second.client.request(startRequest({ ...diverging, saveEvery: 1 }, sgd));
    const failed2 = await second.waitFor('train/state', (e) => e.state === 'failed');
    const sent = second.events.filter((e) => e.kind === 'train/checkpoint');
    assert.ok(sent.length > 0);
    const last = sent.at(-1)!;
    assert.ok(last.kind === 'train/checkpoint');
    assert.match(failed2.reason ?? '', new RegExp(`the checkpoint of step ${last.step} is kept`));
    // The decoder refuses non-finite weights: the kept checkpoint loads.
    const kept = decodeCheckpoint(last.bytes);
    assert.equal(kept.trainState?.step, last.step);
    assert.ok(kept.model.params.data.every((v) => Number.isFinite(v)));
  });

  it('a resume merges changed settings by the same rules as the CLI: lr applies, the model shape may not change', async () => {
    const first = recordingTrainer();
    clients.push(first.client);
    await first.client.request(startRequest({ maxSteps: 5, valEvery: 0 }));
    const ckpt = (await first.waitFor('train/checkpoint', (e) => e.final)).bytes;
    const second = recordingTrainer();
    clients.push(second.client);
    const r = await second.client.request(startRequest({ init: ckpt.slice(), maxSteps: 8, valEvery: 0 }, { lr: 0.05 }));
    assert.equal(r.startStep, 5);
    await second.waitFor('train/state', (e) => e.state === 'done');
    const lrs = second.events.filter((e) => e.kind === 'train/progress').map((e) => (e.kind === 'train/progress' ? e.lr : 0));
    assert.ok(lrs.length > 0 && lrs.every((lr) => lr === 0.05), `the new lr trains: ${lrs}`);
    const final = second.events.filter((e) => e.kind === 'train/checkpoint').at(-1)!;
    assert.equal(final.kind === 'train/checkpoint' && decodeCheckpoint(final.bytes).train.lr, 0.05);
    const third = recordingTrainer();
    clients.push(third.client);
    await assert.rejects(
      third.client.request(startRequest({ init: ckpt.slice(), model: { cell: 'lstm', activation: 'tanh', hidden: 32, layers: 1 } })),
      /rnnLab\.model\.hidden 32 does not match the checkpoint \(hidden 16\)/,
    );
  });

  it('rejects bad input with one-line user messages', async () => {
    const { client } = recordingTrainer();
    clients.push(client);
    await assert.rejects(client.request(startRequest({ text: 'tiny' })), /needs at least \d+/);
    await assert.rejects(
      client.request(startRequest({ model: { cell: 'lstm', activation: 'tanh', hidden: 4096, layers: 4 }, maxMemoryBytes: 64 * 1024 ** 2 })),
      /needs about .* more than the limit/,
    );
    await assert.rejects(client.request(startRequest({ init: new Uint8Array([1, 2, 3]) })), /safetensors|checkpoint/);
  });

  it('rejects pending requests when the worker dies, and reports the death', async () => {
    const { client, deaths } = recordingTrainer();
    // One step of this model takes seconds, so the pause below stays unanswered.
    await client.request(
      startRequest({ model: { cell: 'lstm', activation: 'tanh', hidden: 512, layers: 1 }, maxSteps: 0, valEvery: 0 }, { batch: 32, seq: 25, valFraction: 0 }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const pending = client.request({ kind: 'train/pause', runId: 'run-1' });
    const worker = (client as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await assert.rejects(pending, /the worker exited with code 1/);
    assert.deepEqual(deaths, ['the worker exited with code 1']);
    await client.dispose();
  });
});

describe('inference worker', () => {
  let checkpoint: Uint8Array;
  const clients: (TrainerClient | InferenceClient)[] = [];
  before(async () => {
    const { client, waitFor } = recordingTrainer();
    clients.push(client);
    await client.request(startRequest({ maxSteps: 60, valEvery: 0 }));
    checkpoint = (await waitFor('train/checkpoint', (e) => e.final)).bytes;
  });
  after(async () => {
    for (const c of clients) await c.dispose();
  });

  it('completes a prefix, reusing the cached state as the prefix grows', async () => {
    const { client } = recordingInference();
    clients.push(client);
    await client.request({ kind: 'infer/load', modelId: 'm', checkpoint: checkpoint.slice() });
    const opts = { modelId: 'm', docKey: 'doc', maxLength: 20, temperature: 0, stop: ['\n'], count: 1, seed: 1 };
    const first = await client.request({ kind: 'infer/complete', ...opts, prefix: 'the cat sat on the' });
    assert.equal(first.fed, 'the cat sat on the'.length);
    assert.equal(first.completions.length, 1);
    const second = await client.request({ kind: 'infer/complete', ...opts, prefix: 'the cat sat on the ' });
    assert.equal(second.fed, 1, 'one more character costs one step');
    // Same answer as a cold start on the same prefix (the cache changes cost, not results).
    const cold = await client.request({ kind: 'infer/complete', ...opts, docKey: 'other', prefix: 'the cat sat on the ' });
    assert.deepEqual(second.completions, cold.completions);
    // A backspace restores an earlier snapshot instead of re-reading everything.
    const back = await client.request({ kind: 'infer/complete', ...opts, prefix: 'the cat sat on th' });
    assert.ok(back.fed < 'the cat sat on th'.length, `fed ${back.fed}`);
    // Several alternatives on request.
    const alts = await client.request({ kind: 'infer/complete', ...opts, prefix: 'the ', count: 3, temperature: 1 });
    assert.ok(alts.completions.length >= 1 && alts.completions.length <= 3);
  });

  it('streams a sample in chunks and can be cancelled', async () => {
    const { client, events } = recordingInference();
    clients.push(client);
    await client.request({ kind: 'infer/load', modelId: 'm', checkpoint: checkpoint.slice() });
    const full = await client.request({ kind: 'infer/sample', modelId: 'm', streamId: 7, prime: 'the ', length: 300, temperature: 0.8, topK: 0, topP: 1, seed: 3 }, { timeoutMs: 0 });
    assert.equal([...full.text].length, 300);
    const streamed = events.filter((e) => e.streamId === 7).map((e) => e.text).join('');
    assert.equal(streamed, full.text);
    const { token, cancel } = cancellation();
    const long = client.request({ kind: 'infer/sample', modelId: 'm', streamId: 8, prime: '', length: 1_000_000, temperature: 1, topK: 0, topP: 1, seed: 1 }, { timeoutMs: 0, token });
    await new Promise((r) => setTimeout(r, 100));
    cancel();
    const partial = await long;
    assert.ok(partial.text.length > 0 && partial.text.length < 1_000_000);
  });

  it('stops a running completion when it is cancelled, long before it would finish', async () => {
    const { client } = recordingInference();
    clients.push(client);
    await client.request({ kind: 'infer/load', modelId: 'm', checkpoint: checkpoint.slice() });
    const request = { kind: 'infer/complete' as const, modelId: 'm', docKey: 'd', prefix: 'the ', temperature: 1, stop: [] as string[], count: 1, seed: 1 };
    // How long this machine takes for a known length, uncancelled.
    const measuredLength = 20_000;
    let t0 = performance.now();
    const whole = await client.request({ ...request, maxLength: measuredLength }, { timeoutMs: 0 });
    const msPerChar = (performance.now() - t0) / measuredLength;
    assert.equal(whole.cancelled, false);
    assert.equal([...whole.completions[0]!].length, measuredLength);
    // A completion that would run for about 20 s, cancelled after 100 ms while the worker is busy in it.
    const maxLength = Math.ceil(20_000 / msPerChar);
    const { token, cancel } = cancellation();
    t0 = performance.now();
    const running = client.request({ ...request, docKey: 'e', maxLength }, { timeoutMs: 0, token });
    setTimeout(cancel, 100);
    const partial = await running;
    const elapsed = performance.now() - t0;
    assert.equal(partial.cancelled, true);
    const produced = [...partial.completions[0]!].length;
    assert.ok(produced > 0 && produced < maxLength / 10, `${produced} of ${maxLength} characters`);
    assert.ok(elapsed < 2_000, `answered ${Math.round(elapsed)} ms after the start (the whole completion takes about 20 s)`);
    // The worker is free at once for the next request.
    const next = await client.request({ ...request, maxLength: 5 }, { timeoutMs: 5_000 });
    assert.equal([...next.completions[0]!].length, 5);
  });

  it('checks an imported checkpoint and measures the kernels off the host thread', async () => {
    const { client } = recordingInference();
    clients.push(client);
    const summary = await client.request({ kind: 'checkpoint/inspect', bytes: checkpoint.slice() });
    assert.deepEqual(
      { cell: summary.cell, hidden: summary.hidden, layers: summary.layers, steps: summary.steps, name: summary.name },
      { cell: 'lstm', hidden: 16, layers: 1, steps: 60, name: 'test' },
    );
    assert.equal(summary.params, decodeCheckpoint(checkpoint).model.params.count);
    await assert.rejects(client.request({ kind: 'checkpoint/inspect', bytes: checkpoint.slice(0, 64) }), /safetensors|checkpoint|header/i);
    // A hostile name is capped before it reaches the model library's index.
    const { model } = decodeCheckpoint(checkpoint);
    const named = encodeCheckpoint(model, DEFAULT_TRAIN, null, { name: 'n'.repeat(100_000) });
    const cappedName = (await client.request({ kind: 'checkpoint/inspect', bytes: named })).name ?? '';
    assert.ok(cappedName.length <= 240 && cappedName.startsWith('nnnn'), `${cappedName.length} characters`);
    const { gflops } = await client.request({ kind: 'kernels/benchmark' });
    assert.equal(gflops.length, availableParallelism() >= 2 ? 2 : 1, 'one figure per thread count');
    assert.ok(gflops.every((g) => g > 0 && Number.isFinite(g)), `${gflops.join(', ')} GFLOP/s`);
  });

  it('refuses a corrupt checkpoint and an unknown model clearly', async () => {
    const { client } = recordingInference();
    clients.push(client);
    const bad = checkpoint.slice(0, 100);
    await assert.rejects(client.request({ kind: 'infer/load', modelId: 'x', checkpoint: bad }), /safetensors|checkpoint|header/i);
    await assert.rejects(
      client.request({ kind: 'infer/complete', modelId: 'nope', docKey: 'd', prefix: 'a', maxLength: 5, temperature: 0, stop: [], count: 1, seed: 1 }),
      /not loaded/,
    );
  });
});
