/**
 * The training loop of `train` and `demo`: steps until the step count or the
 * time budget runs out, validates and checkpoints on schedule, stops cleanly
 * on Ctrl-C (finishing the step and saving) and never saves diverged weights.
 */
import { DivergenceError, evaluateStream, type StepResult } from '../engine';
import { saveCheckpoint } from './checkpointFile';
import { quotePath } from './files';
import { EXIT_INTERRUPTED, EXIT_OK, formatCount, formatDuration, round } from './output';
import type { StartInfo, TrainReporter } from './progress';
import type { Session } from '../engine/session';

export interface LoopOptions {
  /** Steps to take in this run (Infinity: until the time budget is spent). */
  steps: number;
  /** Time budget in seconds (Infinity: none). */
  seconds: number;
  /** Validate every this many steps (0: only at the end). */
  valEvery: number;
  /** Save a checkpoint every this many steps (0: only at the end). */
  saveEvery: number;
  out: string;
  /** Extra checkpoint metadata. */
  extra: Record<string, string>;
}

export interface LoopResult {
  exitCode: number;
  step: number;
  /** Last validation, if any. */
  val: { loss: number; bpc: number } | null;
  last: StepResult | null;
  reason: 'steps' | 'time' | 'interrupted';
}

/** The event loop gets a turn this often, so Ctrl-C and the progress bar's timer are handled. */
const YIELD_MS = 25;

export async function runLoop(session: Session, opts: LoopOptions, reporter: TrainReporter, start: StartInfo): Promise<LoopResult> {
  const { trainer, model, valTokens, train } = session;
  const canValidate = train.valFraction > 0 && valTokens.length >= 2;
  let savedStep: number | null = null;
  let val: { loss: number; bpc: number } | null = null;
  let valStep = -1;

  const save = (): void => {
    const bytes = saveCheckpoint(opts.out, model, train, trainer, opts.extra);
    savedStep = trainer.state.step;
    reporter.checkpoint(opts.out, savedStep, bytes);
  };
  const validate = (): void => {
    const r = evaluateStream(model, valTokens, trainer.kernels);
    val = { loss: r.loss, bpc: r.bpc };
    valStep = trainer.state.step;
    reporter.val(valStep, r.loss, r.bpc);
  };

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) {
      // A second Ctrl-C: stop at once (writes are synchronous, so no file is half written).
      process.stderr.write('\nrnn-lab: interrupted again, exiting without saving\n');
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = true;
  };
  process.on('SIGINT', onSigint);

  reporter.start(start);
  const t0 = performance.now();
  const chars0 = trainer.state.charsSeen;
  let lastYield = t0;
  let done = 0;
  let last: StepResult | null = null;
  let reason: LoopResult['reason'] = 'steps';
  try {
    while (done < opts.steps) {
      let r: StepResult;
      try {
        r = trainer.step();
      } catch (e) {
        if (e instanceof DivergenceError) {
          reporter.finish();
          const kept =
            savedStep !== null
              ? `the checkpoint saved at step ${savedStep} in ${quotePath(opts.out)} was kept`
              : `nothing was written to ${quotePath(opts.out)}`;
          throw new DivergenceError(`${e.message}; ${kept}`, e.step);
        }
        throw e;
      }
      done++;
      last = r;
      const now = performance.now();
      const elapsed = (now - t0) / 1000;
      reporter.step({ result: r, done, elapsed, charsPerSec: (trainer.state.charsSeen - chars0) / Math.max(elapsed, 1e-9) });
      if (opts.valEvery > 0 && canValidate && r.step % opts.valEvery === 0) validate();
      if (opts.saveEvery > 0 && r.step % opts.saveEvery === 0 && done < opts.steps) save();
      if (now - lastYield >= YIELD_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (interrupted) {
        reason = 'interrupted';
        break;
      }
      if ((performance.now() - t0) / 1000 >= opts.seconds) {
        reason = 'time';
        break;
      }
    }
    reporter.finish();
    if (!interrupted && canValidate && valStep !== trainer.state.step && done > 0) validate();
    save();
  } finally {
    process.removeListener('SIGINT', onSigint);
    reporter.finish();
  }

  const seconds = (performance.now() - t0) / 1000;
  const cps = (trainer.state.charsSeen - chars0) / Math.max(seconds, 1e-9);
  const finalVal = val as { loss: number; bpc: number } | null;
  const step = trainer.state.step;
  const lines: string[] = [];
  if (reason === 'interrupted') lines.push(`Interrupted at step ${step}.`);
  if (last) {
    lines.push(
      `Trained ${formatCount(done)} step${done === 1 ? '' : 's'} in ${formatDuration(seconds)} ` +
        `(${formatCount(cps)} chars/s), now at step ${step}; last training loss ${last.loss.toFixed(4)}` +
        (finalVal ? `, validation ${finalVal.bpc.toFixed(3)} bits/char` : ''),
    );
  }
  lines.push(`Saved ${opts.out}.`);
  reporter.done({
    lines,
    fields: {
      step,
      steps: done,
      loss: last ? round(last.loss, 5) : null,
      valLoss: finalVal ? round(finalVal.loss, 5) : null,
      valBpc: finalVal ? round(finalVal.bpc, 5) : null,
      seconds: round(seconds, 3),
      charsPerSec: Math.round(cps),
      out: opts.out,
      reason,
    },
  });
  return { exitCode: interrupted ? EXIT_INTERRUPTED : EXIT_OK, step, val: finalVal, last, reason };
}
