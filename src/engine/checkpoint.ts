import { validateModelConfig, validateTrainConfig, type ModelConfig, type TrainConfig } from './config';
import { parameterCount } from './memory';
import type { Model } from './model';
import { infoOf } from './models/catalog';
import { slotNames } from './optim';
import { Params } from './params';
import { quoteForMessage } from './quote';
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

/**
 * Largest step count a checkpoint may hold: far beyond any real run, and low
 * enough that a resumed run's step (plus the CLI's at most 10^12 more steps)
 * stays an exact integer. The other counters share it.
 */
export const MAX_CHECKPOINT_STEP = 2 ** 52;
/** Total size of the metadata a checkpoint carries for other tools (names of source files and such), in characters. */
export const MAX_EXTRA_METADATA_CHARS = 1024 * 1024;

/** Optimizer state slots that are sums of squares: negative or NaN values are impossible in a real run. */
const NON_NEGATIVE_SLOTS = new Set(['exp_avg_sq', 'sum', 'square_avg']);
const KNOWN_SLOTS = new Set((['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const).flatMap((o) => slotNames(o, 0.5)));
const RESERVED_METADATA = new Set(['format', 'config', 'vocab', 'train_state']);

export interface DecodeCheckpointOptions {
  /**
   * The caller hands `bytes` over and never modifies them: the weights and
   * the resume tensors may then be views into them, so a large model is not
   * held twice in memory.
   */
  takeBytes?: boolean;
  /**
   * For inference: the optimizer moments and carried state (`optim.*`,
   * `train.*`) are neither checked nor returned, so a model whose training
   * state is damaged can still be sampled (and saved again, without it).
   */
  weightsOnly?: boolean;
}

/** Decodes an untrusted checkpoint; every problem is a CheckpointError with a one-line reason. */
export function decodeCheckpoint(bytes: Uint8Array, options: DecodeCheckpointOptions = {}): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, { copy: false });
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      metadata.format === undefined
        ? 'not an RNN Lab checkpoint: the safetensors file has no "format" metadata (a model saved by another tool?)'
        : `not an RNN Lab checkpoint: format is ${quoteForMessage(metadata.format, 60)}, expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  const configJson = parseJson(metadata.config, 'config');
  let modelConfig: ModelConfig;
  let train: TrainConfig;
  try {
    if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson)) {
      throw new Error('expected a JSON object with "model" and "train"');
    }
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
  const params = paramsFrom(modelConfig, tensors, options.takeBytes === true ? bytes : null);
  const resumeTensors = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    if (options.weightsOnly || (!name.startsWith('optim.') && !name.startsWith('train.'))) continue;
    checkResumeTensor(name, t, params);
    resumeTensors.set(name, options.takeBytes ? t.data : t.data.slice());
  }
  const trainState = metadata.train_state === undefined ? null : validateTrainState(parseJson(metadata.train_state, 'train_state'));
  const extra: Record<string, string> = {};
  let extraChars = 0;
  for (const [k, v] of Object.entries(metadata)) {
    if (RESERVED_METADATA.has(k)) continue;
    extraChars += k.length + v.length;
    if (extraChars > MAX_EXTRA_METADATA_CHARS) {
      throw new CheckpointError(`checkpoint metadata besides the model is larger than the limit of ${MAX_EXTRA_METADATA_CHARS} characters`);
    }
    extra[k] = v;
  }
  return { model: { config: modelConfig, vocab, params }, train, trainState, resumeTensors, extra };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The model's weights, checked (shapes, finite values). Where the file holds
 * them contiguously in the engine's own order (as our encoder writes them)
 * and the caller handed the bytes over, the weights stay where they are.
 */
function paramsFrom(
  config: ModelConfig,
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  handedOver: Uint8Array | null,
): Params {
  const specs = infoOf(config.cell).tensors(config);
  let params = new Params(config, specs, 'f32', handedOver ? weightsInPlace(handedOver, tensors, parameterCount(config)) : undefined);
  for (const t of params.tensors) {
    const found = tensors.get(t.name);
    if (!found) throw new CheckpointError(`checkpoint is missing tensor ${t.name} for a ${describe(config)}`);
    if (!sameShape(found.shape, t.shape)) {
      throw new CheckpointError(
        `tensor ${t.name} has shape ${quoteForMessage(found.shape)} but a ${describe(config)} needs ${quoteForMessage(t.shape)}`,
      );
    }
    const data = found.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new CheckpointError(`tensor ${t.name} contains NaN or infinite weights`);
    }
  }
  if (handedOver && !params.tensors.every((t) => isAt(tensors.get(t.name)!.data, params.data as Float32Array, t.offset))) {
    params = new Params(config, specs);
  }
  for (const t of params.tensors) {
    const data = tensors.get(t.name)!.data;
    if (!isAt(data, params.data as Float32Array, t.offset)) params.data.set(data, t.offset);
  }
  return params;
}

/** Does `view` share memory with `whole`, starting at element `offset`? */
function isAt(view: Float32Array, whole: Float32Array, offset: number): boolean {
  return view.buffer === whole.buffer && view.byteOffset === whole.byteOffset + offset * 4;
}

/** The first `count` floats of the data buffer, where the decoder left the tensors as views (else a fresh array). */
function weightsInPlace(bytes: Uint8Array, tensors: Map<string, { data: Float32Array }>, count: number): Float32Array | undefined {
  let start = Infinity;
  for (const { data } of tensors.values()) if (data.buffer === bytes.buffer && data.byteOffset < start) start = data.byteOffset;
  if (!Number.isFinite(start) || start + count * 4 > bytes.byteOffset + bytes.byteLength) return undefined;
  return new Float32Array(bytes.buffer, start, count);
}

/**
 * Optimizer moments and carried state, held to what the engine can resume
 * from: known slots of known weights in their shapes, finite values, and no
 * negative sums of squares.
 */
function checkResumeTensor(name: string, t: { shape: number[]; data: Float32Array }, params: Params): void {
  const data = t.data;
  if (name.startsWith('optim.')) {
    const rest = name.slice('optim.'.length);
    const dot = rest.indexOf('.');
    const slot = dot < 0 ? rest : rest.slice(0, dot);
    if (!KNOWN_SLOTS.has(slot)) throw new CheckpointError(`checkpoint has optimizer state ${quoteForMessage(name)} of an unknown kind`);
    const weight = params.tensors.find((p) => p.name === rest.slice(dot + 1));
    if (dot < 0 || !weight) throw new CheckpointError(`checkpoint has optimizer state ${quoteForMessage(name)} for a weight the model does not have`);
    if (!sameShape(t.shape, weight.shape)) {
      throw new CheckpointError(`optimizer state ${name} has shape ${quoteForMessage(t.shape)} but its weight has ${quoteForMessage(weight.shape)}`);
    }
    const nonNegative = NON_NEGATIVE_SLOTS.has(slot);
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!Number.isFinite(v)) throw new CheckpointError(`optimizer state ${name} contains NaN or infinite values`);
      if (nonNegative && v < 0) throw new CheckpointError(`optimizer state ${name} contains negative values (a sum of squares cannot be negative)`);
    }
    return;
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new CheckpointError(`training state ${quoteForMessage(name)} contains NaN or infinite values`);
  }
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

/** Longest data identity a checkpoint may carry (ours is `hhhhhhhh:<token count>`). */
const MAX_DATA_HASH_CHARS = 64;

function validateTrainState(raw: unknown): TrainState {
  const r = raw as Partial<TrainState> | null;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const malformed = (what: string): never => {
    throw new CheckpointError(`checkpoint metadata "train_state" is malformed: ${what}`);
  };
  if (!r || typeof r !== 'object' || Array.isArray(r)) malformed('expected a JSON object');
  for (const key of ['step', 'epoch', 'position', 'charsSeen'] as const) {
    const v = r![key];
    if (!count(v) || v > MAX_CHECKPOINT_STEP) {
      malformed(`${key} is ${quoteForMessage(v)}, expected a whole number from 0 to 2^52`);
    }
  }
  if (typeof r!.dataHash !== 'string' || r!.dataHash.length > MAX_DATA_HASH_CHARS) {
    malformed(`dataHash must be a string of at most ${MAX_DATA_HASH_CHARS} characters`);
  }
  if (!Array.isArray(r!.rng) || r!.rng.length !== 4 || !r!.rng.every((v) => count(v) && v <= 0xffffffff) || r!.rng.every((v) => v === 0)) {
    malformed('rng must be four 32-bit unsigned integers, not all zero');
  }
  const v = r as TrainState;
  return { step: v.step, epoch: v.epoch, position: v.position, rng: [...v.rng] as TrainState['rng'], dataHash: v.dataHash, charsSeen: v.charsSeen };
}
