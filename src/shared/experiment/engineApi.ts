/**
 * What the shared experiment code needs from the engine and from the file
 * system, passed in by each front end (the CLI, the extension's experiment
 * worker): src/shared/ is loaded by the extension host too, so it runs no
 * numeric engine code of its own (DESIGN §3). Types only.
 */
import type { Checkpoint, Vocab, evaluateStream, splitTokens, startRun, streamLayout } from '../../engine';

export interface FileIO {
  /** A UTF-8 text file's contents; throws a one-line UserError naming the file. */
  readText(file: string): string;
  /** Writes atomically (temporary file, then rename); throws a one-line error naming the file. */
  write(file: string, bytes: Uint8Array): void;
  /** A path as messages show it. */
  quote(p: string): string;
}

export interface RunEngine {
  startRun: typeof startRun;
  /** Reads and decodes a checkpoint file (naming it in every error). */
  loadCheckpoint(file: string): Checkpoint;
  Vocab: typeof Vocab;
  splitTokens: typeof splitTokens;
  streamLayout: typeof streamLayout;
  evaluateStream: typeof evaluateStream;
}

/** `'a/b'` with quotes and control characters escaped, as the CLI's messages quote paths. */
export function quotePath(p: string): string {
  const s = JSON.stringify(p);
  return `'${s.slice(1, -1)}'`;
}
