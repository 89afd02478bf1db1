/**
 * The trainer thread: one training run, stepped in short slices so pause,
 * resume and stop are answered between steps, never blocking the host.
 */
import {
  DivergenceError,
  type StepResult,
  decodeCheckpoint,
  encodeCheckpoint,
  evaluateStream,
} from '../engine';
import { gradFlowWindow } from '../engine/gradflowSnapshot';
import { buildSession, type Session } from '../engine/session';
import { assertNever } from '../shared/rpc';
import type { RunState, TrainerRequest, TrainStartRequest, TrainStartResult } from '../shared/trainerProtocol';
import { errorText, post, serve } from './port';

/** How long one slice of steps may hold the thread before messages are read. */
const SLICE_MS = 50;
const PROGRESS_INTERVAL_MS = 100;
/** Validation during training reads at most this much of the held-out tail (the final one reads it all). */
const PERIODIC_VAL_CHARS = 20_000;
/** Gradient-flow snapshots: every N steps by default, or after this long; the window is at most this many steps. */
const GRADFLOW_EVERY = 50;
const GRADFLOW_SECONDS = 10;
const GRADFLOW_MAX_T = 64;
/** One snapshot may take this long (rows beyond are skipped), and snapshots at most this share of the time. */
const GRADFLOW_BUDGET_MS = 250;
const GRADFLOW_MAX_SHARE = 0.1;

interface Run {
  request: TrainStartRequest;
  session: Session;
  paused: boolean;
  stopping: boolean;
  finished: boolean;
  started: number;
  /** Time spent training (pauses excluded), for the minutes limit. */
  activeMs: number;
  sliceStart: number;
  lastProgress: number;
  lastCheckpoint: number;
  charsSinceProgress: number;
  timeSinceProgress: number;
  /** The last step's result, and whether the host has seen it. */
  lastResult: StepResult | null;
  lastResultPosted: boolean;
  /** Step and time of the last gradient-flow snapshot, and what it cost. */
  gradflowStep: number;
  gradflowAt: number;
  gradflowCost: number;
  /** Time spent on snapshots in this session. */
  gradflowTotal: number;
}

let run: Run | null = null;

serve((msg: TrainerRequest) => {
  switch (msg.kind) {
    case 'train/start':
      return start(msg);
    case 'train/pause':
      return control(msg.runId, (r) => {
        if (r.paused) return;
        r.paused = true;
        postProgress(r);
        // A checkpoint on pause: a window closed while paused loses nothing.
        postCheckpoint(r, false);
        setState(r, 'paused');
      });
    case 'train/resume':
      return control(msg.runId, (r) => {
        if (!r.paused) return;
        r.paused = false;
        setState(r, 'training');
        schedule();
      });
    case 'train/stop':
      return control(msg.runId, (r) => {
        r.stopping = true;
        if (r.paused) finish(r, 'stopped');
      });
    default:
      return assertNever(msg);
  }
});

function control(runId: string, action: (r: Run) => void): null {
  if (!run || run.request.runId !== runId) throw new Error(`no active run ${runId} in this worker`);
  action(run);
  return null;
}

function start(request: TrainStartRequest): TrainStartResult {
  if (run && !run.finished) throw new Error('this worker is already training a run');
  const checkpoint = request.init ? decodeCheckpoint(request.init) : null;
  const session = buildSession({
    text: request.text,
    shape: request.model,
    train: checkpoint ? checkpoint.train : request.train,
    init: checkpoint ? { label: 'the saved model', checkpoint } : null,
    maxMemoryBytes: request.maxMemoryBytes,
    threads: request.threads ?? 0,
  });
  const now = performance.now();
  run = {
    request,
    session,
    paused: false,
    stopping: false,
    finished: false,
    started: now,
    activeMs: 0,
    sliceStart: now,
    // The first step is reported at once, so a new run shows its loss immediately.
    lastProgress: -Infinity,
    lastCheckpoint: now,
    charsSinceProgress: 0,
    timeSinceProgress: 0,
    lastResult: null,
    lastResultPosted: true,
    gradflowStep: -Infinity,
    gradflowAt: -Infinity,
    gradflowCost: 0,
    gradflowTotal: 0,
  };
  setState(run, 'training');
  schedule();
  const trainer = session.trainer;
  return {
    params: session.model.params.count,
    vocabSize: session.model.config.vocabSize,
    memoryBytes: session.memoryBytes,
    stepsPerEpoch: trainer.stepsPerEpoch,
    startStep: session.startStep,
  };
}

function schedule(): void {
  setImmediate(slice);
}

