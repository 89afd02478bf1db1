import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GradFlowSnapshot } from '../shared/gradFlowProtocol';
import type { RunState, TrainerEvent, TrainProgressEvent, TrainValidationEvent } from '../shared/trainerProtocol';
import { writeFileAtomic } from '../shared/atomicFile';
import { HISTORY_FORMAT, historyPathFor, historyText, parseHistory, type HistoryRecord } from '../shared/history';
import type { ModelEntry, ModelLibrary, RunSettings } from './library';
import type { HostLimits } from './settings';
import { assertNever } from '../shared/rpc';
import { trainerClient, type TrainerClient } from '../shared/workerClient';

/** What the host knows of a run while it is live; the panels and the status bar read it. */
export interface LiveRun {
  modelId: string;
  state: RunState;
  progress: TrainProgressEvent | null;
  /** Training loss per progress event and validation results, for the loss panel; gradient-flow snapshots for its panel. */
  history: { progress: TrainProgressEvent[]; validation: TrainValidationEvent[]; gradflow: GradFlowSnapshot[] };
}

interface ActiveRun extends LiveRun {
  client: TrainerClient | null;
  text: string;
  settings: RunSettings;
  resume: boolean;
  /** Settles when the run has ended and its worker is gone. */
  ended: Promise<void>;
  end: () => void;
  lastSavedStep: number;
}

/**
 * Work that takes one training slot like a model's run, but trains through
 * its own worker (an experiment trains its runs one after another).
 */
export interface TrainingJob {
  /** Unique among queued jobs (an experiment's output folder). */
  id: string;
  /** Told while the job waits for a slot. */
  queued(reason: string): void;
  /** Runs the job; the slot is free again when it settles. */
  run(): Promise<void>;
}

const HISTORY_LIMIT = 20_000;
/** Gradient-flow snapshots kept per model; only the newest keep every row e_t (older ones keep a few). */
export const GRADFLOW_LIMIT = 200;
export const GRADFLOW_FULL_ROWS = 10;
const GRADFLOW_KEPT_ROWS = 4;

/**
 * Owns every training run: starts each in its own worker thread, queues runs
 * beyond the concurrency limit, saves checkpoints the workers send, and keeps
 * the library's view of each run current.
 */
export class TrainingManager implements vscode.Disposable {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly queue: string[] = [];
  /** Queued jobs by id (their ids sit in `queue` with the models'), and the ids of those running. */
  private readonly jobs = new Map<string, TrainingJob>();
  private readonly runningJobs = new Set<string>();
  private readonly changeEmitter = new vscode.EventEmitter<LiveRun>();
  private readonly checkpointEmitter = new vscode.EventEmitter<string>();
  /** Where each live run's current session started, and with what settings (for the history file). */
  private sessionStart: Record<string, { step: number; settings: RunSettings }> = {};
  /** Set while shutdown() asks the workers for a last checkpoint. */
  private shuttingDown: Promise<void> | undefined;
  /** Fires on every progress, state or validation change of a run. */
  readonly onDidChange = this.changeEmitter.event;
  /** Fires with a model id after its checkpoint was saved. */
  readonly onDidSaveCheckpoint = this.checkpointEmitter.event;

  constructor(
    private readonly library: ModelLibrary,
    private readonly workerScript: string,
    private readonly limits: () => HostLimits,
    private readonly log: vscode.OutputChannel,
  ) {
    // A run that was training when the window went away can only be resumed.
    for (const m of library.list()) {
      if (m.state === 'training' || m.state === 'queued') {
        library.update(m.id, {
          state: 'paused',
          reason: m.hasCheckpoint
            ? `interrupted at step ${m.steps} (window closed or reloaded): resume to continue from the last checkpoint`
            : 'interrupted before its first checkpoint: start it again',
        });
      }
    }
  }

  live(modelId: string): LiveRun | undefined {
    return this.runs.get(modelId);
  }

  activeRuns(): LiveRun[] {
    return [...this.runs.values()];
  }

