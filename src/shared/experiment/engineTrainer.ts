/**
 * RunTrainer over the run module, through `trainRunToFile` as `rnn-lab train`
 * runs it (the CLI and the extension's experiment worker each pass in the
 * engine and their file operations): the same settings resolver (names, ranges, defaults, resume
 * rules), the same loop, the same checkpoint and the one history format
 * beside it (`<id>.history.jsonl`). What it adds is the experiment's budget,
 * which is cumulative over rungs and resumes: each session trains what is
 * left of it.
 */
import { readFileSync } from 'node:fs';

import { ConfigError, UserError } from '../../engine/errors';
import { estimateTrainingBytes, formatBytes, parameterCount } from '../../engine/memory';
import { FAMILY_NAMES } from '../../engine/models/catalog';
import { resolveRun } from '../../engine/run/resolve';
import { RUN_RANGES } from '../../engine/run/settings';
import type { ModelConfig, ResolvedRun, RunInput, Session, SettingNamer } from '../../engine';
import { emptyHistory, historyPathFor, historySeconds, parseHistory, type RunHistory } from '../history';
import type { FileIO, RunEngine } from './engineApi';
import type { FamilySizes } from './expand';
import type { StartInfo } from './reporter';
import { trainRunToFile, type TrainFileResult } from './runToFile';
import type { RunSettings } from './settings';
import type { Budget } from './spec';
import type { CorpusFacts, RunTrainer, TrainOutcome, TrainRequest } from './trainer';

/** Messages name a setting as the experiment file does (`lr`, not `--lr`). */
const fileNames: SettingNamer = (key) => key;

function modelOf(s: RunSettings, vocabSize: number): ModelConfig {
  return { ...s, vocabSize } as ModelConfig;
}

/** A run's settings as the run module's input (every one given, so nothing falls back to a CLI default). */
export function runInput(s: RunSettings, valFraction?: number): RunInput {
  return valFraction === undefined ? { ...s } : { ...s, valFraction };
}

/**
 * This session's share of a cumulative budget, as run settings: steps are
 * the step the run stops at already; characters and training time are what
 * is left after what the run has done (`steps: 0` when nothing is).
 */
export function sessionBudget(until: Budget, done: { chars: number; seconds: number }): RunInput {
  if ('steps' in until) return { maxSteps: until.steps };
  if ('chars' in until) {
    const left = until.chars - done.chars;
    return left > 0 ? { maxChars: left } : { steps: 0 };
  }
  const left = until.minutes * 60 - done.seconds;
  return left > 0 ? { maxMinutes: left / 60 } : { steps: 0 };
}

/** The engine's estimate of the memory one run needs in training (weights, gradients, optimizer state, activations). */
export function runTrainingBytes(s: RunSettings, vocabSize: number): number {
  const resolved = resolveRun(runInput(s), null, fileNames);
  return estimateTrainingBytes({ ...resolved.model, vocabSize }, resolved.train);
}

export const engineSizes: FamilySizes = {
  count: (s, vocabSize) => parameterCount(modelOf(s, vocabSize)),
  widthStep: (s) => s.heads ?? 1,
};

function readHistory(checkpointPath: string): RunHistory {
  try {
    return parseHistory(readFileSync(historyPathFor(checkpointPath), 'utf8'));
  } catch {
    // The history only feeds the curves and the time already trained; the run itself is in the checkpoint.
    return emptyHistory();
  }
}

export interface EngineTrainerOptions {
  /** How often a run polls shouldStop, in ms of training (default: the CLI's 25; 0 = after every step). */
  sliceMs?: number;
  /** Threads for the training products (0 or absent: the engine's default). */
  threads?: number;
  /** How a refusal says to raise the memory limit. */
  memoryHint?: string;
}

export class EngineTrainer implements RunTrainer {
  readonly sizes = engineSizes;
  /** Every family of the engine's catalog: a family registered there is available here. */
  readonly families: readonly string[] = FAMILY_NAMES;

  constructor(
    private readonly engine: RunEngine,
    private readonly io: FileIO,
    private readonly opts: EngineTrainerOptions = {},
  ) {}

  corpus(text: string, valFraction: number): CorpusFacts {
    const vocab = this.engine.Vocab.fromText(text);
    const { tokens } = vocab.encode(text);
    const { train, val } = this.engine.splitTokens(tokens, valFraction);
    return { vocabSize: vocab.size, trainChars: train.length, valChars: val.length };
  }