function slice(): void {
  const r = run;
  if (!r || r.finished || r.paused) return;
  const { trainer } = r.session;
  const { maxSteps, maxMinutes, valEvery, checkpointSeconds } = r.request;
  const sliceStart = performance.now();
  try {
    do {
      if (r.stopping) return finish(r, 'stopped');
      if ((maxSteps > 0 && trainer.state.step >= maxSteps) || (maxMinutes > 0 && r.activeMs >= maxMinutes * 60_000)) {
        return finish(r, 'done');
      }
      const t0 = performance.now();
      const result = trainer.step();
      const dt = performance.now() - t0;
      r.activeMs += dt;
      r.charsSinceProgress += r.session.train.batch * r.session.train.seq;
      r.timeSinceProgress += dt;
      const now = performance.now();
      r.lastResult = result;
      r.lastResultPosted = false;
      if (now - r.lastProgress >= PROGRESS_INTERVAL_MS || (maxSteps > 0 && result.step >= maxSteps)) postProgress(r);
      if (gradflowDue(r, result.step, now)) postGradflow(r, result);
      if (valEvery > 0 && result.step % valEvery === 0) validate(r, PERIODIC_VAL_CHARS);
      if (now - r.lastCheckpoint >= checkpointSeconds * 1000) postCheckpoint(r, false);
    } while (performance.now() - sliceStart < SLICE_MS);
  } catch (e) {
    // A diverged step left the weights as they were before it; the host keeps
    // the last checkpoint it saved, and no checkpoint of this state is sent.
    r.finished = true;
    setState(r, 'failed', e instanceof DivergenceError ? e.message : errorText(e));
    return;
  }
  schedule();
}

/** Reports the last step (throttled by the caller; always flushed before a pause or the end). */
function postProgress(r: Run): void {
  const result = r.lastResult;
  if (!result || r.lastResultPosted) return;
  post({
    kind: 'train/progress',
    runId: r.request.runId,
    step: result.step,
    epoch: result.epoch,
    epochProgress: result.epochProgress,
    loss: result.loss,
    gradNorm: result.gradNorm,
    clipped: result.clipped,
    lr: result.lr,
    // Throughput of the steps themselves, so it matches the benchmark for the same settings.
    charsPerSec: r.timeSinceProgress > 0 ? (r.charsSinceProgress / r.timeSinceProgress) * 1000 : 0,
    charsSeen: r.session.trainer.state.charsSeen,
  });
  r.lastResultPosted = true;
  r.lastProgress = performance.now();
  r.charsSinceProgress = 0;
  r.timeSinceProgress = 0;
}

function gradflowDue(r: Run, step: number, now: number): boolean {
  const every = r.request.gradflowEvery ?? GRADFLOW_EVERY;
  if (every <= 0) return false;
  // Bounded: over the run, snapshots take at most GRADFLOW_MAX_SHARE of the training time (plus one budget of slack).
  if (r.gradflowTotal > GRADFLOW_MAX_SHARE * r.activeMs + GRADFLOW_BUDGET_MS) return false;
  return step === 1 || step - r.gradflowStep >= every || (step > r.gradflowStep && now - r.gradflowAt >= GRADFLOW_SECONDS * 1000);
}

/** Traces the first stream of the step just taken (its inputs are still in the graph). */
function postGradflow(r: Run, result: StepResult): void {
  const t0 = performance.now();
  const { model, trainer, train } = r.session;
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
  const w = gradFlowWindow(model, model.vocab.decode(tokens), trainer.kernels, { budgetMs: GRADFLOW_BUDGET_MS });
  post({
    kind: 'train/gradflow',
    runId: r.request.runId,
    step: result.step,
    gradNorm: result.gradNorm,
    clippedNorm,
    clipped: result.clipped,
    clip,
    paramGradNorms,
    ...w,
  });
  r.gradflowStep = result.step;
  r.gradflowAt = performance.now();
  r.gradflowCost = r.gradflowAt - t0;
  r.gradflowTotal += r.gradflowCost;
}

function validate(r: Run, maxChars: number): void {
  const val = r.session.valTokens;
  if (val.length < 2) return;
  const tokens = val.length > maxChars ? val.subarray(0, maxChars) : val;
  const { loss, bpc } = evaluateStream(r.session.model, tokens, r.session.trainer.kernels);
  post({ kind: 'train/validation', runId: r.request.runId, step: r.session.trainer.state.step, loss, bpc });
}

function postCheckpoint(r: Run, final: boolean): void {
  const { model, train, trainer } = r.session;
  const bytes = encodeCheckpoint(model, train, trainer, r.request.metadata);
  post({ kind: 'train/checkpoint', runId: r.request.runId, step: trainer.state.step, bytes, final }, [bytes.buffer as ArrayBuffer]);
  r.lastCheckpoint = performance.now();
}

function finish(r: Run, state: RunState): void {
  r.finished = true;
  postProgress(r);
  try {
    validate(r, Infinity);
    postCheckpoint(r, true);
    setState(r, state);
  } catch (e) {
    setState(r, 'failed', errorText(e));
  }
}

function setState(r: Run, state: RunState, reason?: string): void {
  post({ kind: 'train/state', runId: r.request.runId, state, ...(reason ? { reason } : {}) });
}
