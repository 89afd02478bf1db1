/**
 * Experiments in the editor: each `*.rnnlab.json` started here waits for a
 * training slot in the TrainingManager's queue, then trains in its own
 * experiment worker through the shared runner (the CLI's planning, run
 * module and output layout, so the CLI and the editor resume each other).
 * The experiments not finished are remembered in the workspace state and
 * resumed after a window reload: finished runs are kept, the interrupted one
 * continues from its checkpoint. Finished runs become models in the library
 * (grouped under their experiment in the Models view).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { FAMILY_NAMES } from '../engine/models/catalog';
import { countRuns, experimentDisplayName, experimentOutputDir, parseExperiment, type CurvePoint, type ResultRow } from '../shared/experiment';
import { quotePath } from '../shared/experiment/engineApi';
import { LOCK_FILE, readResultRows, readRunHistory } from '../shared/experiment/outputDir';
import type { ExperimentReview } from '../shared/experiment/review';
import type { ExperimentEvent, PlannedRunInfo } from '../shared/experimentProtocol';
import type { ExperimentState, ExperimentView } from '../shared/experimentPanelProtocol';
import { historyPathFor } from '../shared/history';
import { assertNever } from '../shared/rpc';
import { experimentClient, type ExperimentClient } from '../shared/workerClient';
import type { ModelEntry, ModelLibrary } from './library';
import { confirmRestrictedRun } from './experimentTrust';
import type { Observers } from './observers';
import type { HostLimits } from './settings';
import type { TrainingManager } from './training';

/** workspaceState key: the experiments to resume after a reload. */
export const PENDING_EXPERIMENTS_KEY = 'rnnLab.experiments.pending';
/** A running run checkpoints at least this often (as the CLI's experiments do). */
const SAVE_SECONDS = 30;
/** The worker's refusal when another process holds the output folder's lock. */
const IN_USE = /is in use by another experiment/;
const LOCK_ATTEMPTS = 10;
const LOCK_RETRY_MS = 1500;
/** Live points kept per running run (the curve is thinned for the panel anyway). */
const LIVE_POINTS = 5000;

interface PendingExperiment {
  file: string;
  out: string;
  /** Started in Restricted Mode: what the user confirmed (a resume trains only that). */
  fingerprint?: string;
}

/**
 * The folder's lock once this window's worker is gone: a worker that died
 * without releasing it leaves the host's own pid in it (threads share it),
 * which would refuse every later start in this window. No other worker of
 * this window writes the folder (start refuses a second one).
 */
function releaseOwnLock(out: string): void {
  const file = path.join(out, LOCK_FILE);
  try {
    if ((JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown }).pid === process.pid) fs.unlinkSync(file);
  } catch {
    // No lock, or not ours.
  }
}

/** One experiment the editor knows of this session. */
export class LiveExperiment {
  state: ExperimentState = 'queued';
  reason: string | undefined;
  name: string;
  planned: PlannedRunInfo[] = [];
  rows: ResultRow[] = [];
  running: string | null = null;
  live: ExperimentView['live'] = null;
  /** Loss points of the run training now: its history so far, then live progress. */
  liveCurve: CurvePoint[] = [];
  client: ExperimentClient | null = null;
  /** Settles when the worker is done (finished, stopped or failed). */
  ended: Promise<void> = Promise.resolve();
  stopRequested = false;
  /** Resolves the wait for the worker's last word (done or failed). */
  workerDone: (() => void) | null = null;

  constructor(readonly file: string, readonly out: string) {
    this.name = experimentDisplayName('', file);
    this.rows = readResultRows(out);
  }
}

export interface StartOptions {
  /** Answer the more-than-100-runs question with yes (tests, keybindings). */
  yes?: boolean;
}

export class ExperimentManager implements vscode.Disposable {
  private readonly experiments = new Map<string, LiveExperiment>();
  private readonly changeEmitter = new vscode.EventEmitter<LiveExperiment>();
  /** Fires on every state, progress or result change of an experiment. */
  readonly onDidChange = this.changeEmitter.event;
  private shuttingDown = false;
  private shutdownDone: Promise<void> | undefined;

  constructor(
    private readonly training: TrainingManager,
    private readonly library: ModelLibrary,
    private readonly workerScript: string,
    private readonly limits: () => HostLimits,
    private readonly workspaceState: vscode.Memento,
    private readonly log: vscode.OutputChannel,
    private readonly observers: Observers,
  ) {}

