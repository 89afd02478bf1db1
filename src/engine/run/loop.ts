/**
 * The one training loop of every front end. It owns the step, time and
 * character budgets, the validation and checkpoint cadences, gradient-flow
 * snapshots, divergence and the progress events; it does no I/O: it hands
 * events, and checkpoints as bytes, to a sink, and the front end writes them.
 *
 * It runs in slices (`runFor(ms)`), so a front end answers its own events in
 * between: the trainer worker slices ~50 ms to answer pause/resume/stop, the
 * CLI ~25 ms to see Ctrl-C.
 *
 * Divergence: a step whose loss or gradient is not finite is not applied
 * (Trainer.step checks before the update); before any checkpoint the weights
 * the update produced are checked too (Trainer.checkWeights), so every
 * checkpoint handed to the sink holds weights with a finite loss.
 */
import { encodeCheckpoint } from '../checkpoint';
import { DivergenceError } from '../errors';
import { gradFlowWindow, type GradFlowWindow } from '../gradflowSnapshot';
import type { Session } from '../session';
import { evaluateStream, type StepResult } from '../trainer';
import type { RunLimits } from './resolve';

/** A logged step. */
export interface RunProgress extends StepResult {
  /** Training characters since the run began. */
  charsSeen: number;
  /** Throughput of the steps since the last progress event (steps only, as the benchmark measures). */
  charsPerSec: number;
  /** Training seconds since the run began (earlier sessions included). */
  seconds: number;
}

export interface RunValidation {
  step: number;
  loss: number;
  bpc: number;
  /** Characters scored: periodic validations read at most `periodicValChars` of the held-out tail, the final one all. */
  chars: number;
}

export interface RunCheckpoint {
  step: number;
  /** The encoded checkpoint (weights, optimizer state, train state). */
  bytes: Uint8Array;
  /** The last checkpoint of the session. */
  final: boolean;
}

/** A gradient-flow snapshot of the first stream of a step's window (at most 64 steps of it). */
export interface RunGradflow extends GradFlowWindow {
  step: number;
  gradNorm: number;
  clippedNorm: number;
  clipped: boolean;
  clip: number;
  /** Per-parameter norms of the step's gradient, before clipping. */
  paramGradNorms: Record<string, number>;
}

/** Where the loop's events go. A sink that throws stops the loop; the error propagates to the caller. */
export interface RunSink {
  progress?(p: RunProgress): void;
  validation?(v: RunValidation): void;
  checkpoint?(c: RunCheckpoint): void;
  gradflow?(g: RunGradflow): void;
}

export type StopReason = 'steps' | 'time' | 'chars' | 'stopped' | 'diverged';

export interface RunOutcome {
  reason: StopReason;
  /** The run's step at the end. */
  step: number;
  /** Steps taken in this session. */
  stepsDone: number;
  /** Training seconds of this session. */
  seconds: number;
  charsPerSec: number;
  last: StepResult | null;
  /** The last validation of the session. */
  val: RunValidation | null;
  /** Step of the last checkpoint handed to the sink in this session, null if none. */
  savedStep: number | null;
  /** Why the run diverged (reason 'diverged'); its message says nothing about files (the front end adds what it kept). */
  divergence: DivergenceError | null;
}

export interface RunLoopOptions {
  limits: RunLimits;
  /** Extra checkpoint metadata (e.g. the source file names). */
  metadata?: Record<string, string>;
  /** A gradient-flow snapshot every this many steps (and after 10 s); 0 = none. */
  gradflowEvery?: number;
  /** Periodic validations read at most this many held-out characters. */
  periodicValChars?: number;
  /** Progress events at most this often (the first, the last and the one before each validation or checkpoint always go). */
  progressMs?: number;
  /** Training seconds of earlier sessions of the run, so `seconds` counts on. */
  secondsBefore?: number;
}