  refusal(s: RunSettings, corpus: CorpusFacts, maxMemoryBytes: number): string | null {
    let resolved: ResolvedRun;
    try {
      resolved = resolveRun(runInput(s), null, fileNames);
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    const config: ModelConfig = { ...resolved.model, vocabSize: corpus.vocabSize };
    const needed = estimateTrainingBytes(config, resolved.train);
    if (needed > maxMemoryBytes) {
      return `needs about ${formatBytes(needed)} (${parameterCount(config).toLocaleString('en-US')} parameters, batch ${s.batch} × seq ${s.seq}), more than the limit of ${formatBytes(maxMemoryBytes)}: use a smaller model, batch or seq, or ${this.opts.memoryHint ?? 'raise --max-memory-mb'}`;
    }
    if (this.engine.streamLayout(corpus.trainChars, s.batch, s.seq).stepsPerEpoch < 1) {
      return `the training text has ${corpus.trainChars} characters but one batch needs at least ${s.batch * s.seq + 1} (batch ${s.batch} × seq ${s.seq} + 1): use a longer text or lower batch or seq`;
    }
    if (corpus.valChars < 2) return 'the validation tail has fewer than 2 characters: raise valFraction or use a longer text';
    return null;
  }

  async train(req: TrainRequest): Promise<TrainOutcome> {
    const checkpoint = req.checkpointIn !== null ? this.engine.loadCheckpoint(req.checkpointIn) : null;
    const secondsBefore = req.checkpointIn !== null ? historySeconds(readHistory(req.checkpointIn)) : 0;
    const charsBefore = checkpoint?.trainState?.charsSeen ?? 0;
    const settings: RunInput = {
      ...runInput(req.settings, req.valFraction),
      ...sessionBudget(req.until, { chars: charsBefore, seconds: secondsBefore }),
      validateEvery: req.valEvery,
      saveEvery: req.saveEvery,
      checkpointSeconds: Math.min(Math.max(req.saveSeconds, RUN_RANGES.checkpointSeconds.min), RUN_RANGES.checkpointSeconds.max),
      maxMemoryMB: Math.max(RUN_RANGES.maxMemoryMB.min, Math.round(req.maxMemoryBytes / 1024 ** 2)),
      ...(this.opts.threads ? { threads: this.opts.threads } : {}),
    };
    const reporter = req.reporter;
    let startStep = 0;
    let startedAt = performance.now();
    let result: TrainFileResult;
    try {
      result = await trainRunToFile({ startRun: this.engine.startRun, io: this.io }, {
        text: req.text,
        settings,
        init: checkpoint ? { path: req.checkpointIn!, checkpoint } : null,
        out: req.out,
        metadata: { name: req.id },
        names: fileNames,
        memoryHint: this.opts.memoryHint ?? 'raise --max-memory-mb',
        ...(this.opts.sliceMs !== undefined ? { sliceMs: this.opts.sliceMs } : {}),
        onStart: ({ session, resolved }) => {
          startStep = session.startStep;
          startedAt = performance.now();
          reporter.start(startInfo(req, session, resolved));
        },
        onProgress: (p) => reporter.step({ result: p, done: p.step - startStep, elapsed: (performance.now() - startedAt) / 1000, charsPerSec: p.charsPerSec }),
        onValidation: (v) => reporter.val(v.step, v.loss, v.bpc),
        onCheckpoint: (c) => reporter.checkpoint(c.path, c.step, c.bytes),
        shouldStop: req.shouldStop,
      });
    } finally {
      reporter.finish();
    }
    if (result.historyError) throw new UserError(`${result.historyError} (the checkpoint was saved; fix it and continue with --resume)`);
    const { outcome, session } = result;
    const finished = outcome.reason === 'steps' || outcome.reason === 'time' || outcome.reason === 'chars';
    let val = finished ? outcome.val : null;
    if (finished && !val && session.valTokens.length >= 2) {
      // The budget was already reached when the session began (a kill between the run's last save and the experiment's record of it).
      const r = this.engine.evaluateStream(session.model, session.valTokens, session.trainer.kernels);
      val = { step: outcome.step, loss: r.loss, bpc: r.bpc, chars: r.chars };
      reporter.val(val.step, val.loss, val.bpc);
    }
    const seconds = secondsBefore + outcome.seconds;
    const chars = session.trainer.state.charsSeen;
    return {
      steps: outcome.step,
      chars,
      seconds,
      charsPerSec: chars / Math.max(seconds, 1e-9),
      valLoss: val ? val.loss : null,
      valBpc: val ? val.bpc : null,
      params: parameterCount(session.model.config),
      interrupted: outcome.reason === 'stopped',
      diverged: outcome.divergence ? outcome.divergence.step : null,
      saved: outcome.savedStep !== null || checkpoint !== null,
    };
  }
}

function startInfo(req: TrainRequest, session: Session, resolved: ResolvedRun): StartInfo {
  const { stopAtStep, maxSeconds } = resolved.limits;
  const startStep = session.startStep;
  return {
    lines: [req.title, ...resolved.notes.map((n) => `Note: ${n}.`)],
    steps: Number.isFinite(stopAtStep) ? Math.max(0, stopAtStep - startStep) : Infinity,
    seconds: maxSeconds,
    startStep,
    fields: { id: req.id, params: parameterCount(session.model.config), startStep, until: req.until },
  };
}