  get(out: string): LiveExperiment | undefined {
    return this.experiments.get(out);
  }

  list(): LiveExperiment[] {
    return [...this.experiments.values()];
  }

  /** The one experiment of a file (its output folder beside it). */
  forFile(file: string): LiveExperiment | undefined {
    return this.experiments.get(experimentOutputDir(file));
  }

  /**
   * Checks the file as the CLI does (schema, names, ranges, with the JSON
   * path of the bad key) and asks before more than 100 runs; then queues it.
   * Missing text files and runs that cannot train are refused by the worker's
   * planning, still before anything trains. In Restricted Mode the worker
   * plans it first and the user confirms what it would train (see
   * experimentTrust.ts); the start then trains only that. Returns undefined
   * when the user declined.
   */
  async start(file: string, opts: StartOptions = {}): Promise<LiveExperiment | undefined> {
    const out = experimentOutputDir(file);
    const current = this.experiments.get(out);
    if (current && (current.state === 'queued' || current.state === 'running')) throw new Error(`${path.basename(file)} is already ${current.state}`);
    const source = fs.readFileSync(file, 'utf8');
    const spec = parseExperiment(source, { families: FAMILY_NAMES, where: `${quotePath(file)}: ` });
    if (!vscode.workspace.isTrusted) {
      const review = await this.review(file);
      if (!(await confirmRestrictedRun(file, out, review, this.limits().maxMemoryBytes))) return undefined;
      return this.enqueue(file, out, true, review.fingerprint);
    }
    let yes = opts.yes === true;
    const total = countRuns(spec);
    if (total > 100 && !yes) {
      const answer = await vscode.window.showWarningMessage(
        `${path.basename(file)} has ${total} runs. Train them all?`,
        { modal: true, detail: 'Each run trains its whole budget one after another; shrink the grid or the seeds for fewer.' },
        'Train All',
      );
      if (answer !== 'Train All') return undefined;
      yes = true;
    }
    return this.enqueue(file, out, yes);
  }

  /** What the experiment would train, planned in a worker of its own under the memory limit of the user's settings; throws the plan's refusals. */
  async review(file: string): Promise<ExperimentReview> {
    const client = experimentClient(this.workerScript, () => undefined, () => undefined);
    try {
      return await client.request({ kind: 'experiment/review', file, maxMemoryBytes: this.limits().maxMemoryBytes }, { timeoutMs: 120_000 });
    } finally {
      await client.dispose();
    }
  }

  private enqueue(file: string, out: string, yes: boolean, fingerprint?: string): LiveExperiment {
    const exp = new LiveExperiment(file, out);
    this.experiments.set(out, exp);
    let end!: () => void;
    exp.ended = new Promise<void>((r) => (end = r));
    void this.remember(fingerprint === undefined ? { file, out } : { file, out, fingerprint });
    this.training.enqueueJob({
      id: out,
      queued: (reason) => {
        exp.reason = reason;
        this.changeEmitter.fire(exp);
      },
      run: () => this.run(exp, yes, fingerprint).finally(end),
    });
    this.changeEmitter.fire(exp);
    return exp;
  }

  /** Stops a running experiment (its run checkpointed, resumable with Run again) or takes a queued one out of the queue. */
  async stop(out: string): Promise<void> {
    const exp = this.experiments.get(out);
    if (!exp) return;
    exp.stopRequested = true;
    if (exp.state === 'queued' && this.training.dequeueJob(out)) {
      this.setState(exp, 'stopped', 'stopped before it started');
      void this.forget(out);
      return;
    }
    if (exp.client) await exp.client.request({ kind: 'experiment/stop' });
    await exp.ended;
  }

  whenEnded(out: string): Promise<void> {
    return this.experiments.get(out)?.ended ?? Promise.resolve();
  }

