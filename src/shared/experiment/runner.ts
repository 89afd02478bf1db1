/**
 * Runs an experiment into a folder: plans every run (refusing bad input
 * before anything trains), trains them in order rung by rung through a
 * RunTrainer, and keeps on disk what an exact resume needs:
 *
 *   experiment-state.json   the plan's fingerprint, the runs started, each run's result at each rung
 *   <run-id>.safetensors    the run's checkpoint (full train state), resumed by the next rung or --resume
 *   <run-id>.history.jsonl  its history, in the one format of every run (src/shared/history.ts)
 *   results.jsonl           one row per finished run, rebuilt from the state
 *   report.html             the comparison, rewritten as rows arrive
 *
 * UI-free: the CLI and the extension's experiment worker run it with their
 * own file operations (FileIO), log and progress reporters.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { ConfigError, UserError } from '../../engine/errors';
import { LockedError, acquireLock, type FileLock } from '../fileLock';
import { historyPathFor, parseHistory, type RunHistory } from '../history';
import type { FileIO } from './engineApi';
import { countRuns, expandExperiment, type PlannedRun } from './expand';
import { budgetLabel, rungBudgets, selectSurvivors } from './halving';
import { MAX_RUNS_WITHOUT_CONFIRMATION } from './limits';
import { LOCK_FILE, REPORT_FILE, RESULTS_FILE, STATE_FILE } from './outputDir';
import { experimentReportHtml } from './report';
import type { ExperimentLog, RunReporter } from './reporter';
import type { ResultRow } from './results';
import { ExperimentError, parseExperiment, type Budget, type ExperimentSpec, type Problem } from './spec';
import type { CorpusFacts, RunTrainer, TrainOutcome } from './trainer';

export { LOCK_FILE, REPORT_FILE, RESULTS_FILE, STATE_FILE } from './outputDir';
const STATE_FORMAT = 'rnn-lab-experiment/1';

export interface Plan {
  file: string;
  spec: ExperimentSpec;
  /** The text files, resolved against the experiment file's folder. */
  textFiles: string[];
  text: string;
  corpus: CorpusFacts;
  runs: PlannedRun[];
  /** Cumulative budget at the end of each rung (one rung without halving). */
  rungs: Budget[];
  /** Identifies the experiment (file contents and text) so --resume cannot mix two. */
  fingerprint: string;
}

export interface PlanOptions {
  yes: boolean;
  maxMemoryBytes: number;
  io: FileIO;
}

/** Reads and checks everything; nothing trains unless this returns. */
export function planExperiment(file: string, trainer: RunTrainer, opts: PlanOptions): Plan {
  const { io } = opts;
  const where = `${io.quote(file)}: `;
  const source = io.readText(file);
  const spec = parseExperiment(source, { families: trainer.families, where });
  const total = countRuns(spec);
  if (total > MAX_RUNS_WITHOUT_CONFIRMATION && !opts.yes) {
    throw new ConfigError(`${where}the experiment has ${total} runs, more than ${MAX_RUNS_WITHOUT_CONFIRMATION}: add --yes to run them all, or shrink the grid or the seeds`);
  }
  const dir = path.dirname(path.resolve(file));
  const textFiles = spec.text.map((t) => path.resolve(dir, t));
  const missing: Problem[] = [];
  const textIsList = Array.isArray((JSON.parse(source) as { text: unknown }).text);
  textFiles.forEach((f, i) => {
    const at = textIsList ? `text[${i}]` : 'text';
    if (!existsSync(f)) missing.push({ path: at, message: `no such file ${io.quote(spec.text[i]!)} (paths are relative to the experiment file's folder ${io.quote(dir)})` });
    else if (statSync(f).isDirectory()) missing.push({ path: at, message: `${io.quote(spec.text[i]!)} is a folder, not a text file` });
  });
  if (missing.length > 0) throw new ExperimentError(missing, where);
  const text = textFiles.map((f) => io.readText(f)).join('');
  const corpus = trainer.corpus(text, spec.valFraction);
  let runs: PlannedRun[];
  try {
    runs = expandExperiment(spec, { vocabSize: corpus.vocabSize, sizes: trainer.sizes });
  } catch (e) {
    if (e instanceof ExperimentError) throw new ExperimentError(e.problems, where);
    throw e;
  }
  const refused: Problem[] = [];
  for (const run of runs) {
    const why = trainer.refusal(run.settings, corpus, opts.maxMemoryBytes);
    if (why && !refused.some((p) => p.path === run.origin)) refused.push({ path: run.origin, message: `run ${run.id}: ${why}` });
  }
  if (refused.length > 0) throw new ExperimentError(refused, where);
  const fingerprint = createHash('sha256').update(source).update('\u0000').update(text).digest('hex');
  return { file, spec, textFiles, text, corpus, runs, rungs: rungBudgets(spec.budget, spec.halving), fingerprint };
}

/** One run's outcome at the end of one rung. */
export interface RungRecord extends Omit<TrainOutcome, 'interrupted'> {
  rung: number;
}

