/**
 * The pure parts of `npm run bench:quality`: which presets run, the settings
 * each trains with for a budget of steps, the step budget a measured rate
 * gives, and the table, best first.
 */
import type { CellType, RunInput } from '../src/engine';
import type { Preset } from '../src/shared/presets';

/** The tail of the text held out and scored: the first 90 % trains, the last 10 % is the validation set. */
export const VAL_FRACTION = 0.1;
/** Checkpoints only at the end (the longest interval the settings allow): the bench keeps none. */
const CHECKPOINT_SECONDS = 86_400;

/** The presets to train: `ids` in their order when given, else all; then only `family`'s. */
export function selectPresets(all: Preset[], ids: string[] | null, family: CellType | null): Preset[] {
  const chosen = ids ? ids.map((id) => all.find((p) => p.id === id)).filter((p): p is Preset => p !== undefined) : all;
  return family ? chosen.filter((p) => p.settings.model.cell === family) : chosen;
}

/** Steps a run of `seconds` takes at `stepsPerSecond` (at least one). */
export function stepsFor(stepsPerSecond: number, seconds: number): number {
  if (!(stepsPerSecond > 0) || !(seconds > 0)) return 1;
  return Math.max(1, Math.floor(stepsPerSecond * seconds));
}

/**
 * A preset's settings as the run loop's input for a run of `steps` steps
 * (capped at `seconds` of training when given): the preset's recipe, its
 * learning-rate decay stretched or shrunk to end where it ends in the preset
 * relative to the preset's own step budget, the held-out tail, one
 * validation at the end.
 */
export function qualityInput(preset: Preset, steps: number, seconds: number | null, threads: number): RunInput {
  const { model, train, maxSteps } = preset.settings;
  let decaySteps = 0;
  if (train.schedule !== 'constant' && train.decaySteps > 0 && maxSteps > 0 && train.decaySteps !== maxSteps) {
    decaySteps = Math.max(1, Math.round((train.decaySteps * steps) / maxSteps));
  }
  return {
    ...model,
    ...train,
    // 0: the decay ends at the run's last step.
    decaySteps,
    valFraction: VAL_FRACTION,
    maxSteps: steps,
    maxMinutes: seconds === null ? 0 : seconds / 60,
    validateEvery: 0,
    checkpointSeconds: CHECKPOINT_SECONDS,
    threads,
  };
}

/** One preset's result. */
export interface QualityRow {
  preset: string;
  family: CellType;
  /** "LSTM 256×2, T64 B32" */
  shape: string;
  params: number;
  steps: number;
  charsSeen: number;
  seconds: number;
  charsPerSec: number;
  /** Validation loss on the whole held-out tail, nats per character (NaN when the run diverged). */
  valLoss: number;
  bpc: number;
  /** How the run ended: 'steps' (as calibrated), 'time' (the cap came first), 'diverged'. */
  reason: string;
}

/** Best (lowest validation loss) first; runs without a finite loss last, in their order. */
export function rankRows(rows: QualityRow[]): QualityRow[] {
  const score = (r: QualityRow): number => (Number.isFinite(r.valLoss) ? r.valLoss : Infinity);
  return rows.map((r, i) => ({ r, i })).sort((a, b) => score(a.r) - score(b.r) || a.i - b.i).map((x) => x.r);
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');
const loss = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '—');

/** The table as Markdown, best first. */
export function formatTable(rows: QualityRow[]): string {
  const lines = [
    '| family | preset | model | params | steps | chars seen | chars/s | val nats/char | val bpc |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rankRows(rows)) {
    const ended = r.reason === 'steps' ? '' : ` (${r.reason})`;
    lines.push(
      `| ${r.family} | ${r.preset} | ${r.shape} | ${count(r.params)} | ${count(r.steps)}${ended} | ${count(r.charsSeen)} | ${count(r.charsPerSec)} | ${loss(r.valLoss)} | ${loss(r.bpc)} |`,
    );
  }
  return lines.join('\n');
}
