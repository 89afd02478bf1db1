/**
 * The experiment thread: runs a whole `*.rnnlab.json` through the shared
 * experiment runner (src/shared/experiment/runner.ts) — the same planning,
 * run module, checkpoints, histories, results.jsonl and report.html as
 * `rnn-lab experiment` — and posts the runner's progress to the host. Stop
 * checkpoints the running run, so a later start with `resume` continues it.
 */
import * as fs from 'node:fs';

import {
  CheckpointError,
  DataError,
  UserError,
  EXTENSION_MAX_TEXT_BYTES,
  Vocab,
  decodeCheckpoint,
  decodeText,
  evaluateStream,
  splitTokens,
  startRun,
  streamLayout,
  type RunProgress,
} from '../engine';
import { writeFileAtomic } from '../shared/atomicFile';
import { quotePath, type FileIO, type RunEngine } from '../shared/experiment/engineApi';
import { EngineTrainer, runTrainingBytes } from '../shared/experiment/engineTrainer';
import { reviewPlan, type ExperimentReview } from '../shared/experiment/review';
import type { RunReporter } from '../shared/experiment/reporter';
import { lockExperimentFolder, planExperiment, runExperiment } from '../shared/experiment/runner';
import type { ExperimentRequest, ExperimentReviewRequest, ExperimentStartRequest, ExperimentStartResult } from '../shared/experimentProtocol';
import { assertNever } from '../shared/rpc';
import { errorText, post, serve } from './port';

/** How often the running run hands the thread back (stop requests are read then). */
const SLICE_MS = 50;
/** Progress events to the host at most this often. */
const PROGRESS_MS = 250;

const io: FileIO = {
  readText(file) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      throw new DataError(`cannot read ${quotePath(file)}: no such file`);
    }
    if (!st.isFile()) throw new DataError(`${quotePath(file)} is not a regular file`);
    if (st.size > EXTENSION_MAX_TEXT_BYTES) throw new DataError(`${quotePath(file)} is ${(st.size / 1024 ** 2).toFixed(0)} MiB, more than the ${EXTENSION_MAX_TEXT_BYTES / 1024 ** 2} MiB RNN Lab trains on`);
    return decodeText(fs.readFileSync(file), quotePath(file));
  },
  write: writeFileAtomic,
  quote: quotePath,
};

const engine: RunEngine = {
  startRun,
  loadCheckpoint(file) {
    try {
      return decodeCheckpoint(fs.readFileSync(file), { takeBytes: true });
    } catch (e) {
      if (e instanceof CheckpointError) throw new CheckpointError(`${quotePath(file)}: ${e.message}`);
      throw e;
    }
  },
  Vocab,
  splitTokens,
  streamLayout,
  evaluateStream,
};

let stopRequested = false;
let running = false;

serve((msg: ExperimentRequest) => {
  switch (msg.kind) {
    case 'experiment/start':
      return start(msg);
    case 'experiment/review':
      return review(msg);
    case 'experiment/stop':
      stopRequested = true;
      return null;
    default:
      return assertNever(msg);
  }
});

function start(req: ExperimentStartRequest): ExperimentStartResult {
  if (running) throw new Error('this worker is already running an experiment');
  const trainer = new EngineTrainer(engine, io, { sliceMs: SLICE_MS, threads: req.threads, memoryHint: 'raise rnnLab.training.maxMemoryMB' });
  // Planning throws the experiment file's problems (with their JSON paths) as the request's error: nothing has trained.
  const plan = planExperiment(req.file, trainer, { yes: req.yes, maxMemoryBytes: req.maxMemoryBytes, io });
  if (req.fingerprint !== undefined && req.fingerprint !== plan.fingerprint) {
    throw new UserError(`${quotePath(req.file)} or its text changed since you confirmed it: run it again to review what it trains now`);
  }
  // Refused here, as the request's error, when another process writes the folder (the host may wait and ask again).
  const lock = lockExperimentFolder(req.out, io);
  running = true;
  stopRequested = false;
  void runExperiment(plan, {
    out: req.out,
    resume: req.resume,
    saveEvery: 0,
    saveSeconds: req.saveSeconds,
    maxMemoryBytes: req.maxMemoryBytes,
    io,
    trainer,
    output: {
      info: (line) => post({ kind: 'experiment/log', line }),
      event: (name, fields) => {
        if (name === 'result') post({ kind: 'experiment/result', row: fields as never });
      },
    },
    reporter: (run) => reporter(run.id),
    shouldStop: () => stopRequested,
    locked: true,
  }).then(
    (o) => post({ kind: 'experiment/done', interrupted: o.interrupted, finished: o.rows.length }),
    (e: unknown) => post({ kind: 'experiment/failed', reason: errorText(e) }),
  ).finally(() => {
    lock.release();
    running = false;
  });
  return {
    name: plan.spec.name,
    runs: plan.runs.map((r) => ({ id: r.id, origin: r.origin, varied: r.varied, params: r.params })),
    rungs: plan.rungs,
  };
}

function review(req: ExperimentReviewRequest): ExperimentReview {
  // Reviews are asked for in Restricted Mode, where only the user's own settings raise the limit.
  const trainer = new EngineTrainer(engine, io, { memoryHint: "raise rnnLab.training.maxMemoryMB in your user settings (Restricted Mode ignores the workspace's)" });
  // More than 100 runs is one of the things the review shows and the user confirms.
  const plan = planExperiment(req.file, trainer, { yes: true, maxMemoryBytes: req.maxMemoryBytes, io });
  return reviewPlan(plan, (run) => runTrainingBytes(run.settings, plan.corpus.vocabSize));
}

/** Posts a run's progress (throttled, the last step always), validations and its start. */
function reporter(runId: string): RunReporter {
  let last = 0;
  let pending: { step: number; loss: number; charsSeen: number; seconds: number; charsPerSec: number } | null = null;
  const flush = (): void => {
    if (pending) post({ kind: 'experiment/progress', runId, ...pending });
    pending = null;
    last = performance.now();
  };
  return {
    start: (info) => post({ kind: 'experiment/runStart', runId, title: info.lines[0] ?? runId, startStep: info.startStep }),
    step: (s) => {
      // The shared trainer reports the run loop's RunProgress (charsSeen and seconds over every session).
      const r = s.result as Partial<RunProgress> & typeof s.result;
      pending = { step: r.step, loss: r.loss, charsSeen: r.charsSeen ?? 0, seconds: r.seconds ?? s.elapsed, charsPerSec: s.charsPerSec };
      if (performance.now() - last >= PROGRESS_MS) flush();
    },
    val: (step, loss, bpc) => {
      flush();
      post({ kind: 'experiment/validation', runId, step, loss, bpc });
    },
    checkpoint: () => {},
    finish: flush,
  };
}
