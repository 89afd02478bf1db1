import { validateModelConfig, validateTrainConfig, type ModelConfig, type TrainConfig } from './config';
import { parameterCount } from './memory';
import type { Model } from './model';
import { createParams } from './models/build';
import { infoOf } from './models/catalog';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';
import type { Trainer, TrainState } from './trainer';
import { Vocab } from './vocab';

export { CheckpointError } from './safetensors';

export const CHECKPOINT_FORMAT = 'rnn-lab/1';

/** A decoded checkpoint: the model, how it was trained, and (if saved) where training stood. */
export interface Checkpoint {
  model: Model;
  train: TrainConfig;
  trainState: TrainState | null;
  /** Optimizer moments and carried state (`optim.*`, `train.*`), for an exact resume. */
  resumeTensors: Map<string, Float32Array>;
  /** Anything else the writer chose to record (e.g. the source file names). */
  extra: Record<string, string>;
}

/**
 * Encodes a model (and a trainer's full state, when given) as safetensors with
 * PyTorch state_dict names, so `load_state_dict` reads the model tensors as is.
 */
export function encodeCheckpoint(
  model: Model,
  train: TrainConfig,
  trainer: Trainer | null,
  extra: Record<string, string> = {},
): Uint8Array {
  const params = model.params;
  const tensors: NamedTensor[] = params.tensors.map((t) => ({
    name: t.name,
    shape: [...t.shape],
    data: toF32(params.data.subarray(t.offset, t.offset + t.size)),
  }));
  // A tied weight under its second name (nanoGPT's lm_head.weight), so load_state_dict finds every name it expects.
  for (const [alias, of] of Object.entries(infoOf(model.config.cell).tiedAliases ?? {})) {
    const t = params.tensor(of);
    tensors.push({ name: alias, shape: [...t.shape], data: toF32(params.data.subarray(t.offset, t.offset + t.size)) });
  }
  const metadata: Record<string, string> = {
    ...extra,
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify({ model: model.config, train }),
    vocab: JSON.stringify(model.vocab.chars),
  };
  if (trainer) {
    for (const [slot, buf] of trainer.optimizer.slots) {
      for (const t of params.tensors) {
        tensors.push({ name: `optim.${slot}.${t.name}`, shape: [...t.shape], data: toF32(buf.subarray(t.offset, t.offset + t.size)) });
      }
    }
    for (const s of trainer.carriedState()) tensors.push({ name: s.name, shape: s.shape, data: toF32(s.data) });
    metadata.train_state = JSON.stringify(trainer.state);
  }
  return encodeSafetensors(tensors, metadata);
}

function toF32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Decodes an untrusted checkpoint; every problem is a CheckpointError with a one-line reason. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      metadata.format === undefined
        ? 'not an RNN Lab checkpoint: the safetensors file has no "format" metadata (a model saved by another tool?)'
        : `not an RNN Lab checkpoint: format is ${JSON.stringify(metadata.format).slice(0, 60)}, expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  const configJson = parseJson(metadata.config, 'config');
  let modelConfig: ModelConfig;
  let train: TrainConfig;
  try {
    const c = configJson as { model?: unknown; train?: unknown };
    modelConfig = validateModelConfig(c.model);
    train = validateTrainConfig(c.train ?? {});
  } catch (e) {
    throw new CheckpointError(`invalid checkpoint config: ${(e as Error).message}`);
  }
  const vocabJson = parseJson(metadata.vocab, 'vocab');
  if (!Array.isArray(vocabJson) || !vocabJson.every((v) => typeof v === 'string')) {
    throw new CheckpointError('invalid checkpoint vocab: expected a JSON array of one-character strings');
  }
  let vocab: Vocab;
  try {
    vocab = new Vocab(vocabJson as string[]);
  } catch (e) {
    throw new CheckpointError(`invalid checkpoint vocab: ${(e as Error).message}`);
  }
  if (vocab.size !== modelConfig.vocabSize) {
    throw new CheckpointError(`checkpoint vocab has ${vocab.size} entries but the config says ${modelConfig.vocabSize}`);
  }
  // Allocate only what the file itself backs: a hostile config must not make us allocate gigabytes.
  let stored = 0;
  for (const t of tensors.values()) stored += t.data.length;
  if (parameterCount(modelConfig) > stored) {
    throw new CheckpointError(
      `checkpoint config describes a ${describe(modelConfig)} (${parameterCount(modelConfig)} weights) but the file holds only ${stored} values`,
    );
  }
  const params = createParams(modelConfig);
  for (const t of params.tensors) {
    const found = tensors.get(t.name);
    if (!found) throw new CheckpointError(`checkpoint is missing tensor ${t.name} for a ${describe(modelConfig)}`);
    if (found.shape.length !== t.shape.length || found.shape.some((d, i) => d !== t.shape[i])) {
      throw new CheckpointError(`tensor ${t.name} has shape [${found.shape}] but a ${describe(modelConfig)} needs [${t.shape}]`);
    }
    for (let i = 0; i < found.data.length; i++) {
      if (!Number.isFinite(found.data[i]!)) throw new CheckpointError(`tensor ${t.name} contains NaN or infinite weights`);
    }
    params.data.set(found.data, t.offset);
  }
  // A tied weight's second name is read from its first (a writer that changed only one of them is ignored, as PyTorch ties them).
  const resumeTensors = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    if (name.startsWith('optim.') || name.startsWith('train.')) resumeTensors.set(name, t.data);
  }
  const trainState = metadata.train_state === undefined ? null : validateTrainState(parseJson(metadata.train_state, 'train_state'));
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (!['format', 'config', 'vocab', 'train_state'].includes(k)) extra[k] = v;
  }
  return { model: { config: modelConfig, vocab, params }, train, trainState, resumeTensors, extra };
}

function describe(c: ModelConfig): string {
  return `${c.layers}-layer ${infoOf(c.cell).label(c)} with hidden size ${c.hidden} and ${c.vocabSize} characters`;
}

function parseJson(text: string | undefined, field: string): unknown {
  if (text === undefined) throw new CheckpointError(`checkpoint metadata has no "${field}" entry`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(`checkpoint metadata "${field}" is not valid JSON`);
  }
}

function validateTrainState(raw: unknown): TrainState {
  const r = raw as Partial<TrainState> | null;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (
    !r || typeof r !== 'object' ||
    !count(r.step) || !count(r.epoch) || !count(r.position) || !count(r.charsSeen) ||
    typeof r.dataHash !== 'string' || !Array.isArray(r.rng) || r.rng.length !== 4 ||
    !r.rng.every((v) => count(v) && v <= 0xffffffff) || r.rng.every((v) => v === 0)
  ) {
    throw new CheckpointError('checkpoint metadata "train_state" is malformed');
  }
  return { step: r.step, epoch: r.epoch, position: r.position, rng: [...r.rng] as TrainState['rng'], dataHash: r.dataHash, charsSeen: r.charsSeen };
}