export const PERIODIC_VAL_CHARS = 20_000;
export const PROGRESS_MS = 100;
/** Held-out characters a checkpoint's weights must give a finite loss on (besides the next training window). */
export const CHECK_CHARS = 1000;
export const DEFAULT_GRADFLOW_EVERY = 50;
const GRADFLOW_SECONDS = 10;
const GRADFLOW_MAX_T = 64;
/** One snapshot may take this long (rows beyond are skipped), and snapshots at most this share of the time. */
const GRADFLOW_BUDGET_MS = 250;
/** Errors a snapshot traces whatever the budget: a short window is shown whole on a busy machine too. */
const GRADFLOW_MIN_ROWS = 24;
const GRADFLOW_MAX_SHARE = 0.1;

export class RunLoop {
  private readonly limits: RunLimits;
  private readonly progressMs: number;
  private readonly periodicValChars: number;
  private readonly gradflowEvery: number;
  private readonly secondsBefore: number;
  private readonly metadata: Record<string, string>;
  /** Training time of this session, in ms, up to the start of the current slice. */
  private activeMs = 0;
  /** Time the session's validations took, in ms: not training time (budgets, `seconds` and throughput leave it out). */
  private validationMs = 0;
  private sliceStart = 0;
  private inSlice = false;
  private stepsDone = 0;
  private charsDone = 0;
  private last: StepResult | null = null;
  private lastPosted = true;
  private lastProgressAt = -Infinity;
  private charsSinceProgress = 0;
  private stepMsSinceProgress = 0;
  private lastCheckpointAt: number;
  private savedStep: number | null = null;
  private val: RunValidation | null = null;
  private valFull = false;
  private gradflowStep = -Infinity;
  private gradflowAt = -Infinity;
  private gradflowMs = 0;
  private result: RunOutcome | null = null;

  constructor(readonly session: Session, opts: RunLoopOptions, private readonly sink: RunSink) {
    this.limits = opts.limits;
    this.progressMs = opts.progressMs ?? PROGRESS_MS;
    this.periodicValChars = opts.periodicValChars ?? PERIODIC_VAL_CHARS;
    this.gradflowEvery = opts.gradflowEvery ?? 0;
    this.secondsBefore = opts.secondsBefore ?? 0;
    this.metadata = opts.metadata ?? {};
    this.lastCheckpointAt = performance.now();
  }

  /** The outcome once the session has ended, else null. */
  get outcome(): RunOutcome | null {
    return this.result;
  }

  get step(): number {
    return this.session.trainer.state.step;
  }

  /** Training time of this session so far, in seconds (validation excluded). */
  get seconds(): number {
    return (this.activeMs + (this.inSlice ? performance.now() - this.sliceStart : 0) - this.validationMs) / 1000;
  }

  /**
   * Trains for about `ms` milliseconds (at least one step), then returns: the
   * outcome when the session ended in this slice (a budget was reached, and
   * the final validation and checkpoint were done; or it diverged), else null.
   */
  runFor(ms: number): RunOutcome | null {
    if (this.result) return this.result;
    return this.sliced(() => {
      const start = performance.now();
      const { trainer, train } = this.session;
      const chars = train.batch * train.seq;
      const { stopAtStep, validateEvery, saveEvery, checkpointSeconds } = this.limits;
      do {
        const reached = this.budgetReached();
        if (reached) return this.end(reached);
        const t0 = performance.now();
        let r: StepResult;
        try {
          r = trainer.step();
        } catch (e) {
          if (e instanceof DivergenceError) return this.diverged(e);
          throw e;
        }
        const t1 = performance.now();
        this.stepsDone++;
        this.charsDone += chars;
        this.charsSinceProgress += chars;
        this.stepMsSinceProgress += t1 - t0;
        this.last = r;
        this.lastPosted = false;
        if (t1 - this.lastProgressAt >= this.progressMs || r.step >= stopAtStep) this.flushProgress();
        if (this.gradflowDue(r.step, t1)) this.snapshot(r);
        if (validateEvery > 0 && r.step % validateEvery === 0) this.validate(this.periodicValChars);
        const bySteps = saveEvery > 0 && r.step % saveEvery === 0;
        const byTime = checkpointSeconds > 0 && performance.now() - this.lastCheckpointAt >= checkpointSeconds * 1000;
        // The last step's checkpoint is the final one, written by end().
        if ((bySteps || byTime) && r.step < stopAtStep && !this.saveCheckpoint(false)) return this.result!;
      } while (performance.now() - start < ms);
      return null;
    });
  }

