/**
 * RunTrainer over today's engine (buildSession + Trainer + evaluateStream, as
 * `rnn-lab train` runs them). The one file to re-point at the run module
 * (src/engine/run/) when it lands.
 */
import { existsSync, readFileSync } from 'node:fs';

import {
  CELLS,
  DivergenceError,
  Vocab,
  estimateTrainingBytes,
  evaluateStream,
  formatBytes,
  parameterCount,
  splitTokens,
  streamLayout,
  type CellType,
  type ModelConfig,
  type StepResult,
  type TrainConfig,
} from '../../engine';
import { buildSession } from '../../engine/session';
import { emptyHistory, type FamilySizes, type RunHistory, type RunSettings } from '../../shared/experiment';
import { loadCheckpoint, saveCheckpoint } from '../checkpointFile';
import { quotePath, writeFileAtomic } from '../files';
import type { StartInfo } from '../progress';
import type { CorpusFacts, RunTrainer, TrainOutcome, TrainRequest } from './trainer';

/** Checkpoint metadata with the run's training seconds so far (a minutes budget spans rungs and resumes). */
const SECONDS_KEY = 'experiment_seconds';
/** The event loop gets a turn this often, so Ctrl-C and the progress bar's timer are handled. */
const YIELD_MS = 25;
/** History points kept per run; older halves are thinned beyond it (as the extension does). */
const HISTORY_LIMIT = 20_000;

function modelShape(s: RunSettings): Omit<ModelConfig, 'vocabSize'> {
  return { cell: s.cell as CellType, activation: s.activation, hidden: s.hidden, layers: s.layers };
}

export function trainConfig(s: RunSettings, valFraction: number): TrainConfig {
  return {
    seq: s.seq,
    batch: s.batch,
    dropout: s.dropout,
    optimizer: s.optimizer,
    lr: s.lr,
    momentum: s.momentum,
    beta1: s.beta1,
    beta2: s.beta2,
    eps: s.eps,
    weightDecay: s.weightDecay,
    clip: s.clip,
    schedule: s.schedule,
    warmupSteps: s.warmup,
    decaySteps: s.decaySteps,
    lrMinFraction: s.lrMinFraction,
    valFraction,
    seed: s.seed,
  };
}

export const engineSizes: FamilySizes = {
  count: (s, vocabSize) => parameterCount({ ...modelShape(s), vocabSize }),
};

function reached(until: TrainRequest['until'], step: number, chars: number, seconds: number): boolean {
  if ('steps' in until) return step >= until.steps;
  if ('chars' in until) return chars >= until.chars;
  return seconds >= until.minutes * 60;
}

function pushCapped<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY_LIMIT) {
    const half = Math.floor(list.length / 2);
    list.splice(0, half, ...list.slice(0, half).filter((_, i) => i % 2 === 0));
  }
}

/** The history written beside a checkpoint, cut back to the checkpoint's step (a kill can leave it ahead). */
function loadHistory(file: string, step: number): RunHistory {
  if (!existsSync(file)) return emptyHistory();
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as RunHistory;
    return {
      progress: (h.progress ?? []).filter((p) => p.step <= step),
      validation: (h.validation ?? []).filter((v) => v.step <= step),
      gradflow: [],
    };
  } catch {
    // History only feeds the charts; the run itself is in the checkpoint.
    return emptyHistory();
  }
}

export class EngineTrainer implements RunTrainer {
  readonly sizes = engineSizes;
  readonly families: readonly string[] = CELLS;

  corpus(text: string, valFraction: number): CorpusFacts {
    const vocab = Vocab.fromText(text);
    const { tokens } = vocab.encode(text);
    const { train, val } = splitTokens(tokens, valFraction);
    return { vocabSize: vocab.size, trainChars: train.length, valChars: val.length };
  }

  refusal(s: RunSettings, corpus: CorpusFacts, maxMemoryBytes: number): string | null {
    const config: ModelConfig = { ...modelShape(s), vocabSize: corpus.vocabSize };
    const needed = estimateTrainingBytes(config, s);
    if (needed > maxMemoryBytes) {
      return `needs about ${formatBytes(needed)} (${parameterCount(config).toLocaleString('en-US')} parameters, batch ${s.batch} × seq ${s.seq}), more than the limit of ${formatBytes(maxMemoryBytes)}: use a smaller model, batch or seq, or raise --max-memory-mb`;
    }
    if (streamLayout(corpus.trainChars, s.batch, s.seq).stepsPerEpoch < 1) {
      return `the training text has ${corpus.trainChars} characters but one batch needs at least ${s.batch * s.seq + 1} (batch ${s.batch} × seq ${s.seq} + 1): use a longer text or lower batch or seq`;
    }
    if (corpus.valChars < 2) return 'the validation tail has fewer than 2 characters: raise valFraction or use a longer text';
    return null;
  }

