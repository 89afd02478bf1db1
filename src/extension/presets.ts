import type { ModelConfig } from '../engine/config';
import { estimateTrainingBytes, expectedCharsPerSec, formatBytes, parameterCount } from '../engine/memory';
import type { RunSettings } from './library';

// The table itself is shared with `npm run bench:quality`, which trains it.
export { presets, type Preset } from '../shared/presets';

/**
 * "1.2M params · 48 MiB · ~3 min/epoch" for a settings choice on a text of
 * `chars` characters; the times only when the machine's speed is known
 * (`speed`: training GFLOP/s by thread count, measured in the inference
 * worker), for the threads the run will get (`threadsSetting`:
 * rnnLab.training.threads, 0 = automatic).
 */
export function describeEstimate(settings: RunSettings, vocabSize: number, chars: number, speed: readonly number[] | undefined, threadsSetting = 0): string {
  const config: ModelConfig = { ...settings.model, vocabSize };
  const params = parameterCount(config);
  const bytes = estimateTrainingBytes(config, settings.train);
  const charsPerSec = expectedCharsPerSec(config, settings.train.batch, speed, threadsSetting);
  if (charsPerSec === undefined) return `${formatCount(params)} params · ${formatBytes(bytes)}`;
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
