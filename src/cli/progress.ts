/**
 * Training progress, three ways: a progress bar on a terminal, a line every
 * few seconds in a log, or JSON events (`--json`). The training loop reports
 * every step; each reporter throttles on its own.
 */
import { Presets, SingleBar } from 'cli-progress';

import type { RunReporter, StartInfo, StepInfo } from '../shared/experiment/reporter';
import { formatCount, formatDuration, round, type Output } from './output';

export type { StartInfo, StepInfo } from '../shared/experiment/reporter';

export interface DoneInfo {
  fields: Record<string, unknown>;
  lines: string[];
}

export interface TrainReporter extends RunReporter {
  done(info: DoneInfo): void;
}

/** Fraction of the run done, by steps or by time, whichever is ahead. */
function fraction(start: StartInfo, s: StepInfo): number {
  const bySteps = Number.isFinite(start.steps) && start.steps > 0 ? s.done / start.steps : 0;
  const byTime = Number.isFinite(start.seconds) ? s.elapsed / start.seconds : 0;
  return Math.min(1, Math.max(bySteps, byTime));
}

function stepLabel(start: StartInfo, step: number): string {
  return Number.isFinite(start.steps) ? `${step}/${start.startStep + start.steps}` : String(step);
}

function stepFields(s: StepInfo): Record<string, unknown> {
  const r = s.result;
  return {
    step: r.step,
    loss: round(r.loss, 5),
    gradNorm: round(r.gradNorm, 5),
    lr: r.lr,
    epoch: round(r.epoch + r.epochProgress, 4),
    charsPerSec: Math.round(s.charsPerSec),
  };
}

/** `--json`: one event per line; step events at most 10 per second, and always the last one. */
export class JsonReporter implements TrainReporter {
  private lastEmit = -Infinity;
  private pending: StepInfo | null = null;

  constructor(private readonly out: Output) {}

  start(info: StartInfo): void {
    this.out.event('start', info.fields);
  }

  step(s: StepInfo): void {
    const now = performance.now();
    if (now - this.lastEmit >= 100) {
      this.lastEmit = now;
      this.pending = null;
      this.out.event('step', stepFields(s));
    } else this.pending = s;
  }

  private flush(): void {
    if (this.pending) this.out.event('step', stepFields(this.pending));
    this.pending = null;
  }

  val(step: number, loss: number, bpc: number): void {
    this.flush();
    this.out.event('val', { step, loss: round(loss, 5), bpc: round(bpc, 5) });
  }

  checkpoint(path: string, step: number, bytes: number): void {
    this.flush();
    this.out.event('checkpoint', { path, step, bytes });
  }

  finish(): void {
    this.flush();
  }

  done(info: DoneInfo): void {
    this.flush();
    this.out.event('done', info.fields);
  }
}

/** No terminal: a progress line every ~5 seconds, plus validation and checkpoint lines. */
export class LineReporter implements TrainReporter {
  private lastLine = performance.now();
  private startInfo!: StartInfo;

  constructor(private readonly out: Output, private readonly intervalMs = 5000) {}

  start(info: StartInfo): void {
    this.startInfo = info;
    for (const l of info.lines) this.out.info(l);
  }

  step(s: StepInfo): void {
    const now = performance.now();
    if (now - this.lastLine < this.intervalMs) return;
    this.lastLine = now;
    const f = fraction(this.startInfo, s);
    const eta = f > 0 ? (s.elapsed * (1 - f)) / f : NaN;
    this.out.info(
      `step ${stepLabel(this.startInfo, s.result.step)} (${Math.floor(f * 100)}%)  loss ${s.result.loss.toFixed(4)}  ` +
        `${formatCount(s.charsPerSec)} chars/s  elapsed ${formatDuration(s.elapsed)}  ETA ${formatDuration(eta)}`,
    );
  }

  val(step: number, loss: number, bpc: number): void {
    this.out.info(`step ${step}: validation loss ${loss.toFixed(4)} (${bpc.toFixed(3)} bits/char)`);
  }

  checkpoint(path: string, step: number): void {
    this.out.info(`step ${step}: saved ${path}`);
  }

  finish(): void {
    // Nothing pending: lines are written as they come.
  }

  done(info: DoneInfo): void {
    for (const l of info.lines) this.out.info(l);
  }
}

/** A terminal: a progress bar on stderr, redrawn at most 10 times a second. */
export class BarReporter implements TrainReporter {
  private bar: SingleBar | null = null;
  private startInfo!: StartInfo;
  private lastUpdate = -Infinity;
  private lastStep: StepInfo | null = null;
  private valText = '';

  constructor(private readonly out: Output) {}

  start(info: StartInfo): void {
    this.startInfo = info;
    for (const l of info.lines) this.out.info(l);
    this.bar = new SingleBar(
      {
        format: ' {bar} {percentage}% | step {step} | loss {loss}{val} | {cps} chars/s | ETA {eta_formatted}',
        fps: 10,
        hideCursor: false,
        clearOnComplete: false,
        etaBuffer: 50,
        stream: process.stderr,
      },
      Presets.shades_classic,
    );
    this.bar.start(1000, 0, { step: stepLabel(info, info.startStep), loss: '-', val: '', cps: '-' });
  }

  step(s: StepInfo): void {
    this.lastStep = s;
    const now = performance.now();
    if (now - this.lastUpdate < 100) return;
    this.lastUpdate = now;
    this.update(s);
  }

  private update(s: StepInfo): void {
    this.bar?.update(Math.round(fraction(this.startInfo, s) * 1000), {
      step: stepLabel(this.startInfo, s.result.step),
      loss: s.result.loss.toFixed(4),
      val: this.valText,
      cps: formatCount(s.charsPerSec),
    });
  }

  val(_step: number, _loss: number, bpc: number): void {
    this.valText = ` | val ${bpc.toFixed(3)} bpc`;
  }

  checkpoint(): void {
    // The final checkpoint is reported in the summary; periodic ones would break the bar.
  }

  finish(): void {
    if (this.bar) {
      if (this.lastStep) this.update(this.lastStep);
      this.bar.stop();
      this.bar = null;
    }
  }

  done(info: DoneInfo): void {
    for (const l of info.lines) this.out.info(l);
  }
}

/** The reporter for this output: JSON, a bar on a terminal, or plain lines. */
export function createReporter(out: Output): TrainReporter {
  if (out.json) return new JsonReporter(out);
  if (process.stderr.isTTY && process.stdout.isTTY) return new BarReporter(out);
  return new LineReporter(out);
}
