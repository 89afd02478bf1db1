/** One line of `results.jsonl`, and the comparisons drawn from the rows. */
import type { PartialSettings, RunSettings } from './settings';

export interface ResultRow {
  id: string;
  /** `grid` or `runs[i]`. */
  origin: string;
  /** The settings that set this run apart (the grid combination or runs entry). */
  varied: PartialSettings;
  /** Every resolved setting. */
  settings: RunSettings;
  seed: number;
  params: number;
  steps: number;
  chars: number;
  /** Training seconds (validation excluded), summed over every rung and resume. */
  seconds: number;
  charsPerSec: number;
  /** Mean cross-entropy in nats per character on the held-out tail. */
  valLoss: number | null;
  valBpc: number | null;
  /**
   * Checkpoint and its history (`<id>.history.jsonl`, the one history format of
   * src/shared/history.ts), relative to the experiment's output folder; the
   * checkpoint is null when the run diverged before its first save.
   */
  checkpoint: string | null;
  history: string;
  /** The rung after which halving stopped the run (or at which it diverged); null when it trained its whole budget. */
  stoppedAt: number | null;
  /** The step at which the loss became NaN or infinite (valLoss is then null); null if it did not. */
  diverged: number | null;
}

/** Best first: by validation loss, a run without one last, then by id. */
export function rankRows<T extends Pick<ResultRow, 'id' | 'valLoss'>>(rows: readonly T[]): T[] {
  const score = (r: T): number => (r.valLoss !== null && Number.isFinite(r.valLoss) ? r.valLoss : Infinity);
  return [...rows].sort((a, b) => score(a) - score(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface SeedGroup {
  /** The run id without its seed part. */
  key: string;
  ids: string[];
  seeds: number[];
  n: number;
  meanBpc: number;
  /** Sample standard deviation (n − 1); 0 for one seed. */
  stdBpc: number;
  meanSeconds: number;
  params: number;
}

/** Runs that differ only by seed, with the mean ± std of their validation bpc; best mean first. */
export function seedGroups(rows: readonly ResultRow[]): SeedGroup[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const key = `${r.id.replace(/-s\d+(-\d+)?$/, '')}`;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }
  const out: SeedGroup[] = [];
  for (const [key, g] of groups) {
    const bpcs = g.map((r) => r.valBpc).filter((b): b is number => b !== null && Number.isFinite(b));
    const n = bpcs.length;
    const mean = n > 0 ? bpcs.reduce((a, b) => a + b, 0) / n : NaN;
    const std = n > 1 ? Math.sqrt(bpcs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
    out.push({
      key,
      ids: g.map((r) => r.id),
      seeds: g.map((r) => r.seed).sort((a, b) => a - b),
      n,
      meanBpc: mean,
      stdBpc: std,
      meanSeconds: g.reduce((a, r) => a + r.seconds, 0) / g.length,
      params: g[0]!.params,
    });
  }
  return out.sort((a, b) => (Number.isFinite(a.meanBpc) ? a.meanBpc : Infinity) - (Number.isFinite(b.meanBpc) ? b.meanBpc : Infinity) || (a.key < b.key ? -1 : 1));
}

/** Setting names that differ between any two runs (the columns worth showing), in settings order. */
export function variedSettingNames(rows: readonly ResultRow[]): string[] {
  if (rows.length === 0) return [];
  const names = Object.keys(rows[0]!.settings).filter((k) => k !== 'seed');
  return names.filter((k) => rows.some((r) => (r.settings as unknown as Record<string, unknown>)[k] !== (rows[0]!.settings as unknown as Record<string, unknown>)[k]));
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The runs table as CSV, in the order given: id, the varied settings, then the results. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const varied = variedSettingNames(rows);
  const head = ['id', ...varied, 'seed', 'params', 'steps', 'chars', 'seconds', 'charsPerSec', 'valLoss', 'valBpc', 'stoppedAt', 'diverged', 'checkpoint'];
  const lines = rows.map((r) => {
    const s = r.settings as unknown as Record<string, unknown>;
    return [r.id, ...varied.map((k) => s[k]), r.seed, r.params, r.steps, r.chars, r.seconds, r.charsPerSec, r.valLoss, r.valBpc, r.stoppedAt, r.diverged, r.checkpoint].map(csvField).join(',');
  });
  return [head.join(','), ...lines].join('\r\n') + '\r\n';
}
