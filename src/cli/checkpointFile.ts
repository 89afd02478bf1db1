/** Checkpoints on disk: read and decode (naming the file in every error), encode and write atomically. */
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
  type Model,
  type TrainConfig,
  type Trainer,
} from '../engine';
import { quotePath, readBytes, writeFileAtomic } from './files';

export function loadCheckpoint(file: string): Checkpoint {
  const bytes = readBytes(file, 'checkpoint file');
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${quotePath(file)}: ${e.message}`);
    throw e;
  }
}

/** Writes the model (and the trainer's full state, for an exact resume); returns the size in bytes. */
export function saveCheckpoint(
  file: string,
  model: Model,
  train: TrainConfig,
  trainer: Trainer | null,
  extra: Record<string, string> = {},
): number {
  const bytes = encodeCheckpoint(model, train, trainer, extra);
  writeFileAtomic(file, bytes);
  return bytes.length;
}
