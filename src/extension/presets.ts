import { DEFAULT_MODEL, DEFAULT_TRAIN, estimateTrainingBytes, familyOf, flopsPerChar, formatBytes, parameterCount, type ModelConfig } from '../engine';
import { bestKernels } from '../engine/wasm';
import type { RunSettings } from './library';

export interface Preset {
  id: 'tiny' | 'small' | 'medium';
  label: string;
  detail: string;
  settings: RunSettings;
}

/** Sizes offered in the quick pick: a quick look, a useful model, a good one. */
export function presets(): Preset[] {
  // The default family (the LSTM), measured at these sizes.
  const cell = DEFAULT_MODEL.cell;
  const title = familyOf(cell).title;
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
  ];
}

let measuredGflops: number | null = null;

/** This machine's speed with the kernels training will use, measured once (about 20 ms). */
export function machineGflops(): number {
  if (measuredGflops !== null) return measuredGflops;
  const M = 32, N = 256, K = 256;
  const a = new Float32Array(M * K).fill(0.5);
  const b = new Float32Array(N * K).fill(0.25);
  const out = new Float32Array(M * N);
  const kernels = bestKernels();
  kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false); // warm-up
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < 20) {
    kernels.gemmABt(out, 0, a, 0, b, 0, M, N, K, false);
    reps++;
  }
  // Training overheads (elementwise work, softmax, optimizer) take roughly a third on top.
  measuredGflops = ((2 * M * N * K * reps) / ((performance.now() - start) / 1000) / 1e9) * 0.75;
  return measuredGflops;
}

/** "1.2M params · 48 MiB · ~3 min/epoch" for a settings choice on a text of `chars` characters. */
export function describeEstimate(settings: RunSettings, vocabSize: number, chars: number): string {
  const config: ModelConfig = { ...settings.model, vocabSize };
  const params = parameterCount(config);
  const bytes = estimateTrainingBytes(config, settings.train);
  const charsPerSec = (machineGflops() * 1e9) / flopsPerChar(config);
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