  /** Starts a new model, or queues it when the concurrency limit is reached. */
  start(name: string, sources: vscode.Uri[], text: string, settings: RunSettings): ModelEntry {
    const entry = this.library.create({
      name,
      sources: sources.map((u) => u.toString()),
      cell: settings.model.cell,
      hidden: settings.model.hidden,
      layers: settings.model.layers,
      vocabSize: 0,
      params: 0,
      steps: 0,
      lastLoss: null,
      bestValLoss: null,
      bestValBpc: null,
      state: 'queued',
      hasCheckpoint: false,
      settings,
    });
    this.enqueue(entry.id, text, settings, false);
    return entry;
  }

  /** Continues a paused, stopped or interrupted model from its last checkpoint. */
  resume(modelId: string, text: string): void {
    const active = this.runs.get(modelId);
    if (active?.client && active.state === 'paused') {
      void active.client.request({ kind: 'train/resume', runId: modelId });
      return;
    }
    if (active) throw new Error('this model is already training or queued');
    const entry = this.library.get(modelId);
    if (!entry?.settings) throw new Error('only models trained in RNN Lab can resume training');
    if (!entry.hasCheckpoint) throw new Error('this model has no checkpoint to resume from: train it again');
    this.enqueue(modelId, text, entry.settings, true);
  }

  async pause(modelId: string): Promise<void> {
    const run = this.runs.get(modelId);
    if (!run?.client) throw new Error('this model is not training');
    await run.client.request({ kind: 'train/pause', runId: modelId });
  }

  async stop(modelId: string): Promise<void> {
    const run = this.runs.get(modelId);
    if (!run) {
      // Paused with no live run (interrupted by a reload): stopping only changes its state.
      if (this.library.get(modelId)?.state === 'paused') this.library.update(modelId, { state: 'stopped', reason: undefined });
      return;
    }
    if (!run.client) {
      // Still queued: nothing to stop but the wait.
      this.queue.splice(this.queue.indexOf(modelId), 1);
      this.finishRun(run, 'stopped');
      return;
    }
    await run.client.request({ kind: 'train/stop', runId: modelId });
    await run.ended;
  }

  /** Resolves when the run has ended (done, stopped or failed). */
  whenEnded(modelId: string): Promise<void> {
    return this.runs.get(modelId)?.ended ?? Promise.resolve();
  }

  private enqueue(modelId: string, text: string, settings: RunSettings, resume: boolean): void {
    let end!: () => void;
    const ended = new Promise<void>((r) => (end = r));
    const run: ActiveRun = {
      modelId, state: 'queued', progress: null, history: this.loadHistory(modelId, resume),
      client: null, text, settings, resume, ended, end, lastSavedStep: this.library.get(modelId)?.steps ?? 0,
    };
    this.runs.set(modelId, run);
    this.queue.push(modelId);
    this.library.update(modelId, { state: 'queued', reason: undefined });
    this.changeEmitter.fire(run);
    this.pump();
  }

  /** Queues a job behind the runs already waiting; it starts when a training slot is free. */
  enqueueJob(job: TrainingJob): void {
    if (this.jobs.has(job.id) || this.runningJobs.has(job.id)) throw new Error('this experiment is already running or queued');
    this.jobs.set(job.id, job);
    this.queue.push(job.id);
    this.pump();
  }

  /** Removes a job that has not started; false if it is not waiting. */
  dequeueJob(id: string): boolean {
    if (!this.jobs.delete(id)) return false;
    this.queue.splice(this.queue.indexOf(id), 1);
    return true;
  }

  /** Starts queued runs and jobs while fewer than the limit are training. */
  private pump(): void {
    const limit = this.limits().maxConcurrentRuns;
    const busy = (): number => [...this.runs.values()].filter((r) => r.client).length + this.runningJobs.size;
    while (this.queue.length > 0 && busy() < limit) {
      const id = this.queue.shift()!;
      const job = this.jobs.get(id);
      if (job) {
        this.jobs.delete(id);
        this.runningJobs.add(id);
        void job.run().finally(() => {
          this.runningJobs.delete(id);
          this.pump();
        });
      } else {
        void this.launch(this.runs.get(id)!);
      }
    }
    const reason = `queued: ${limit} run${limit === 1 ? '' : 's'} already training (setting rnnLab.training.maxConcurrentRuns)`;
    for (const id of this.queue) {
      const job = this.jobs.get(id);
      if (job) job.queued(reason);
      else this.library.update(id, { reason });
    }
  }