  /**
   * After a reload: queue again every experiment that had not finished. In
   * Restricted Mode only those the user confirmed there, and only while
   * their file and text are what was confirmed; the others wait for trust
   * (restore runs again when it is granted) or a new Run Experiment.
   */
  restore(): void {
    for (const p of this.pending()) {
      if (this.experiments.has(p.out)) continue;
      if (!fs.existsSync(p.file)) {
        void this.forget(p.out);
        continue;
      }
      const fingerprint = vscode.workspace.isTrusted ? undefined : p.fingerprint;
      if (!vscode.workspace.isTrusted && fingerprint === undefined) {
        this.log.appendLine(`[experiment ${path.basename(p.file)}] not resumed: the workspace is in Restricted Mode; trust it, or run the experiment again to review and confirm it`);
        continue;
      }
      this.log.appendLine(`[experiment ${path.basename(p.file)}] resuming after the window reloaded`);
      // More than 100 runs were confirmed when it was started.
      this.enqueue(p.file, p.out, true, fingerprint);
    }
  }

  private async run(exp: LiveExperiment, yes: boolean, fingerprint: string | undefined): Promise<void> {
    if (exp.stopRequested) return;
    const limits = this.limits();
    const client = experimentClient(this.workerScript, (e) => this.onEvent(exp, e), (reason) => this.onDeath(exp, reason));
    exp.client = client;
    const finished = new Promise<void>((r) => (exp.workerDone = r));
    const request = {
      kind: 'experiment/start' as const, file: exp.file, out: exp.out, resume: true, yes,
      maxMemoryBytes: limits.maxMemoryBytes, threads: limits.threads, saveSeconds: Math.min(SAVE_SECONDS, limits.checkpointSeconds),
      ...(fingerprint === undefined ? {} : { fingerprint }),
    };
    try {
      let plan;
      for (let attempt = 1; ; attempt++) {
        try {
          plan = await client.request(request, { timeoutMs: 120_000 });
          break;
        } catch (e) {
          // After a reload the previous window's worker may still be writing its last checkpoint: wait for it a little.
          if (!IN_USE.test((e as Error).message) || attempt >= LOCK_ATTEMPTS || exp.stopRequested) throw e;
          exp.reason = 'waiting for the previous window to finish writing the folder';
          this.changeEmitter.fire(exp);
          await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
        }
      }
      exp.name = experimentDisplayName(plan.name, exp.file);
      exp.planned = plan.runs;
      this.setState(exp, 'running', undefined);
      this.log.appendLine(`[experiment ${exp.name}] ${plan.runs.length} runs into ${exp.out}`);
    } catch (e) {
      this.fail(exp, (e as Error).message);
    }
    await finished;
    exp.client = null;
    exp.running = null;
    exp.live = null;
    await client.dispose();
    releaseOwnLock(exp.out);
    this.changeEmitter.fire(exp);
  }

  private release(exp: LiveExperiment): void {
    exp.workerDone?.();
    exp.workerDone = null;
  }

  private onEvent(exp: LiveExperiment, e: ExperimentEvent): void {
    switch (e.kind) {
      case 'experiment/log':
        this.log.appendLine(`[experiment ${exp.name}] ${e.line}`);
        return;
      case 'experiment/runStart': {
        exp.running = e.runId;
        const h = readRunHistory(exp.out, e.runId);
        // Points of earlier rungs or sessions, up to where this one starts.
        exp.liveCurve = h ? h.steps.filter((p) => p.step <= e.startStep) : [];
        exp.live = null;
        break;
      }
      case 'experiment/progress':
        exp.live = { runId: e.runId, step: e.step, loss: e.loss, charsPerSec: e.charsPerSec, seconds: e.seconds };
        exp.liveCurve.push({ step: e.step, loss: e.loss, charsSeen: e.charsSeen, seconds: e.seconds });
        if (exp.liveCurve.length > LIVE_POINTS) exp.liveCurve = exp.liveCurve.filter((_, i) => i % 2 === 0);
        break;
      case 'experiment/validation':
        break;
      case 'experiment/result':
        exp.rows = [...exp.rows.filter((r) => r.id !== e.row.id), e.row];
        this.registerModel(exp, e.row);
        break;
      case 'experiment/done':
        if (e.interrupted) {
          this.setState(exp, 'stopped', this.shuttingDown ? 'the window closed or reloaded: it resumes on the next start' : `stopped: ${e.finished} of ${exp.planned.length} runs finished; Run Experiment continues it`);
          if (!this.shuttingDown) void this.forget(exp.out);
        } else {
          this.setState(exp, 'done', undefined);
          void this.forget(exp.out);
        }
        this.release(exp);
        return;
      case 'experiment/failed':
        this.fail(exp, e.reason);
        return;
      default:
        assertNever(e, 'experiment event');
    }
    this.changeEmitter.fire(exp);
  }

