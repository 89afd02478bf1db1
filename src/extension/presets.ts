import { DEFAULT_MODEL, DEFAULT_TRAIN, type ModelConfig } from '../engine/config';
import { estimateTrainingBytes, flopsPerChar, formatBytes, parameterCount } from '../engine/memory';
import { FAMILY_NAMES, infoOf } from '../engine/models/catalog';
import { resolveRun } from '../engine/run/resolve';
import { extensionNames } from '../engine/run/settings';
import type { RunSettings } from './library';

export interface Preset {
  /** tiny, small, medium (the default family), or a block family's name. */
  id: string;
  label: string;
  detail: string;
  settings: RunSettings;
}

/** Sizes offered in the quick pick: a quick look, a useful model, a good one. */
export function presets(): Preset[] {
  // The default family (the LSTM), measured at these sizes.
  const cell = DEFAULT_MODEL.cell;
  const title = infoOf(cell).title;
  const make = (hidden: number, layers: number, seq: number, batch: number, maxSteps: number, lr: number): RunSettings => ({
    model: { cell, activation: 'tanh', hidden, layers },
    train: { ...DEFAULT_TRAIN, seq, batch, lr },
    maxSteps,
    maxMinutes: 0,
    valEvery: 100,
  });
  return [
    { id: 'tiny', label: 'Tiny', detail: `${title} 64×1, a quick look in seconds`, settings: make(64, 1, 32, 16, 300, 3e-3) },
    { id: 'small', label: 'Small', detail: `${title} 128×2, a useful model in a few minutes`, settings: make(128, 2, 50, 32, 2000, 2e-3) },
    { id: 'medium', label: 'Medium', detail: `${title} 256×2, better text, longer training`, settings: make(256, 2, 64, 32, 5000, 2e-3) },
    ...blockPresets(),
  ];
}

/**
 * One preset per block family at nanoGPT's small CPU size (width 128, 4
 * blocks, 64 characters × 12 streams), resolved as the settings would be: the
 * family's own defaults (gpt's 4 heads, context = the window) and its
 * training recipe.
 */
function blockPresets(): Preset[] {
  return FAMILY_NAMES.filter((f) => infoOf(f).kind === 'blocks').map((cell) => {
    const r = resolveRun({ cell, hidden: 128, layers: 4, seq: 64, batch: 12, maxSteps: 2000 }, null, extensionNames);
    const title = infoOf(cell).title;
    const label = infoOf(cell).label({ ...r.model, vocabSize: 1 });
    return {
      id: cell,
      label: title,
      detail: `${label} 128×4 blocks, ${infoOf(cell).description}`,
      settings: { model: r.model, train: r.train, maxSteps: 2000, maxMinutes: 0, valEvery: 100 },
    };
  });
}

/**
 * "1.2M params · 48 MiB · ~3 min/epoch" for a settings choice on a text of
 * `chars` characters; the times only when the machine's speed (`gflops`,
 * measured in the inference worker) is known.
 */
export function describeEstimate(settings: RunSettings, vocabSize: number, chars: number, gflops: number | undefined): string {
  const config: ModelConfig = { ...settings.model, vocabSize };
  const params = parameterCount(config);
  const bytes = estimateTrainingBytes(config, settings.train);
  if (gflops === undefined || !(gflops > 0)) return `${formatCount(params)} params · ${formatBytes(bytes)}`;
  const charsPerSec = (gflops * 1e9) / flopsPerChar(config);
  const epochChars = chars * (1 - settings.train.valFraction);
  const steps = settings.maxSteps > 0 ? Math.min(settings.maxSteps, Infinity) : 0;
  const runChars = steps * settings.train.batch * settings.train.seq;
  return (
    `${formatCount(params)} params · ${formatBytes(bytes)} · ~${formatSeconds(epochChars / charsPerSec)}/epoch` +
    (runChars > 0 ? ` · ${steps} steps ≈ ${formatSeconds(runChars / charsPerSec)}` : '')
  );
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
