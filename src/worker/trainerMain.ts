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
import { buildSession, type Session } from '../engine/session';
import { assertNever, type HostRequest, type RunState, type TrainStartRequest, type TrainStartResult } from '../shared/protocol';
import { errorText, post, serve } from './port';

/** How long one slice of steps may hold the thread before messages are read. */
const SLICE_MS = 50;
const PROGRESS_INTERVAL_MS = 100;
/** Validation during training reads at most this much of the held-out tail (the final one reads it all). */
const PERIODIC_VAL_CHARS = 20_000;

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
}

let run: Run | null = null;

serve((msg: HostRequest) => {
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
    case 'infer/load':
    case 'infer/unload':
    case 'infer/complete':
    case 'infer/sample':
    case 'infer/cancel':
      throw new Error(`the trainer worker does not handle ${msg.kind}`);
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
