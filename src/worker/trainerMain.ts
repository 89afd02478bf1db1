/**
 * The trainer thread: the extension's adapter around the engine's run loop
 * (engine/run). It resolves the run's settings with the same rules as the
 * CLI, runs the loop in short slices so pause, resume and stop are answered
 * between steps, and posts the loop's events to the host, which saves the
 * checkpoints and the history.
 */
import { decodeCheckpoint, DEFAULT_GRADFLOW_EVERY, describeKernels, extensionNames, startRun, type RunInput, type RunLoop, type RunOutcome } from '../engine';
import { assertNever } from '../shared/rpc';
import type { RunState, TrainerRequest, TrainStartRequest, TrainStartResult } from '../shared/trainerProtocol';
import { errorText, post, serve } from './port';

/** How long one slice of steps may hold the thread before messages are read. */
const SLICE_MS = 50;

interface Run {
  request: TrainStartRequest;
  loop: RunLoop;
  startStep: number;
  paused: boolean;
  stopping: boolean;
  finished: boolean;
}

let run: Run | null = null;

serve((msg: TrainerRequest) => {
  switch (msg.kind) {
    case 'train/start':
      return start(msg);
    case 'train/pause':
      return control(msg.runId, (r) => {
        if (r.paused || r.finished) return;
        r.paused = true;
        // A checkpoint on pause: a window closed while paused loses nothing.
        const diverged = r.loop.checkpointNow();
        if (diverged) return end(r, diverged);
        setState(r, 'paused');
      });
    case 'train/resume':
      return control(msg.runId, (r) => {
        if (!r.paused || r.finished) return;
        r.paused = false;
        setState(r, 'training');
        schedule();
      });
    case 'train/stop':
      return control(msg.runId, (r) => {
        r.stopping = true;
        if (r.paused) finish(r);
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

/** The request as the resolver's input: the host sends every setting (resolved by the same rules from rnnLab.*). */
function runInput(request: TrainStartRequest): RunInput {
  return {
    ...request.model,
    ...request.train,
    maxSteps: request.maxSteps,
    maxMinutes: request.maxMinutes,
    ...(request.maxChars !== undefined ? { maxChars: request.maxChars } : {}),
    validateEvery: request.valEvery,
    ...(request.saveEvery !== undefined ? { saveEvery: request.saveEvery } : {}),
    checkpointSeconds: request.checkpointSeconds,
    threads: request.threads ?? 0,
    ...(request.extendSchedule ? { extendSchedule: true } : {}),
  };
}

function start(request: TrainStartRequest): TrainStartResult {
  if (run && !run.finished) throw new Error('this worker is already training a run');
  const checkpoint = request.init ? decodeCheckpoint(request.init) : null;
  const runId = request.runId;
  const { session, resolved, loop } = startRun(
    {
      text: request.text,
      settings: runInput(request),
      resume: checkpoint ? { checkpoint, label: 'the saved model' } : null,
      metadata: request.metadata,
      names: extensionNames,
      memoryHint: 'raise rnnLab.training.maxMemoryMB',
      maxMemoryBytes: request.maxMemoryBytes,
      gradflowEvery: request.gradflowEvery ?? DEFAULT_GRADFLOW_EVERY,
      secondsBefore: request.secondsBefore ?? 0,
    },
    {
      progress: (p) => post({ kind: 'train/progress', runId, ...p }),
      validation: (v) => post({ kind: 'train/validation', runId, ...v }),
      checkpoint: (c) => post({ kind: 'train/checkpoint', runId, step: c.step, bytes: c.bytes, final: c.final }, [c.bytes.buffer as ArrayBuffer]),
      gradflow: (g) => post({ kind: 'train/gradflow', runId, ...g }),
    },
  );
  run = { request, loop, startStep: session.startStep, paused: false, stopping: false, finished: false };
  setState(run, 'training');
  schedule();
  return {
    params: session.model.params.count,
    vocabSize: session.model.config.vocabSize,
    memoryBytes: session.memoryBytes,
    stepsPerEpoch: session.trainer.stepsPerEpoch,
    startStep: session.startStep,
    notes: resolved.notes,
    kernels: describeKernels(session.trainer.kernels),
  };
}

function schedule(): void {
  setImmediate(slice);
}

function slice(): void {
  const r = run;
  if (!r || r.finished || r.paused) return;
  if (r.stopping) return finish(r);
  let outcome: RunOutcome | null;
  try {
    outcome = r.loop.runFor(SLICE_MS);
  } catch (e) {
    r.finished = true;
    setState(r, 'failed', errorText(e));
    return;
  }
  if (outcome) return end(r, outcome);
  schedule();
}

/** Stop: the last progress, a final validation and checkpoint. */
function finish(r: Run): void {
  try {
    end(r, r.loop.stop());
  } catch (e) {
    r.finished = true;
    setState(r, 'failed', errorText(e));
  }
}

function end(r: Run, o: RunOutcome): void {
  r.finished = true;
  if (o.reason === 'diverged') {
    // No checkpoint of diverged weights was sent: the host keeps the last one it saved.
    const kept =
      o.savedStep !== null
        ? `the checkpoint of step ${o.savedStep} is kept`
        : r.startStep > 0
          ? `the checkpoint it resumed from (step ${r.startStep}) is kept`
          : 'no checkpoint of this run was saved';
    setState(r, 'failed', `${o.divergence!.message}; ${kept}`);
    return;
  }
  setState(r, o.reason === 'stopped' ? 'stopped' : 'done');
}

function setState(r: Run, state: RunState, reason?: string): void {
  post({ kind: 'train/state', runId: r.request.runId, state, ...(reason ? { reason } : {}) });
}
