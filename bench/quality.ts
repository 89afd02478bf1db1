/**
 * `npm run bench:quality -- --corpus FILE --seconds S`: quality at equal wall
 * time. Each preset of the editor (src/shared/presets.ts) trains for S
 * seconds on the first 90 % of the text through the engine's run loop (the
 * path `rnn-lab train` and the editor's trainer take: startRun, RunLoop) and
 * is scored on the last 10 %.
 *
 * A time budget does not tell a decaying learning-rate schedule where to end,
 * so each preset first trains for a few seconds from scratch to measure its
 * step rate on this machine; the measured run is then the number of steps
 * that fills S seconds at that rate, its schedule fitted to them
 * (qualityPlan.ts), with S seconds as a hard cap. That run is deterministic
 * given its step count, which the table reports. `--steps N` skips the
 * calibration and trains N steps (an equal-steps comparison).
 */
import { readFileSync } from 'node:fs';

import { bestKernels, expectedCharsPerSec, infoOf, parameterCount, startRun, stopHelpers, type RunOutcome } from '../src/engine';
import { measureGflops } from '../src/engine/trainingSpeed';
import { presets, type Preset } from '../src/shared/presets';
import { parseQualityArgs, type QualityArgs } from './qualityArgs';
import { formatTable, qualityInput, selectPresets, stepsFor, type QualityRow } from './qualityPlan';

/** Steps of the calibration not timed: the first steps compile and warm up. */
const CALIBRATION_WARMUP_FRACTION = 0.2;
const SLICE_MS = 1000;
const PROGRESS_EVERY_MS = 30_000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Steps per training second of `preset` on this machine, from a short run of `seconds` (discarded). */
function calibrate(text: string, preset: Preset, seconds: number, threads: number): number {
  const { loop } = startRun({ text, settings: qualityInput(preset, 1e9, null, threads) }, {});
  let from: { step: number; seconds: number } | null = null;
  while (loop.seconds < seconds) {
    loop.runFor(Math.min(SLICE_MS, 250));
    if (!from && loop.seconds >= seconds * CALIBRATION_WARMUP_FRACTION) from = { step: loop.step, seconds: loop.seconds };
  }
  const start = from ?? { step: 0, seconds: 0 };
  return (loop.step - start.step) / Math.max(1e-9, loop.seconds - start.seconds);
}

/** The step rate the editor's presets quick pick assumes for `preset` (src/extension/presets.ts). */
function estimatedStepRate(preset: Preset, text: string, threads: number): number {
  speed ??= measureGflops(bestKernels());
  const { batch, seq } = preset.settings.train;
  return expectedCharsPerSec({ ...preset.settings.model, vocabSize: new Set(text).size }, batch, speed, threads)! / (batch * seq);
}
let speed: number[] | undefined;

function measure(text: string, preset: Preset, args: QualityArgs): QualityRow {
  let steps = args.steps;
  if (steps === null) {
    const rate = calibrate(text, preset, args.calibrateSeconds, args.threads);
    steps = stepsFor(rate, args.seconds);
    log(`${preset.id}: ${rate.toFixed(2)} steps/s in a ${args.calibrateSeconds} s calibration → ${steps} steps (the editor's time estimate: ${estimatedStepRate(preset, text, args.threads).toFixed(2)} steps/s)`);
  }
  const input = qualityInput(preset, steps, args.steps === null ? args.seconds : null, args.threads);
  const { session, resolved, loop } = startRun({ text, settings: input }, {});
  let outcome: RunOutcome | null = null;
  let lastLog = performance.now();
  while (!outcome) {
    outcome = loop.runFor(SLICE_MS);
    if (performance.now() - lastLog > PROGRESS_EVERY_MS) {
      log(`${preset.id}: step ${loop.step}/${steps}, ${loop.seconds.toFixed(0)} s`);
      lastLog = performance.now();
    }
  }
  const { model, train } = resolved;
  const val = outcome.val;
  return {
    preset: preset.id,
    family: model.cell,
    shape: `${infoOf(model.cell).title} ${model.hidden}×${model.layers}, T${train.seq} B${train.batch}`,
    params: parameterCount(session.model.config),
    steps: outcome.step,
    charsSeen: session.trainer.state.charsSeen,
    seconds: outcome.seconds,
    charsPerSec: outcome.charsPerSec,
    valLoss: outcome.reason === 'diverged' || !val ? NaN : val.loss,
    bpc: outcome.reason === 'diverged' || !val ? NaN : val.bpc,
    reason: outcome.reason,
  };
}

function main(): void {
  const args = parseQualityArgs(process.argv.slice(2), __dirname);
  const text = readFileSync(args.corpus, 'utf8');
  const chosen = selectPresets(presets(), args.presets, args.only);
  if (chosen.length === 0) {
    log(`bench:quality: no preset of family ${args.only} among ${args.presets?.join(', ') ?? 'the presets'}`);
    process.exit(2);
  }
  const budget = args.steps === null ? `${args.seconds} s of training each` : `${args.steps} steps each`;
  log(`${args.corpus}: ${text.length.toLocaleString('en-US')} characters, first 90% trained, last 10% scored; ${budget}`);
  const rows: QualityRow[] = [];
  for (const preset of chosen) {
    const row = measure(text, preset, args);
    rows.push(row);
    if (args.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else log(`${preset.id}: ${row.steps} steps in ${row.seconds.toFixed(0)} s, validation ${row.valLoss.toFixed(4)} nats/char (${row.bpc.toFixed(4)} bpc)`);
  }
  if (!args.json) process.stdout.write(`${formatTable(rows)}\n`);
}

try {
  main();
} finally {
  stopHelpers();
}