  private async launch(run: ActiveRun): Promise<void> {
    const id = run.modelId;
    const client = trainerClient(
      this.workerScript,
      (e) => this.onEvent(run, e),
      (reason) => this.onWorkerDeath(run, reason),
    );
    run.client = client;
    const limits = this.limits();
    try {
      const init = run.resume ? new Uint8Array(this.library.readCheckpoint(id)) : undefined;
      const entry = this.library.get(id)!;
      const result = await client.request(
        {
          kind: 'train/start',
          runId: id,
          text: run.text,
          model: run.settings.model,
          train: run.settings.train,
          ...(init ? { init } : {}),
          maxSteps: run.settings.maxSteps,
          maxMinutes: run.settings.maxMinutes,
          valEvery: run.settings.valEvery,
          ...(run.settings.maxChars ? { maxChars: run.settings.maxChars } : {}),
          ...(run.settings.saveEvery ? { saveEvery: run.settings.saveEvery } : {}),
          secondsBefore: run.history.progress.at(-1)?.seconds ?? 0,
          checkpointSeconds: limits.checkpointSeconds,
          maxMemoryBytes: limits.maxMemoryBytes,
          threads: limits.threads,
          metadata: { name: entry.name, sources: JSON.stringify(entry.sources) },
        },
        { timeoutMs: 120_000 },
      );
      this.library.update(id, { params: result.params, vocabSize: result.vocabSize, steps: result.startStep, ...(result.kernels ? { kernels: result.kernels } : {}) });
      for (const note of result.notes ?? []) this.log.appendLine(`[${entry.name}] note: ${note}`);
      this.sessionStart = { ...this.sessionStart, [id]: { step: result.startStep, settings: run.settings } };
      this.log.appendLine(
        `[${entry.name}] ${run.resume ? `resumed at step ${result.startStep}` : 'started'}: ${result.params} parameters, ` +
          `vocabulary ${result.vocabSize}, ${result.stepsPerEpoch} steps per epoch${result.kernels ? `, on ${result.kernels}` : ''}`,
      );
    } catch (e) {
      this.finishRun(run, 'failed', (e as Error).message);
    }
  }

  private onEvent(run: ActiveRun, e: TrainerEvent): void {
    switch (e.kind) {
      case 'train/progress':
        run.progress = e;
        pushCapped(run.history.progress, e);
        this.changeEmitter.fire(run);
        break;
      case 'train/validation': {
        pushCapped(run.history.validation, e);
        const entry = this.library.get(run.modelId);
        if (entry && Number.isFinite(e.loss) && (entry.bestValLoss === null || e.loss < entry.bestValLoss)) {
          this.library.update(run.modelId, { bestValLoss: e.loss, bestValBpc: e.bpc });
        }
        this.changeEmitter.fire(run);
        break;
      }
      case 'train/checkpoint':
        this.saveCheckpoint(run, e.bytes, e.step);
        break;
      case 'train/state':
        if (e.state === 'training' || e.state === 'paused') {
          run.state = e.state;
          this.library.update(run.modelId, { state: e.state, reason: undefined });
          this.changeEmitter.fire(run);
        } else {
          this.finishRun(run, e.state, e.reason);
        }
        break;
      case 'train/gradflow': {
        const { kind: _k, runId: _r, ...snapshot } = e;
        pushGradflow(run.history.gradflow, snapshot);
        this.changeEmitter.fire(run);
        break;
      }
      default:
        assertNever(e, 'trainer event');
    }
  }

