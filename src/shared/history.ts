/**
 * A run's history: every logged step and every validation, kept beside its
 * checkpoint as JSON Lines (`model.safetensors` → `model.history.jsonl`), one
 * record per line. The CLI writes it, the extension writes it for the models
 * of its library, the loss panel and `rnn-lab report` read it, and resuming a
 * run appends to it.
 *
 * A session (one `train` invocation, one start or resume in the editor) begins
 * with a `session` record naming the step it starts from; a reader drops the
 * records of earlier sessions past that step, so resuming from an older
 * checkpoint (or after a crash that lost the steps since the last save) gives
 * one consistent curve.
 *
 * Pure: no I/O (the writers and readers do it), safe for the webviews.
 */
import type { RunProgress } from '../engine/run/loop';

export const HISTORY_FORMAT = 'rnn-lab-history/1';

/** The first record of a session. */
export interface HistorySession {
  kind: 'session';
  format: typeof HISTORY_FORMAT;
  /** Step the session starts from (0 for a fresh run, the checkpoint's step on resume). */
  startStep: number;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** The resolved settings of the session (model shape, training config, budgets), for the record. */
  settings?: Record<string, unknown>;
}

/** One logged step (the front ends log at most ~10 a second, and always the last before a save or the end). */
export interface HistoryStep extends RunProgress {
  kind: 'step';
}

export interface HistoryValidation {
  kind: 'val';
  step: number;
  /** Mean loss in nats per character, and in bits. */
  loss: number;
  bpc: number;
  /** Characters scored (periodic validations read at most the first 20,000 of the held-out tail). */
  chars: number;
}

export type HistoryRecord = HistorySession | HistoryStep | HistoryValidation;

/** What a reader gets: the steps and validations of the surviving sessions, in step order. */
export interface RunHistory {
  sessions: HistorySession[];
  steps: HistoryStep[];
  validations: HistoryValidation[];
}

/** `dir/model.safetensors` → `dir/model.history.jsonl`; any other name gets the suffix appended. */
export function historyPathFor(checkpointPath: string): string {
  return checkpointPath.replace(/\.safetensors$/i, '') + '.history.jsonl';
}

/** 7 significant digits (float32 precision), so a line stays short. */
function short(v: number): number {
  return Number.isFinite(v) && !Number.isInteger(v) ? +v.toPrecision(7) : v;
}

/** JSON has no NaN or Infinity: they are written as null and read back as NaN. */
export function historyLine(record: HistoryRecord): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? short(v) : null) : v)) + '\n';
}

export function historyText(records: readonly HistoryRecord[]): string {
  let s = '';
  for (const r of records) s += historyLine(r);
  return s;
}

export function emptyHistory(): RunHistory {
  return { sessions: [], steps: [], validations: [] };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : v === null ? NaN : NaN);
const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** One line as a record, or null when it is not one (a torn last line, a foreign line). */
export function parseHistoryLine(line: string): HistoryRecord | null {
  if (line.length === 0 || line.length > 1_000_000) return null;
  let r: Record<string, unknown>;
  try {
    const v = JSON.parse(line) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    r = v as Record<string, unknown>;
  } catch {
    return null;
  }
  switch (r.kind) {
    case 'session':
      if (!count(r.startStep)) return null;
      return {
        kind: 'session',
        format: HISTORY_FORMAT,
        startStep: r.startStep,
        startedAt: typeof r.startedAt === 'string' ? r.startedAt.slice(0, 40) : '',
        ...(typeof r.settings === 'object' && r.settings !== null && !Array.isArray(r.settings) ? { settings: r.settings as Record<string, unknown> } : {}),
      };
    case 'step':
      if (!count(r.step)) return null;
      return {
        kind: 'step',
        step: r.step,
        loss: num(r.loss),
        gradNorm: num(r.gradNorm),
        clipped: r.clipped === true,
        lr: num(r.lr),
        epoch: count(r.epoch) ? r.epoch : 0,
        epochProgress: num(r.epochProgress),
        charsSeen: count(r.charsSeen) ? r.charsSeen : 0,
        charsPerSec: num(r.charsPerSec),
        seconds: num(r.seconds),
      };
    case 'val':
      if (!count(r.step)) return null;
      return { kind: 'val', step: r.step, loss: num(r.loss), bpc: num(r.bpc), chars: count(r.chars) ? r.chars : 0 };
    default:
      return null;
  }
}

/**
 * Appends records to a history, applying the session rule: a session that
 * starts at step S drops every earlier step and validation after S.
 */
export function mergeHistory(into: RunHistory, records: Iterable<HistoryRecord>): RunHistory {
  for (const r of records) {
    switch (r.kind) {
      case 'session': {
        const s = r.startStep;
        if (into.steps.length && into.steps[into.steps.length - 1]!.step > s) into.steps = into.steps.filter((p) => p.step <= s);
        if (into.validations.length && into.validations[into.validations.length - 1]!.step > s) {
          into.validations = into.validations.filter((v) => v.step <= s);
        }
        into.sessions.push(r);
        break;
      }
      case 'step':
        into.steps.push(r);
        break;
      case 'val':
        into.validations.push(r);
        break;
      default: {
        const never: never = r;
        throw new Error(`unknown history record ${JSON.stringify(never)}`);
      }
    }
  }
  return into;
}

/** Reads a whole history file's text; lines that are not records are skipped. */
export function parseHistory(text: string): RunHistory {
  const records: HistoryRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseHistoryLine(line.trim());
    if (r) records.push(r);
  }
  return mergeHistory(emptyHistory(), records);
}

/** Training seconds at the end of a history (what a resumed session counts from). */
export function historySeconds(h: RunHistory): number {
  const last = h.steps[h.steps.length - 1];
  return last && Number.isFinite(last.seconds) ? last.seconds : 0;
}