interface State {
  format: string;
  fingerprint: string;
  /** Runs whose first rung has begun (their checkpoint, if any, is theirs). */
  started: string[];
  /** Per run, its record at each rung it finished, in rung order. */
  rungs: Record<string, RungRecord[]>;
}

function readState(file: string, io: FileIO): State | null {
  if (!existsSync(file)) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as State;
    if (s.format !== STATE_FORMAT || typeof s.fingerprint !== 'string' || !Array.isArray(s.started) || typeof s.rungs !== 'object') throw new Error('malformed');
    return s;
  } catch {
    throw new UserError(`${io.quote(file)} is not an experiment state written by rnn-lab: remove it or choose another --out`);
  }
}

/**
 * The finished rows, in the order they finished: after each rung that every
 * surviving run completed, the runs halving stops (rung < last) or every
 * survivor (last rung). A pure function of the state, so --resume rebuilds
 * results.jsonl exactly.
 */
export function finishedRows(plan: Plan, state: Pick<State, 'rungs'>): { rows: ResultRow[]; alive: PlannedRun[]; rung: number } {
  const R = plan.rungs.length;
  let alive = plan.runs;
  const rows: ResultRow[] = [];
  for (let r = 1; r <= R; r++) {
    const records = alive.map((run) => state.rungs[run.id]?.[r - 1]);
    if (r === R) {
      alive.forEach((run, i) => {
        if (records[i]) rows.push(row(run, records[i]!, records[i]!.diverged !== null && R > 1 ? r : null));
      });
      return { rows, alive, rung: R };
    }
    if (records.some((x) => !x)) return { rows, alive, rung: r };
    // A diverged run never continues (it would diverge again at the same step).
    const ranked = selectSurvivors(alive.map((run, i) => ({ id: run.id, valLoss: records[i]!.valLoss })), plan.spec.halving!.keep);
    const survivors = new Set(ranked.filter((x) => state.rungs[x.id]![r - 1]!.diverged === null).map((x) => x.id));
    alive.forEach((run, i) => {
      if (!survivors.has(run.id)) rows.push(row(run, records[i]!, r));
    });
    alive = alive.filter((run) => survivors.has(run.id));
  }
  return { rows, alive, rung: R };
}

function checkpointName(id: string): string {
  return `${id}.safetensors`;
}

function row(run: PlannedRun, rec: RungRecord, stoppedAt: number | null): ResultRow {
  return {
    id: run.id,
    origin: run.origin,
    varied: run.varied,
    settings: run.settings,
    seed: run.settings.seed,
    params: rec.params,
    steps: rec.steps,
    chars: rec.chars,
    seconds: round(rec.seconds, 3),
    charsPerSec: Math.round(rec.charsPerSec),
    valLoss: rec.valLoss,
    valBpc: rec.valBpc,
    checkpoint: rec.saved ? checkpointName(run.id) : null,
    history: path.basename(historyPathFor(checkpointName(run.id))),
    stoppedAt,
    diverged: rec.diverged,
  };
}

export interface RunOptions {
  out: string;
  resume: boolean;
  /** Also checkpoint every this many steps (0: only at the end of each rung). */
  saveEvery: number;
  /** And at least this often, in seconds of wall time, so a kill loses little. */
  saveSeconds: number;
  maxMemoryBytes: number;
  output: ExperimentLog;
  io: FileIO;
  trainer: RunTrainer;
  /** A fresh progress reporter for each run (`index` counts from 0 in plan order). */
  reporter: (run: PlannedRun, index: number) => RunReporter;
  /** Polled between steps: true stops cleanly (the current run checkpointed) so --resume can continue. */
  shouldStop: () => boolean;
  /** Every run finished (not interrupted): the CLI prints its table here. */
  onFinished?: (rows: readonly ResultRow[]) => void;
  /** The caller holds the folder's lock already (lockExperimentFolder). */
  locked?: boolean;
}

export interface ExperimentOutcome {
  rows: ResultRow[];
  /** Stopped by shouldStop() before every run finished. */
  interrupted: boolean;
}

/**
 * Claims the output folder for one experiment process (a lock file with its
 * pid, taken over from a dead one): two writers, say the CLI and the editor,
 * or a reloading window and its successor, never interleave their runs.
 */
export function lockExperimentFolder(out: string, io: Pick<FileIO, 'quote'>): FileLock {
  mkdirSync(out, { recursive: true });
  try {
    return acquireLock(path.join(out, LOCK_FILE));
  } catch (e) {
    if (e instanceof LockedError) {
      throw new UserError(`${io.quote(out)} is in use by another experiment${e.owner ? ` (process ${e.owner.pid})` : ''}: let it finish or stop it first`);
    }
    throw e;
  }
}

export async function runExperiment(plan: Plan, opts: RunOptions): Promise<ExperimentOutcome> {
  const lock = opts.locked ? null : lockExperimentFolder(opts.out, opts.io);
  try {
    return await runLocked(plan, opts);
  } finally {
    lock?.release();
  }
}