  private saveCheckpoint(run: ActiveRun, bytes: Uint8Array, step: number): void {
    try {
      this.library.saveCheckpoint(run.modelId, bytes, { steps: step, lastLoss: run.progress?.loss ?? null });
      run.lastSavedStep = step;
      this.saveHistory(run);
      this.checkpointEmitter.fire(run.modelId);
    } catch (e) {
      // The previous checkpoint is still intact (atomic write); say why this one failed.
      void vscode.window.showErrorMessage(`RNN Lab could not save the checkpoint of step ${step}: ${(e as Error).message}`);
    }
  }

  private onWorkerDeath(run: ActiveRun, reason: string): void {
    if (run.state === 'done' || run.state === 'stopped' || run.state === 'failed') return;
    this.finishRun(run, 'failed', `${reason}; the last checkpoint (step ${run.lastSavedStep}) is kept`);
  }

  private finishRun(run: ActiveRun, state: RunState, reason?: string): void {
    if (!this.runs.has(run.modelId)) return;
    run.state = state;
    this.runs.delete(run.modelId);
    const entry = this.library.get(run.modelId);
    if (entry) {
      this.library.update(run.modelId, {
        state,
        reason: reason ?? undefined,
        ...(run.progress ? { lastLoss: run.progress.loss } : {}),
      });
      if (state === 'failed') {
        this.log.appendLine(`[${entry.name}] failed: ${reason ?? 'unknown reason'}`);
      }
    }
    this.saveHistory(run);
    const client = run.client;
    run.client = null;
    void client?.dispose();
    this.changeEmitter.fire(run);
    run.end();
    this.pump();
  }

  /** The run's history beside its checkpoint, in the format the CLI writes (shared/history.ts). */
  private historyPath(modelId: string): string {
    return historyPathFor(this.library.checkpointPath(modelId));
  }

  /** Gradient-flow snapshots are panel data, not run history: they keep their own file. */
  private gradflowPath(modelId: string): string {
    return path.join(this.library.folder(modelId), 'gradflow.json');
  }

  private loadHistory(modelId: string, resume: boolean): LiveRun['history'] {
    const empty = { progress: [], validation: [], gradflow: [] };
    if (!resume) return empty;
    let gradflow: GradFlowSnapshot[] = [];
    try {
      const g = JSON.parse(fs.readFileSync(this.gradflowPath(modelId), 'utf8')) as unknown;
      if (Array.isArray(g)) gradflow = g as GradFlowSnapshot[];
    } catch {
      // No snapshots yet.
    }
    try {
      const h = parseHistory(fs.readFileSync(this.historyPath(modelId), 'utf8'));
      return {
        progress: h.steps.map(({ kind: _k, ...p }) => ({ kind: 'train/progress' as const, runId: modelId, ...p })),
        validation: h.validations.map(({ kind: _k, ...v }) => ({ kind: 'train/validation' as const, runId: modelId, ...v })),
        gradflow,
      };
    } catch {
      // No history in the new format: a model trained by 0.1.0 kept everything in history.json.
    }
    try {
      const h = JSON.parse(fs.readFileSync(path.join(this.library.folder(modelId), 'history.json'), 'utf8')) as LiveRun['history'];
      if (Array.isArray(h.progress) && Array.isArray(h.validation)) {
        return { progress: h.progress, validation: h.validation, gradflow: Array.isArray(h.gradflow) ? h.gradflow : gradflow };
      }
    } catch {
      // No or unreadable history: the chart starts empty, the model is unaffected.
    }
    return empty;
  }

