/** `rnn-lab train <file...>`: train a model on text files, or continue a checkpoint with --init. */
import * as path from 'node:path';

import type { Command } from 'commander';

import { describeKernels, infoOf, parameterCount, type Checkpoint, type ResolvedRun, type RunInput, type Session, type TextSource } from '../../engine';
import { claimOutput, loadCheckpoint } from '../checkpointFile';
import { readCorpus } from '../corpus';
import { quotePath, sameFile } from '../files';
import { exitCodeOf, trainToFile, type TrainFileResult } from '../loop';
import { conflict } from '../options';
import { formatCount, formatDuration, keepRunningIfStdoutCloses, round, type Output } from '../output';
import { createReporter, type StartInfo } from '../progress';
import { addSettingOptions, readSettingOptions } from '../settingOptions';

export function addTrainCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  const cmd = program
    .command('train')
    .description('train a character-level model on text files (several files are concatenated in order)')
    .argument('<file...>', 'UTF-8 text files to train on');
  addSettingOptions(cmd);
  cmd
    .option('--extend-schedule', "with --init: stretch the checkpoint's linear/cosine decay to end at the new last step")
    .option('--init <checkpoint>', 'continue training exactly where this checkpoint stopped (its model and settings; see README for what may change)')
    .option('--out <checkpoint>', 'where to save the model (its history goes beside it, as <name>.history.jsonl)', 'model.safetensors')
    .option('--json', 'one JSON event per line on stdout instead of a progress bar')
    .action(async (files: string[], opts: Record<string, unknown>) => {
      await run(Boolean(opts.json), (out) => train(files, opts, cmd, out));
    });
}

async function train(files: string[], opts: Record<string, unknown>, cmd: Command, out: Output): Promise<number> {
  keepRunningIfStdoutCloses();
  const { input, names } = readSettingOptions(cmd, opts);
  if (opts.extendSchedule === true) input.extendSchedule = true;
  const initPath = typeof opts.init === 'string' ? opts.init : null;
  const outPath = String(opts.out);
  const initCheckpoint = initPath !== null ? loadCheckpoint(initPath) : null;
  claimOutput(outPath);
  for (const f of files) {
    if (sameFile(f, outPath)) conflict(`--out ${quotePath(outPath)} is one of the training files: choose another name for the checkpoint`);
  }
  const corpus = readCorpus(files);
  const { code } = await runTrainCommand(
    {
      text: corpus.source,
      input,
      names,
      init: initCheckpoint && initPath !== null ? { path: initPath, checkpoint: initCheckpoint } : null,
      out: outPath,
      files: corpus.files,
      memoryHint: 'raise --max-memory-mb',
    },
    out,
  );
  return code;
}