async function runLocked(plan: Plan, opts: RunOptions): Promise<ExperimentOutcome> {
  const { out, output, trainer, io } = opts;
  mkdirSync(out, { recursive: true });
  const stateFile = path.join(out, STATE_FILE);
  const existing = readState(stateFile, io);
  if (existing && !opts.resume) {
    throw new UserError(`${io.quote(out)} already holds an experiment: add --resume to continue it, or choose another --out`);
  }
  if (existing && existing.fingerprint !== plan.fingerprint) {
    throw new UserError(`${io.quote(out)} holds another experiment (the experiment file or its text changed since it started): choose another --out, or remove the folder to start again`);
  }
  const state: State = existing ?? { format: STATE_FORMAT, fingerprint: plan.fingerprint, started: [], rungs: {} };
  const saveState = (): void => io.write(stateFile, new TextEncoder().encode(JSON.stringify(state, null, 1)));
  saveState();

  const R = plan.rungs.length;
  output.event('experiment', { name: plan.spec.name, runs: plan.runs.map((r) => ({ id: r.id, params: r.params })), rungs: plan.rungs, out, resumed: existing !== null });
  output.info(
    `${existing ? 'Resuming' : 'Running'} experiment${plan.spec.name ? ` "${plan.spec.name}"` : ''}: ${plan.runs.length} run${plan.runs.length === 1 ? '' : 's'}` +
      `${R > 1 ? `, successive halving over ${R} rungs (${plan.rungs.map(budgetLabel).join(', ')})` : `, ${budgetLabel(plan.rungs[0]!)} each`}` +
      `, ${formatCount(plan.corpus.trainChars)} training + ${formatCount(plan.corpus.valChars)} validation characters; writing to ${io.quote(out)}`,
  );

  let published = 0;
  const publish = (): ResultRow[] => {
    const { rows } = finishedRows(plan, state);
    io.write(path.join(out, RESULTS_FILE), new TextEncoder().encode(rows.map((r) => jsonLine(r)).join('')));
    for (const r of rows.slice(published)) output.event('result', r as unknown as Record<string, unknown>);
    published = rows.length;
    writeReport(plan, out, rows, io);
    return rows;
  };
  publish();

  let interrupted = false;
  for (;;) {
    const { alive, rung } = finishedRows(plan, state);
    const pending = alive.filter((run) => !state.rungs[run.id]?.[rung - 1]);
    if (pending.length === 0) break;
    const target = plan.rungs[rung - 1]!;
    for (const run of pending) {
      if (opts.shouldStop()) {
        interrupted = true;
        break;
      }
      const ckpt = path.join(out, checkpointName(run.id));
      const resumeFrom = (rung > 1 || state.started.includes(run.id)) && existsSync(ckpt) ? ckpt : null;
      if (!state.started.includes(run.id)) {
        state.started.push(run.id);
        saveState();
      }
      const index = plan.runs.indexOf(run) + 1;
      const result = await trainer.train({
        id: run.id,
        settings: run.settings,
        text: plan.text,
        valFraction: plan.spec.valFraction,
        until: target,
        checkpointIn: resumeFrom,
        out: ckpt,
        saveEvery: opts.saveEvery,
        saveSeconds: opts.saveSeconds,
        valEvery: plan.spec.valEvery,
        maxMemoryBytes: opts.maxMemoryBytes,
        shouldStop: opts.shouldStop,
        reporter: opts.reporter(run, index - 1),
        title:
          `Run ${index}/${plan.runs.length} ${run.id}: ${formatCount(run.params)} parameters` +
          (R > 1 ? `, rung ${rung}/${R} to ${budgetLabel(target)}` : '') +
          (resumeFrom ? ', continuing from its checkpoint' : ''),
      });
      if (result.interrupted) {
        interrupted = true;
        break;
      }
      const { interrupted: _ignored, ...outcome } = result;
      (state.rungs[run.id] ??= []).push({ rung, ...outcome });
      saveState();
      publish();
    }
    if (interrupted) break;
  }
  const rows = publish();
  if (interrupted) {
    output.info(`Interrupted: ${rows.length} of ${plan.runs.length} runs finished; continue with --resume (finished runs are kept, the current run continues from its checkpoint).`);
  } else {
    opts.onFinished?.(rows);
  }
  output.event('done', { runs: rows.length, interrupted, results: path.join(out, RESULTS_FILE), report: path.join(out, REPORT_FILE) });
  return { rows, interrupted };
}

function writeReport(plan: Plan, out: string, rows: ResultRow[], io: FileIO): void {
  const histories: Record<string, RunHistory> = {};
  for (const r of rows) {
    try {
      histories[r.id] = parseHistory(readFileSync(path.join(out, r.history), 'utf8'));
    } catch {
      // A run without a readable history is still in the table.
    }
  }
  const html = experimentReportHtml({ name: plan.spec.name || path.basename(plan.file).replace(/\.rnnlab\.json$/, ''), rows, histories, planned: plan.runs.length });
  io.write(path.join(out, REPORT_FILE), new TextEncoder().encode(html));
}

/** JSON with non-finite numbers as null, on one line (as the CLI's --json writes it). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Number.isFinite(x) ? Math.round(x * f) / f : x;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
