/** Checkpoints on disk: read and decode (naming the file in every error), encode and write atomically, claim an output. */
import * as path from 'node:path';

import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
  type Model,
  type TrainConfig,
  type Trainer,
} from '../engine';
import { removeStaleTemporaries } from '../shared/atomicFile';
import { LockedError, acquireLock, type FileLock } from '../shared/fileLock';
import { FileError, checkWritableTarget, quotePath, readBytes, translateFsError, writeFileAtomic } from './files';

/**
 * Reads and decodes a checkpoint. `weightsOnly` (for sample, eval, inspect)
 * skips the optimizer state. The bytes are handed to the decoder, so a large
 * model is held in memory once.
 */
export function loadCheckpoint(file: string, options: { weightsOnly?: boolean } = {}): Checkpoint {
  const bytes = readBytes(file, 'checkpoint file');
  try {
    return decodeCheckpoint(bytes, { takeBytes: true, weightsOnly: options.weightsOnly === true });
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

/** The lock file beside a checkpoint that one writer holds while it runs. */
export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/**
 * Before a run writes `file`: checks that it can be written (see
 * checkWritableTarget), removes temporaries that killed writers left beside
 * it, and takes its lock, so that a second process writing the same file is
 * refused instead of silently overwriting the first one's saves. The lock is
 * released by `release()` or when the process exits.
 */
export function claimOutput(file: string, flag = '--out'): FileLock {
  checkWritableTarget(file);
  const resolved = path.resolve(file);
  removeStaleTemporaries(path.dirname(resolved), path.basename(resolved));
  try {
    return acquireLock(lockPathFor(file));
  } catch (e) {
    if (e instanceof LockedError) {
      const who = e.owner ? `process ${e.owner.pid}${e.owner.host ? ` on ${e.owner.host}` : ''}` : 'another process';
      throw new FileError(
        `${flag} ${quotePath(file)} is being written by another rnn-lab run (${who}): wait for it to finish or choose another ${flag} ` +
          `(if no such run exists, delete ${quotePath(lockPathFor(file))})`,
      );
    }
    throw translateFsError(e, 'write', lockPathFor(file));
  }
}