  private saveHistory(run: LiveRun): void {
    const start = this.sessionStart[run.modelId];
    const records: HistoryRecord[] = [
      {
        kind: 'session',
        format: HISTORY_FORMAT,
        startStep: 0,
        startedAt: new Date().toISOString(),
        ...(start ? { settings: { ...start.settings, resumedAt: start.step } } : {}),
      },
      ...run.history.progress.map((p): HistoryRecord => ({
        kind: 'step', step: p.step, loss: p.loss, gradNorm: p.gradNorm, clipped: p.clipped, lr: p.lr, epoch: p.epoch,
        epochProgress: p.epochProgress, charsSeen: p.charsSeen, charsPerSec: p.charsPerSec, seconds: p.seconds ?? NaN,
      })),
      ...run.history.validation.map((v): HistoryRecord => ({ kind: 'val', step: v.step, loss: v.loss, bpc: v.bpc, chars: v.chars ?? 0 })),
    ];
    try {
      writeFileAtomic(this.historyPath(run.modelId), new TextEncoder().encode(historyText(records)));
      writeFileAtomic(this.gradflowPath(run.modelId), new TextEncoder().encode(JSON.stringify(run.history.gradflow)));
    } catch {
      // History is a convenience for the charts; a failed write must not stop training.
    }
  }

  /** History of a model, live or saved. */
  history(modelId: string): LiveRun['history'] {
    return this.runs.get(modelId)?.history ?? this.loadHistory(modelId, true);
  }

  /**
   * On deactivate: ask every training worker for a last checkpoint (pause
   * sends one), briefly, then stop the threads.
   */
  async shutdown(): Promise<void> {
    const active = [...this.runs.values()].filter((r) => r.client && r.state === 'training');
    this.shuttingDown = Promise.race([
      Promise.allSettled(active.map((r) => r.client!.request({ kind: 'train/pause', runId: r.modelId }, { timeoutMs: 3000 }))),
      new Promise((r) => setTimeout(r, 3000)),
    ]).then(() => undefined);
    await this.shuttingDown;
    for (const r of active) {
      if (r.state === 'paused') this.library.update(r.modelId, { reason: `paused at step ${r.lastSavedStep} when the window closed or reloaded: resume to continue` });
    }
    for (const r of this.runs.values()) void r.client?.dispose();
  }

  /**
   * VS Code disposes the subscriptions right after calling deactivate, without
   * waiting for it: while shutdown() waits for the last checkpoints, the
   * workers are left running until it is done.
   */
  dispose(): void {
    const end = () => {
      for (const r of this.runs.values()) void r.client?.dispose();
      this.changeEmitter.dispose();
      this.checkpointEmitter.dispose();
    };
    if (this.shuttingDown) void this.shuttingDown.then(end);
    else end();
  }
}

function pushCapped<T>(list: T[], item: T): void {
  list.push(item);
  // Thin the older half instead of dropping it: the whole curve stays visible.
  if (list.length > HISTORY_LIMIT) {
    const half = Math.floor(list.length / 2);
    const thinned = list.slice(0, half).filter((_, i) => i % 2 === 0);
    list.splice(0, half, ...thinned);
  }
}

/**
 * Keeps the last GRADFLOW_LIMIT snapshots; all but the newest GRADFLOW_FULL_ROWS
 * are thinned to a few rows e_t (t = T-1, ⌊T/2⌋ and two more), so history.json
 * stays small (a full 64-step, 2-layer snapshot is ~16k numbers).
 */
export function pushGradflow(list: GradFlowSnapshot[], s: GradFlowSnapshot): void {
  list.push(s);
  if (list.length > GRADFLOW_LIMIT) list.splice(0, list.length - GRADFLOW_LIMIT);
  const old = list[list.length - 1 - GRADFLOW_FULL_ROWS];
  if (old) thinSnapshot(old, GRADFLOW_KEPT_ROWS);
}

export function thinSnapshot(s: GradFlowSnapshot, rows: number): void {
  if (s.rowTs.length <= rows) return;
  const T = s.T;
  const want = new Set([T - 1, Math.floor(T / 2), Math.floor(T / 4), Math.floor((3 * T) / 4)].slice(0, rows));
  const keep = s.rowTs.map((t, i) => (want.has(t) ? i : -1)).filter((i) => i >= 0);
  s.rowTs = keep.map((i) => s.rowTs[i]!);
  s.rowH = s.rowH.map((layer) => keep.map((i) => layer[i]!));
  s.rowW = s.rowW.map((layer) => keep.map((i) => layer[i]!));
}