  private onDeath(exp: LiveExperiment, reason: string): void {
    if (exp.state === 'done' || exp.state === 'failed' || exp.state === 'stopped') return;
    this.fail(exp, `${reason}; finished runs and the last checkpoint are kept`);
  }

  private fail(exp: LiveExperiment, reason: string): void {
    this.setState(exp, 'failed', reason);
    void this.forget(exp.out);
    this.log.appendLine(`[experiment ${exp.name}] failed: ${reason}`);
    void vscode.window.showErrorMessage(`RNN Lab: ${reason}`);
    this.observers.errorShown(reason);
    this.release(exp);
  }

  private setState(exp: LiveExperiment, state: ExperimentState, reason: string | undefined): void {
    exp.state = state;
    exp.reason = reason;
    this.changeEmitter.fire(exp);
  }

  /** A finished run as a model of the library (a copy of its checkpoint and history), so every panel and completions can use it. */
  registerModel(exp: { out: string; name: string }, row: ResultRow): ModelEntry | undefined {
    if (!row.checkpoint) return undefined;
    const source = path.join(exp.out, path.basename(row.checkpoint));
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(source);
    } catch {
      return undefined;
    }
    const fields = {
      name: row.id,
      cell: row.settings.cell as ModelEntry['cell'],
      hidden: row.settings.hidden,
      layers: row.settings.layers,
      params: row.params,
      steps: row.steps,
      bestValLoss: row.valLoss,
      bestValBpc: row.valBpc,
      state: 'done' as const,
      experiment: { out: exp.out, name: exp.name, runId: row.id },
    };
    const existing = this.modelOf(exp.out, row.id);
    // A resumed experiment reports its finished rows again.
    if (existing?.hasCheckpoint && existing.steps === row.steps) return existing;
    const entry =
      existing ??
      this.library.create({ ...fields, sources: [], vocabSize: 0, lastLoss: null, hasCheckpoint: false });
    if (existing) this.library.update(existing.id, fields);
    this.library.saveCheckpoint(entry.id, bytes);
    try {
      fs.copyFileSync(historyPathFor(source), historyPathFor(this.library.checkpointPath(entry.id)));
    } catch {
      // The loss chart starts empty; the model is unaffected.
    }
    return this.library.get(entry.id);
  }

  /** The library's model of a run, if it was registered. */
  modelOf(out: string, runId: string): ModelEntry | undefined {
    return this.library.list().find((m) => m.experiment?.out === out && m.experiment.runId === runId);
  }

  private pending(): PendingExperiment[] {
    const list = this.workspaceState.get<unknown>(PENDING_EXPERIMENTS_KEY);
    const valid = (p: unknown): p is PendingExperiment => {
      const x = p as Partial<PendingExperiment> | null;
      return typeof x?.file === 'string' && typeof x.out === 'string';
    };
    return Array.isArray(list) ? list.filter(valid) : [];
  }

  private async remember(p: PendingExperiment): Promise<void> {
    await this.workspaceState.update(PENDING_EXPERIMENTS_KEY, [...this.pending().filter((x) => x.out !== p.out), p]);
  }

  private async forget(out: string): Promise<void> {
    await this.workspaceState.update(PENDING_EXPERIMENTS_KEY, this.pending().filter((x) => x.out !== out));
  }

  /** On deactivate: each running experiment checkpoints its run and stops (it stays pending, to resume). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const running = this.list().filter((e) => e.client);
    this.shutdownDone = Promise.race([
      Promise.allSettled(running.map((e) => e.client!.request({ kind: 'experiment/stop' }, { timeoutMs: 3000 }).then(() => e.ended))),
      new Promise((r) => setTimeout(r, 3000)),
    ]).then(() => undefined);
    await this.shutdownDone;
    for (const e of running) void e.client?.dispose();
  }

  /** VS Code disposes right after calling deactivate without waiting: the workers get their last checkpoint in first. */
  dispose(): void {
    const end = (): void => {
      for (const e of this.experiments.values()) void e.client?.dispose();
      this.changeEmitter.dispose();
    };
    if (this.shutdownDone) void this.shutdownDone.then(end);
    else end();
  }
}
