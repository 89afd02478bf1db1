import * as vscode from 'vscode';
import type { CheckpointSummary, InferCompleteResult, InferenceEvent, InferTraceResult } from '../shared/inferenceProtocol';
import { assertNever, RpcError } from '../shared/rpc';
import type { StepThroughView } from '../shared/stepThroughProtocol';
import type { ModelLibrary } from './library';
import { inferenceClient, type InferenceClient } from '../shared/workerClient';

/**
 * Engine work off the host thread: one worker that holds the latest weights
 * of the models in use (reloaded when a newer checkpoint lands) for
 * completions, samples and traces, and that also checks imported
 * checkpoints and measures the machine for the time estimates.
 */
export class InferenceService implements vscode.Disposable {
  private readonly client: InferenceClient;
  /** Model id → step of the checkpoint the worker holds. */
  private readonly loaded = new Map<string, number>();
  private readonly stale = new Set<string>();
  private readonly chunkListeners = new Map<number, (text: string) => void>();
  private nextStreamId = 1;
  private gflops: Promise<number[]> | undefined;

  constructor(
    private readonly library: ModelLibrary,
    workerScript: string,
    private readonly log: vscode.OutputChannel,
  ) {
    this.client = inferenceClient(
      workerScript,
      (e) => this.onEvent(e),
      (reason) => {
        // The next request starts a fresh worker, which has nothing loaded.
        this.loaded.clear();
        this.log.appendLine(`inference worker stopped: ${reason}`);
      },
    );
  }

  /** A checkpoint of this model was saved: the worker's copy is old. */
  invalidate(modelId: string): void {
    if (this.loaded.has(modelId)) this.stale.add(modelId);
  }

  private onEvent(e: InferenceEvent): void {
    switch (e.kind) {
      case 'infer/chunk':
        this.chunkListeners.get(e.streamId)?.(e.text);
        return;
      default:
        assertNever(e.kind, 'inference event');
    }
  }

  private async ensureLoaded(modelId: string): Promise<void> {
    if (this.loaded.has(modelId) && !this.stale.has(modelId)) return;
    const entry = this.library.get(modelId);
    if (!entry?.hasCheckpoint) throw new Error('this model has no saved checkpoint yet');
    const bytes = new Uint8Array(this.library.readCheckpoint(modelId));
    this.stale.delete(modelId);
    await this.client.request({ kind: 'infer/load', modelId, checkpoint: bytes }, { transfer: [bytes.buffer as ArrayBuffer] });
    this.loaded.set(modelId, entry.steps);
  }

  async complete(
    modelId: string,
    docKey: string,
    prefix: string,
    options: { maxLength: number; temperature: number; stop: string[]; count: number },
    token?: vscode.CancellationToken,
  ): Promise<InferCompleteResult | undefined> {
    await this.ensureLoaded(modelId);
    if (token?.isCancellationRequested) return undefined;
    try {
      // A cancelled token sets the request's shared flag: the worker stops within a character.
      const result = await this.client.request(
        { kind: 'infer/complete', modelId, docKey, prefix, ...options, seed: 1 },
        { timeoutMs: 10_000, ...(token ? { token } : {}) },
      );
      return result.cancelled || token?.isCancellationRequested ? undefined : result;
    } catch (e) {
      if (e instanceof RpcError && e.cancelled) return undefined;
      throw e;
    }
  }

  /** Streams a sample; `onText` receives each chunk as it is generated. */
  async sample(
    modelId: string,
    prime: string,
    options: { length: number; temperature: number; topK: number; topP: number; seed: number },
    onText: (text: string) => void,
    token?: vscode.CancellationToken,
  ): Promise<string> {
    await this.ensureLoaded(modelId);
    const streamId = this.nextStreamId++;
    this.chunkListeners.set(streamId, onText);
    try {
      const { text } = await this.client.request({ kind: 'infer/sample', modelId, streamId, prime, ...options }, { timeoutMs: 0, ...(token ? { token } : {}) });
      return text;
    } finally {
      this.chunkListeners.delete(streamId);
    }
  }

  /** Decodes `bytes` with the engine's hostile-file checks, in the worker; what the library records of it. */
  inspectCheckpoint(bytes: Uint8Array): Promise<CheckpointSummary> {
    return this.client.request({ kind: 'checkpoint/inspect', bytes }, { timeoutMs: 120_000 });
  }

  /** This machine's training GFLOP/s on 1 and 2 threads (KernelsBenchmarkResult), measured once in the worker. */
  machineGflops(): Promise<number[]> {
    this.gflops ??= this.client.request({ kind: 'kernels/benchmark' }, { timeoutMs: 20_000 }).then(
      (r) => r.gflops,
      (e: unknown) => {
        this.gflops = undefined;
        throw e;
      },
    );
    return this.gflops;
  }

  /** Hidden states, gates and next-character distributions of `text` (from a zero state). */
  async trace(modelId: string, text: string): Promise<InferTraceResult> {
    await this.ensureLoaded(modelId);
    return this.client.request({ kind: 'infer/trace', modelId, text }, { timeoutMs: 20_000 });
  }

  /** The terms of backpropagation through time on `text`, with the chain of e_τ at step `errorAt`; `token` stops it in the worker. */
  async stepThrough(modelId: string, text: string, errorAt: number, token?: vscode.CancellationToken): Promise<StepThroughView> {
    await this.ensureLoaded(modelId);
    return this.client.request({ kind: 'infer/stepThrough', modelId, text, errorAt }, { timeoutMs: 30_000, ...(token ? { token } : {}) });
  }

  async unload(modelId: string): Promise<void> {
    if (!this.loaded.delete(modelId)) return;
    await this.client.request({ kind: 'infer/unload', modelId }).catch(() => undefined);
  }

  dispose(): void {
    void this.client.dispose();
  }
}