  async train(req: TrainRequest): Promise<TrainOutcome> {
    const train = trainConfig(req.settings, req.valFraction);
    const checkpoint = req.checkpointIn !== null ? loadCheckpoint(req.checkpointIn) : null;
    const session = buildSession({
      text: req.text,
      shape: modelShape(req.settings),
      train,
      init: checkpoint ? { label: `the checkpoint ${quotePath(req.checkpointIn!)}`, checkpoint } : null,
      maxMemoryBytes: req.maxMemoryBytes,
      memoryHint: 'raise --max-memory-mb',
    });
    const { trainer, model, valTokens } = session;
    const secondsBefore = checkpoint ? Number(checkpoint.extra[SECONDS_KEY] ?? 0) || 0 : 0;
    const history = checkpoint ? loadHistory(req.historyOut, trainer.state.step) : emptyHistory();
    const params = model.params.count;
    const reporter = req.reporter;

    let trainSeconds = 0;
    const totalSeconds = (): number => secondsBefore + trainSeconds;
    const save = (): void => {
      writeFileAtomic(req.historyOut, new TextEncoder().encode(JSON.stringify(history)));
      const bytes = saveCheckpoint(req.out, model, train, trainer, { name: req.id, [SECONDS_KEY]: String(totalSeconds()) });
      reporter.checkpoint(req.out, trainer.state.step, bytes);
    };
    let val: { loss: number; bpc: number } | null = null;
    const validate = (): void => {
      const r = evaluateStream(model, valTokens, trainer.kernels);
      val = { loss: r.loss, bpc: r.bpc };
      const last = history.validation[history.validation.length - 1];
      if (!last || last.step !== trainer.state.step) {
        pushCapped(history.validation, { step: trainer.state.step, loss: r.loss, bpc: r.bpc, charsSeen: trainer.state.charsSeen, seconds: totalSeconds() });
      }
      reporter.val(trainer.state.step, r.loss, r.bpc);
    };

    const until = req.until;
    const stepsLeft = 'steps' in until ? Math.max(0, until.steps - trainer.state.step) : Infinity;
    const start: StartInfo = {
      lines: [req.title],
      steps: stepsLeft,
      seconds: 'minutes' in until ? Math.max(0, until.minutes * 60 - secondsBefore) : Infinity,
      startStep: trainer.state.step,
      fields: { id: req.id, params, startStep: trainer.state.step, until },
    };
    reporter.start(start);
    const chars0 = trainer.state.charsSeen;
    let done = 0;
    let interrupted = false;
    let diverged: number | null = null;
    let lastYield = performance.now();
    let lastSave = lastYield;
    try {
      while (!reached(until, trainer.state.step, trainer.state.charsSeen, totalSeconds())) {
        if (req.shouldStop()) {
          interrupted = true;
          break;
        }
        const t0 = performance.now();
        let r: StepResult;
        try {
          r = trainer.step();
        } catch (e) {
          // The trainer throws before it updates anything: the state is the last good step's.
          if (!(e instanceof DivergenceError)) throw e;
          diverged = e.step;
          break;
        }
        const t1 = performance.now();
        trainSeconds += (t1 - t0) / 1000;
        done++;
        const cps = (trainer.state.charsSeen - chars0) / Math.max(trainSeconds, 1e-9);
        pushCapped(history.progress, { ...r, charsPerSec: cps, charsSeen: trainer.state.charsSeen, seconds: totalSeconds() });
        reporter.step({ result: r, done, elapsed: trainSeconds, charsPerSec: cps });
        if (req.valEvery > 0 && r.step % req.valEvery === 0) validate();
        if ((req.saveEvery > 0 && r.step % req.saveEvery === 0) || t1 - lastSave >= req.saveSeconds * 1000) {
          save();
          lastSave = performance.now();
        }
        if (t1 - lastYield >= YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      reporter.finish();
      if (!interrupted && diverged === null) validate();
      save();
    } finally {
      reporter.finish();
    }
    const seconds = totalSeconds();
    const chars = trainer.state.charsSeen;
    const finalVal = val as { loss: number; bpc: number } | null;
    return {
      steps: trainer.state.step,
      chars,
      seconds,
      charsPerSec: chars / Math.max(seconds, 1e-9),
      valLoss: finalVal ? finalVal.loss : null,
      valBpc: finalVal ? finalVal.bpc : null,
      params,
      interrupted,
      diverged,
    };
  }
}
