/**
 * Trains one run into a checkpoint file with its history beside it: the run
 * module's loop (engine/run, `startRun`) in slices, each checkpoint the loop
 * hands over written atomically with the history in the one format
 * (src/shared/history.ts). The CLI's `train`, its experiments and the
 * extension's experiment worker all train through this; `startRun` is passed
 * in because src/shared/ runs no engine code of its own (DESIGN §3).
 */
import * as fs from 'node:fs';

import type {
  Checkpoint,
  Kernels,
  ResolvedRun,
  RunInput,
  RunOutcome,
  RunProgress,
  RunValidation,
  Session,
  SettingNamer,
  TextSource,
  startRun as StartRun,
} from '../../engine';
import type { FileIO } from './engineApi';
import {
  HISTORY_FORMAT,
  historyLine,
  historyPathFor,
  historySeconds,
  parseHistory,
  type HistoryRecord,
  type HistorySession,
  type RunHistory,
} from '../history';

/** What trainRunToFile needs from its front end: the run module's entry and atomic writes. */
export interface RunToFileDeps {
  startRun: typeof StartRun;
  io: Pick<FileIO, 'write' | 'quote'>;
}

/** The event loop gets a turn this often, so Ctrl-C and the progress bar's timer are handled. */
const YIELD_MS = 25;

export interface TrainFileRequest {
  /** The training text: a string, or a source that streams it (engine TextSource). */
  text: string | TextSource;
  settings: RunInput;
  /** Continue this checkpoint; its history (`<init>.history.jsonl`) is carried on into `out`'s. */
  init?: { path: string; checkpoint: Checkpoint } | null;
  /** Where the checkpoint goes; the history goes beside it (historyPathFor). */
  out: string;
  metadata?: Record<string, string>;
  names?: SettingNamer;
  memoryHint?: string;
  kernels?: Kernels;
  /** Called once the run is built, before the first step (the CLI prints its header here). */
  onStart?(run: { session: Session; resolved: ResolvedRun }): void;
  onProgress?(p: RunProgress): void;
  onValidation?(v: RunValidation): void;
  onCheckpoint?(c: { path: string; step: number; bytes: number; final: boolean }): void;
  /** Polled between slices: true ends the session (a final validation and checkpoint, reason 'stopped'). */
  shouldStop?(): boolean;
  /** Length of a slice in ms, how often shouldStop is polled (default 25; 0 = after every step). */
  sliceMs?: number;
}

export interface TrainFileResult {
  outcome: RunOutcome;
  resolved: ResolvedRun;
  session: Session;
  /** The run's whole history as written beside the checkpoint (earlier sessions included). */
  history: RunHistory;
  historyPath: string;
  /** Set when the history could not be written (the checkpoint was): the reason. */
  historyError: string | null;
}

/** The prior history of a checkpoint, as text ending in a newline ('' when there is none or it cannot be read). */
function readPriorHistory(checkpointPath: string): string {
  try {
    const text = fs.readFileSync(historyPathFor(checkpointPath), 'utf8');
    return text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
  } catch {
    return '';
  }
}

/**
 * Trains a run to the end of its budget (or until `shouldStop`), saving to
 * `out` and its history file. Resolves with the outcome; a diverged run
 * resolves too (outcome.reason 'diverged', `out` holds the last checkpoint
 * with finite weights, if one was saved). User errors (settings, data) throw.
 */
export async function trainRunToFile(deps: RunToFileDeps, req: TrainFileRequest): Promise<TrainFileResult> {
  const historyPath = historyPathFor(req.out);
  const prior = req.init ? readPriorHistory(req.init.path) : '';
  const priorHistory = parseHistory(prior);
  let pending: HistoryRecord[] = [];
  let historyStarted = false;
  let historyError: string | null = null;
  const all: HistoryRecord[] = [];

  const writeHistory = (): void => {
    const text = pending.map(historyLine).join('');
    all.push(...pending);
    pending = [];
    if (historyError) return;
    try {
      if (!historyStarted) {
        // The first save of the session writes the whole file (earlier sessions, then this one) at once.
        deps.io.write(historyPath, new TextEncoder().encode(prior + text));
        historyStarted = true;
      } else if (text) {
        fs.appendFileSync(historyPath, text);
      }
    } catch (e) {
      historyError = `could not write the history ${deps.io.quote(historyPath)}: ${(e as Error).message}`;
    }
  };

  const { session, resolved, loop } = deps.startRun(
    {
      text: req.text,
      settings: req.settings,
      resume: req.init ? { checkpoint: req.init.checkpoint, label: `the checkpoint ${deps.io.quote(req.init.path)}` } : null,
      metadata: req.metadata ?? {},
      ...(req.names ? { names: req.names } : {}),
      ...(req.memoryHint ? { memoryHint: req.memoryHint } : {}),
      ...(req.kernels ? { kernels: req.kernels } : {}),
      secondsBefore: historySeconds(priorHistory),
    },
    {
      progress: (p) => {
        pending.push({ kind: 'step', ...p });
        req.onProgress?.(p);
      },
      validation: (v) => {
        pending.push({ kind: 'val', ...v });
        req.onValidation?.(v);
      },
      checkpoint: (c) => {
        deps.io.write(req.out, c.bytes);
        writeHistory();
        req.onCheckpoint?.({ path: req.out, step: c.step, bytes: c.bytes.length, final: c.final });
      },
    },
  );
  const sessionRecord: HistorySession = {
    kind: 'session',
    format: HISTORY_FORMAT,
    startStep: session.startStep,
    startedAt: new Date().toISOString(),
    settings: { model: resolved.model, train: resolved.train, limits: resolved.limits, notes: resolved.notes },
  };
  pending.push(sessionRecord);
  req.onStart?.({ session, resolved });

  let outcome: RunOutcome | null = null;
  while (!outcome) {
    if (req.shouldStop?.()) {
      outcome = loop.stop();
      break;
    }
    outcome = loop.runFor(req.sliceMs ?? YIELD_MS);
    if (!outcome) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Records after the last checkpoint (a divergence) are not written: the history matches the checkpoint.
  const history = parseHistory(prior + all.map(historyLine).join(''));
  return { outcome, resolved, session, history, historyPath, historyError };
}