  /** Runs to the end of the budget in one go (no slicing): for scripts, tests and experiments. */
  runToEnd(): RunOutcome {
    let o: RunOutcome | null = null;
    while (!o) o = this.runFor(Infinity);
    return o;
  }

  /** Ends the session now (stop, Ctrl-C): the last progress, a final validation and checkpoint. */
  stop(): RunOutcome {
    if (this.result) return this.result;
    return this.sliced(() => this.end('stopped'))!;
  }

  /**
   * A checkpoint now, not the final one (the worker's pause). Returns the
   * outcome if the weights turned out to have diverged (the session is then over).
   */
  checkpointNow(): RunOutcome | null {
    if (this.result) return this.result;
    return this.sliced(() => {
      this.flushProgress();
      return this.saveCheckpoint(false) ? null : this.result;
    });
  }

  /** Sends the last step's progress if it has not gone yet (a pause, the end). */
  flushProgress(): void {
    const r = this.last;
    if (!r || this.lastPosted) return;
    const ms = this.stepMsSinceProgress;
    this.sink.progress?.({
      step: r.step,
      loss: r.loss,
      gradNorm: r.gradNorm,
      clipped: r.clipped,
      lr: r.lr,
      epoch: r.epoch,
      epochProgress: r.epochProgress,
      charsSeen: this.session.trainer.state.charsSeen,
      charsPerSec: ms > 0 ? (this.charsSinceProgress / ms) * 1000 : 0,
      seconds: this.secondsBefore + this.seconds,
    });
    this.lastPosted = true;
    this.lastProgressAt = performance.now();
    this.charsSinceProgress = 0;
    this.stepMsSinceProgress = 0;
  }

  private sliced(body: () => RunOutcome | null): RunOutcome | null {
    this.sliceStart = performance.now();
    this.inSlice = true;
    try {
      return body();
    } finally {
      this.activeMs += performance.now() - this.sliceStart;
      this.inSlice = false;
    }
  }

  private budgetReached(): StopReason | null {
    const { stopAtStep, maxSeconds, maxChars } = this.limits;
    if (this.step >= stopAtStep) return 'steps';
    if (this.seconds >= maxSeconds) return 'time';
    if (this.charsDone >= maxChars) return 'chars';
    return null;
  }

  private end(reason: StopReason): RunOutcome {
    this.flushProgress();
    const canValidate = this.session.valTokens.length >= 2 && this.session.train.valFraction > 0;
    if (this.stepsDone > 0 && canValidate && !(this.val?.step === this.step && this.valFull)) this.validate(Infinity);
    if (!this.saveCheckpoint(true)) return this.result!;
    return this.finish(reason, null);
  }

  private diverged(e: DivergenceError): RunOutcome {
    this.flushProgress();
    return this.finish('diverged', e);
  }

  private finish(reason: StopReason, divergence: DivergenceError | null): RunOutcome {
    const seconds = this.seconds;
    this.result = {
      reason,
      step: this.step,
      stepsDone: this.stepsDone,
      seconds,
      charsPerSec: seconds > 0 ? this.charsDone / seconds : 0,
      last: this.last,
      val: this.val,
      savedStep: this.savedStep,
      divergence,
    };
    return this.result;
  }

