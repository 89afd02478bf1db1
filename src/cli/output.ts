/**
 * What the CLI prints: JSON lines (`--json`) or human text on stdout, and
 * errors as one line on stderr with an exit code that says what kind of
 * failure it was.
 */
import { CheckpointError, DivergenceError, UserError } from '../engine';
import { isSystemError, translateFsError } from './files';

export const EXIT_OK = 0;
/** An unexpected failure: a bug. */
export const EXIT_BUG = 1;
/** The user's input (a file, a setting, a checkpoint) cannot be used. */
export const EXIT_USER = 2;
/** Training diverged. */
export const EXIT_DIVERGED = 3;
/** Stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * A closed stdout (`rnn-lab train ... | head -1`) must not stop a command that
 * saves something: once the reader is gone, output is dropped and the command
 * finishes its work; its exit code still says whether everything was saved.
 * Commands with nothing to save (sample, inspect) just exit, as `head` expects.
 */
let stdoutClosed = false;
let finishWhenStdoutCloses = false;

/** Called by commands that save files (train, demo) before they start. */
export function keepRunningIfStdoutCloses(): void {
  finishWhenStdoutCloses = true;
}

/** Installs the handlers: EPIPE on stdout (and stderr) is the reader leaving, not an error. */
export function watchOutputStreams(exitCode: () => number): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || (stdoutClosed && e.code === 'ERR_STREAM_DESTROYED')) {
      stdoutClosed = true;
      if (!finishWhenStdoutCloses) process.exit(exitCode());
      return;
    }
    throw e;
  });
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}

/** Writes to stdout unless its reader has gone. */
export function writeStdout(text: string): void {
  if (!stdoutClosed) process.stdout.write(text);
}

/** Where a command writes: one JSON object per line, or text for people. */
export class Output {
  constructor(readonly json: boolean) {}

  /** A JSON event line (only in --json mode). */
  event(name: string, fields: Record<string, unknown>): void {
    if (this.json) writeStdout(jsonLine({ event: name, ...fields }));
  }

  /** A line for people (only without --json). */
  info(line: string): void {
    if (!this.json) writeStdout(line + '\n');
  }

  /** A whole JSON document (commands with one result, like eval). */
  result(value: unknown): void {
    writeStdout(jsonLine(value));
  }
}

/** JSON with non-finite numbers as null, on one line. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n';
}

/** Rounds to `digits` decimals (for compact JSON). */
export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Keeps `digits` significant digits (for values that span many orders of magnitude). */
export function significant(x: number, digits = 4): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1:05`, `1:02:03` */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A message on one line: newlines and control characters become spaces. */
export function oneLine(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * Reports an error (one line on stderr, `rnn-lab: ...`) and returns the exit
 * code for it. Errors the user can cause get their message; anything else is
 * a bug and says so.
 */
export function reportError(e: unknown, out?: Output): number {
  const err = translateFsError(e, 'access', isSystemError(e) && typeof e.path === 'string' ? e.path : 'a file');
  let code: number;
  let message: string;
  if (err instanceof DivergenceError) {
    code = EXIT_DIVERGED;
    message = err.message;
  } else if (err instanceof UserError || err instanceof CheckpointError) {
    code = EXIT_USER;
    message = err.message;
  } else {
    code = EXIT_BUG;
    const text = err instanceof Error ? err.message : String(err);
    message = `internal error: ${text} (this is a bug in rnn-lab; please report it with the command you ran)`;
    if (process.env.RNN_LAB_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  }
  out?.event('error', { message: oneLine(message), exitCode: code });
  process.stderr.write(`rnn-lab: ${oneLine(message)}\n`);
  return code;
}