/** The part `train` and `demo` share: run the loop with a reporter and turn the outcome into lines, events and an exit code. */
export async function runTrainCommand(
  r: {
    text: string | TextSource;
    input: RunInput;
    names?: (key: string) => string;
    init: { path: string; checkpoint: Checkpoint } | null;
    out: string;
    files: string[];
    memoryHint?: string;
  },
  out: Output,
): Promise<{ code: number; result: TrainFileResult }> {
  const reporter = createReporter(out);
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) {
      // A second Ctrl-C: stop at once (writes are synchronous, so no file is half written).
      process.stderr.write('\nrnn-lab: interrupted again, exiting without saving\n');
      process.exit(130);
    }
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let startStep = 0;
  let startedAt = performance.now();
  let result: TrainFileResult;
  try {
    result = await trainToFile({
      text: r.text,
      settings: r.input,
      init: r.init,
      out: r.out,
      metadata: sourceMetadata(r.files),
      ...(r.names ? { names: r.names } : {}),
      memoryHint: r.memoryHint ?? 'raise --max-memory-mb',
      onStart: ({ session, resolved }) => {
        startStep = session.startStep;
        startedAt = performance.now();
        reporter.start(describeStart(session, resolved, { files: r.files, out: r.out, init: r.init?.path ?? null }));
      },
      // p.seconds counts earlier sessions too; the bar's ETA wants this one's.
      onProgress: (p) => reporter.step({ result: p, done: p.step - startStep, elapsed: (performance.now() - startedAt) / 1000, charsPerSec: p.charsPerSec }),
      onValidation: (v) => reporter.val(v.step, v.loss, v.bpc),
      onCheckpoint: (c) => reporter.checkpoint(c.path, c.step, c.bytes),
      shouldStop: () => interrupted,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    reporter.finish();
  }
  const { outcome } = result;
  const code = exitCodeOf(result, r.out);
  const step = outcome.step;
  const lines: string[] = [];
  if (outcome.reason === 'stopped') lines.push(`Interrupted at step ${step}.`);
  const last = outcome.last;
  const val = outcome.val;
  if (last) {
    lines.push(
      `Trained ${formatCount(outcome.stepsDone)} step${outcome.stepsDone === 1 ? '' : 's'} in ${formatDuration(outcome.seconds)} ` +
        `(${formatCount(outcome.charsPerSec)} chars/s), now at step ${step}; last training loss ${last.loss.toFixed(4)}` +
        (val ? `, validation ${val.bpc.toFixed(3)} bits/char` : ''),
    );
  }
  lines.push(`Saved ${r.out} (history in ${path.basename(result.historyPath)}).`);
  if (result.historyError) process.stderr.write(`rnn-lab: ${result.historyError} (the checkpoint was saved)\n`);
  reporter.done({
    lines,
    fields: {
      step,
      steps: outcome.stepsDone,
      loss: last ? round(last.loss, 5) : null,
      valLoss: val ? round(val.loss, 5) : null,
      valBpc: val ? round(val.bpc, 5) : null,
      seconds: round(outcome.seconds, 3),
      charsPerSec: Math.round(outcome.charsPerSec),
      out: r.out,
      history: result.historyPath,
      reason: outcome.reason === 'stopped' ? 'interrupted' : outcome.reason,
    },
  });
  return { code, result };
}

/** Checkpoint metadata naming the training files (base names only: no local paths leak into a shared model). */
export function sourceMetadata(files: readonly string[]): Record<string, string> {
  return { sources: JSON.stringify(files.map((f) => path.basename(f))) };
}

/** The start event and the human header lines. */
export function describeStart(session: Session, resolved: ResolvedRun, where: { files: string[]; out: string; init: string | null }): StartInfo {
  const { model, train, trainTokens, valTokens, startStep } = session;
  const { stopAtStep, maxSeconds, maxChars } = resolved.limits;
  const steps = Number.isFinite(stopAtStep) ? Math.max(0, stopAtStep - startStep) : Infinity;
  const seconds = maxSeconds;
  const c = model.config;
  const params = parameterCount(c);
  const lines: string[] = [];
  const shape = `${c.layers}-layer ${infoOf(c.cell).label(c)}, hidden ${c.hidden}`;
  if (where.init) lines.push(`Continuing ${quotePath(where.init)} at step ${startStep}.`);
  for (const n of resolved.notes) lines.push(`Note: ${n}.`);
  lines.push(
    `Training a ${shape}: ${formatCount(params)} parameters, ${c.vocabSize} distinct characters, ` +
      `${formatCount(trainTokens.length)} training characters` +
      (valTokens.length > 0 ? ` + ${formatCount(valTokens.length)} held out for validation.` : '.'),
  );
  const limit = [
    Number.isFinite(steps) ? `${formatCount(steps)} step${steps === 1 ? '' : 's'}` : '',
    Number.isFinite(seconds) ? `${+(seconds / 60).toFixed(2)} minute${seconds === 60 ? '' : 's'}` : '',
    Number.isFinite(maxChars) ? `${formatCount(maxChars)} characters` : '',
  ]
    .filter(Boolean)
    .join(' or ');
  lines.push(
    `${train.optimizer} lr ${train.lr}${train.schedule !== 'constant' ? ` (${train.schedule})` : ''}, ` +
      `batch ${train.batch} × sequence ${train.seq}, ${limit || 'until stopped'}, saving to ${where.out}`,
  );
  const kernels = describeKernels(session.trainer.kernels);
  lines.push(`Kernels: ${kernels}.`);
  return {
    lines,
    steps,
    seconds,
    startStep,
    fields: {
      ...c,
      ...train,
      params,
      kernels,
      vocab: c.vocabSize,
      trainChars: trainTokens.length,
      valChars: valTokens.length,
      steps: Number.isFinite(steps) ? steps : null,
      minutes: Number.isFinite(seconds) ? seconds / 60 : null,
      maxChars: Number.isFinite(maxChars) ? maxChars : null,
      validateEvery: resolved.limits.validateEvery,
      saveEvery: resolved.limits.saveEvery,
      checkpointSeconds: resolved.limits.checkpointSeconds,
      notes: resolved.notes,
      startStep,
      stepsPerEpoch: session.trainer.stepsPerEpoch,
      files: where.files,
      init: where.init,
      out: where.out,
    },
  };
}