  /** Checks the weights, then hands a checkpoint to the sink; false (and the session over) when they diverged. */
  private saveCheckpoint(final: boolean): boolean {
    // The history written with a checkpoint ends at its step.
    this.flushProgress();
    const { model, train, trainer } = this.session;
    const step = trainer.state.step;
    let loss = trainer.checkWeights();
    let where = 'the next window';
    if (Number.isFinite(loss) && this.session.valTokens.length >= 2) {
      // A longer held-out stream shows what one window hides: activations that grow until they overflow.
      // Bounded, so it costs about one training step per checkpoint.
      loss = this.val?.step === step ? this.val.loss : this.evaluate(CHECK_CHARS).loss;
      where = 'the held-out text';
    }
    if (!Number.isFinite(loss)) {
      this.finish(
        'diverged',
        new DivergenceError(
          `training diverged at step ${step + 1} (loss ${loss} on ${where} with the weights of step ${step}): lower the learning rate or set gradient clipping`,
          step + 1,
        ),
      );
      return false;
    }
    const bytes = encodeCheckpoint(model, train, trainer, this.metadata);
    this.sink.checkpoint?.({ step: trainer.state.step, bytes, final });
    this.savedStep = trainer.state.step;
    this.lastCheckpointAt = performance.now();
    return true;
  }

  private validate(maxChars: number): void {
    const val = this.session.valTokens;
    if (val.length < 2) return;
    this.flushProgress();
    const t0 = performance.now();
    const r = this.evaluate(maxChars);
    this.validationMs += performance.now() - t0;
    this.val = { step: this.step, loss: r.loss, bpc: r.bpc, chars: r.chars };
    this.valFull = r.chars >= val.length - 1;
    this.sink.validation?.(this.val);
  }

  private evaluate(maxChars: number): { loss: number; bpc: number; chars: number } {
    const val = this.session.valTokens;
    const tokens = val.length > maxChars ? val.subarray(0, maxChars) : val;
    return evaluateStream(this.session.model, tokens, this.session.trainer.kernels);
  }

  private gradflowDue(step: number, now: number): boolean {
    const every = this.gradflowEvery;
    if (every <= 0 || !this.sink.gradflow) return false;
    // Over the session, snapshots take at most GRADFLOW_MAX_SHARE of the training time (plus one budget of slack).
    if (this.gradflowMs > GRADFLOW_MAX_SHARE * this.seconds * 1000 + GRADFLOW_BUDGET_MS) return false;
    return (
      this.stepsDone === 1 || step - this.gradflowStep >= every || (step > this.gradflowStep && now - this.gradflowAt >= GRADFLOW_SECONDS * 1000)
    );
  }

  /** Traces the first stream of the step just taken (its inputs are still in the graph). */
  private snapshot(result: StepResult): void {
    const t0 = performance.now();
    const { model, trainer, train } = this.session;
    const B = train.batch;
    const T = Math.min(train.seq, GRADFLOW_MAX_T);
    const tokens: number[] = [];
    for (let t = 0; t < T; t++) tokens.push(trainer.graph.tokens[t * B]!);
    tokens.push(trainer.graph.targets[(T - 1) * B]!);
    // The step's own gradient (clipped in place): per-parameter norms, before clipping.
    const clip = train.clip;
    const clippedNorm = result.clipped ? Math.min(result.gradNorm, clip) : result.gradNorm;
    const scale = result.clipped && clippedNorm > 0 ? result.gradNorm / clippedNorm : 1;
    const g = model.params.grad;
    const paramGradNorms: Record<string, number> = {};
    for (const p of model.params.tensors) {
      let ss = 0;
      for (let i = p.offset; i < p.offset + p.size; i++) ss += g[i]! * g[i]!;
      paramGradNorms[p.name] = +(Math.sqrt(ss) * scale).toPrecision(4);
    }
    const w = gradFlowWindow(model, model.vocab.decode(tokens), trainer.kernels, { budgetMs: GRADFLOW_BUDGET_MS, minRows: GRADFLOW_MIN_ROWS });
    this.sink.gradflow!({ step: result.step, gradNorm: result.gradNorm, clippedNorm, clipped: result.clipped, clip, paramGradNorms, ...w });
    this.gradflowStep = result.step;
    this.gradflowAt = performance.now();
    this.gradflowMs += this.gradflowAt - t0;
  }
}
