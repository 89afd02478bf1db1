/**
 * Reading an experiment's output folder (written by `rnn-lab experiment` or
 * the editor, the same layout): its finished rows and each run's history,
 * for the Experiment panel. Malformed lines are skipped, not fatal: the
 * folder may be mid-write or from another version.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { historyPathFor, parseHistory, type RunHistory } from '../history';
import type { ResultRow } from './results';

export const RESULTS_FILE = 'results.jsonl';
export const REPORT_FILE = 'report.html';
export const STATE_FILE = 'experiment-state.json';
/** Held by the process writing the folder (src/shared/fileLock.ts). */
export const LOCK_FILE = 'experiment.lock';

/** A folder, or a results.jsonl / report.html / experiment-state.json in one, as the folder; null if it holds no experiment. */
export function experimentFolderOf(target: string): string | null {
  let dir = target;
  try {
    if (!statSync(target).isDirectory()) dir = path.dirname(target);
  } catch {
    return null;
  }
  return existsSync(path.join(dir, RESULTS_FILE)) || existsSync(path.join(dir, STATE_FILE)) ? dir : null;
}

function isRow(x: unknown): x is ResultRow {
  const r = x as Partial<ResultRow> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.params === 'number' && typeof r.settings === 'object' && r.settings !== null && typeof r.history === 'string';
}

/** The rows of results.jsonl ([] when there is none yet). */
export function readResultRows(dir: string): ResultRow[] {
  let text: string;
  try {
    text = readFileSync(path.join(dir, RESULTS_FILE), 'utf8');
  } catch {
    return [];
  }
  const rows: ResultRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as unknown;
      if (isRow(r)) rows.push(r);
    } catch {
      // A line being written or from elsewhere.
    }
  }
  return rows;
}

/** A run's history beside its checkpoint in the folder (empty when it cannot be read). */
export function readRunHistory(dir: string, runId: string): RunHistory | null {
  try {
    return parseHistory(readFileSync(historyPathFor(path.join(dir, `${path.basename(runId)}.safetensors`)), 'utf8'));
  } catch {
    return null;
  }
}
