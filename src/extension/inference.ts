import * as vscode from 'vscode';
import type { InferCompleteResult, InferTraceResult, WorkerEvent } from '../shared/protocol';
import type { ModelLibrary } from './library';
import { WorkerClient } from '../shared/workerClient';

/**
 * Inference off the host thread: one worker that holds the latest weights of
 * the models in use, reloaded when a newer checkpoint lands.
 */
export class InferenceService implements vscode.Disposable {
  private readonly client: WorkerClient;
  /** Model id → step of the checkpoint the worker holds. */
  private readonly loaded = new Map<string, number>();
  private readonly stale = new Set<string>();
  private readonly chunkListeners = new Map<number, (text: string) => void>();

  constructor(
    private readonly library: ModelLibrary,
    workerScript: string,
    private readonly log: vscode.OutputChannel,
  ) {
    this.client = new WorkerClient(
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

  private onEvent(e: WorkerEvent): void {
    if (e.kind === 'infer/chunk') this.chunkListeners.get(e.requestId)?.(e.text);
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
    const id = this.client.peekNextId();
    const cancel = token?.onCancellationRequested(() => void this.client.request({ kind: 'infer/cancel', target: id }).catch(() => undefined));
    try {
      const result = await this.client.request({ kind: 'infer/complete', modelId, docKey, prefix, ...options, seed: 1 }, { timeoutMs: 10_000 });
      return token?.isCancellationRequested ? undefined : result;
    } finally {
      cancel?.dispose();
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
    const id = this.client.peekNextId();
    this.chunkListeners.set(id, onText);
    const cancel = token?.onCancellationRequested(() => void this.client.request({ kind: 'infer/cancel', target: id }).catch(() => undefined));
    try {
      const { text } = await this.client.request({ kind: 'infer/sample', modelId, prime, ...options }, { timeoutMs: 0 });
      return text;
    } finally {
      this.chunkListeners.delete(id);
      cancel?.dispose();
    }
  }

  /** Hidden states, gates and next-character distributions of `text` (from a zero state). */
  async trace(modelId: string, text: string): Promise<InferTraceResult> {
    await this.ensureLoaded(modelId);
    return this.client.request({ kind: 'infer/trace', modelId, text }, { timeoutMs: 20_000 });
  }

  async unload(modelId: string): Promise<void> {
    if (!this.loaded.delete(modelId)) return;
    await this.client.request({ kind: 'infer/unload', modelId }).catch(() => undefined);
  }

  dispose(): void {
    void this.client.dispose();
  }
}
