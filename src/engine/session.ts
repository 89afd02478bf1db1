/**
 * Builds a training run from its settings: text → vocabulary → tokens →
 * train/validation split → model → trainer, either fresh or continued from a
 * checkpoint (then exactly where it stopped). Shared by the CLI and the
 * extension's trainer worker.
 */
import type { Checkpoint } from './checkpoint';
import type { ModelConfig, TrainConfig } from './config';
import { ConfigError, DataError } from './errors';
import type { Kernels } from './kernels';
import { estimateTrainingBytes, formatBytes, parameterCount } from './memory';
import { createModel, type Model } from './model';
import { infoOf } from './models/catalog';
import { Rng } from './rng';
import { splitTokens, Trainer } from './trainer';
import { bytesPerToken, stringSource, type TextSource, type TokenArray } from './text';
import { runThreads } from './threadCount';
import { Vocab } from './vocab';
import { bestKernels, withThreads } from './wasm';

export interface SessionPlan {
  /** The training text: a string, or a source that streams it (see TextSource). */
  text: string | TextSource;
  /** The network's shape for a fresh run (ignored when continuing a checkpoint). */
  shape: Omit<ModelConfig, 'vocabSize'>;
  train: TrainConfig;
  /** `label` names the checkpoint in messages (a path, or "the saved model"). */
  init: { label: string; checkpoint: Checkpoint } | null;
  maxMemoryBytes: number;
  /** How the user raises the memory limit, for the message that refuses a run. */
  memoryHint?: string;
  /** Matrix kernels; by default the fastest backend this runtime can run (see wasm/). */
  kernels?: Kernels;
  /**
   * Threads for the training products (wasm kernels with shared memory; see
   * wasm/threads.ts): 1 runs on the calling thread only, 0 or absent picks
   * defaultThreads(). Falls back to 1 where threads are unavailable; results
   * are bit-identical whatever the count.
   */
  threads?: number;
  /** Continue the checkpoint's counters and optimizer, but restart the epoch from a zero carried state (batch or sequence length changed). */
  restartEpoch?: boolean;
}

export { defaultThreads } from './threadCount';

export interface Session {
  model: Model;
  trainer: Trainer;
  train: TrainConfig;
  trainTokens: TokenArray;
  valTokens: TokenArray;
  /** Step the run starts from (the checkpoint's step when continuing). */
  startStep: number;
  memoryBytes: number;
}

export function buildSession(plan: SessionPlan): Session {
  const { train, init } = plan;
  const source = typeof plan.text === 'string' ? stringSource(plan.text) : plan.text;
  const vocab = init ? init.checkpoint.model.vocab : new Vocab(source.distinct);
  if (init) requireKnownChars(vocab, source.distinct.join(''), init.label);
  const config: ModelConfig = init ? init.checkpoint.model.config : { ...plan.shape, vocabSize: vocab.size };

  const textBytes = source.length * bytesPerToken(vocab.size);
  const needed = estimateTrainingBytes(config, train) + textBytes;
  if (needed > plan.maxMemoryBytes) {
    throw new ConfigError(
      `this run needs about ${formatBytes(needed)} (${parameterCount(config).toLocaleString('en-US')} parameters, ` +
        `${config.vocabSize.toLocaleString('en-US')} distinct characters, batch ${train.batch} × sequence ${train.seq}, ` +
        `${formatBytes(textBytes)} of tokens for ${source.length.toLocaleString('en-US')} characters of text), ` +
        `more than the limit of ${formatBytes(plan.maxMemoryBytes)}: ${infoOf(config.cell).memoryAdvice?.(config, train, needed) ?? 'use a smaller model, batch, sequence or text'}` +
        (plan.memoryHint ? `, or ${plan.memoryHint}` : ''),
    );
  }

  const { tokens } = source.encode(vocab);
  const { train: trainTokens, val: valTokens } = splitTokens(tokens, train.valFraction);
  let model: Model;
  let rng: Rng;
  if (init) {
    model = init.checkpoint.model;
    rng = new Rng(train.seed);
  } else {
    ({ model, rng } = createModel(plan.shape, vocab, train.seed));
  }
  const threads = runThreads(plan.threads, train.batch);
  const trainer = new Trainer(model, train, trainTokens, withThreads(plan.kernels ?? bestKernels(), threads), rng);
  const saved = init?.checkpoint.trainState;
  // A different layout reads the data differently: position and carried state start over.
  if (saved) trainer.restore(plan.restartEpoch ? { ...saved, dataHash: '' } : saved, init!.checkpoint.resumeTensors);
  return { model, trainer, train, trainTokens, valTokens, startStep: trainer.state.step, memoryBytes: needed };
}

/** Characters of `text` that `vocab` does not have (at most `limit` examples, in order of appearance). */
export function unknownChars(vocab: Vocab, text: string, limit = 10): { count: number; examples: string[] } {
  let count = 0;
  const examples = new Set<string>();
  for (const ch of text) {
    if (!vocab.has(ch)) {
      count++;
      if (examples.size < limit) examples.add(ch);
    }
  }
  return { count, examples: [...examples] };
}

/** Fails unless every character of the text is in the vocabulary (a resumed run cannot grow its vocabulary). */
export function requireKnownChars(vocab: Vocab, text: string, what: string): void {
  const { count, examples } = unknownChars(vocab, text);
  if (count > 0) {
    const shown = examples.map((c) => JSON.stringify(c)).join(', ');
    throw new DataError(
      `the text has ${count} character${count === 1 ? '' : 's'} that ${what} does not know (${shown}): ` +
        `a model can only continue training on characters of its vocabulary; train a new model instead`,
    );
  }
}
