/**
 * Turning command-line strings into checked numbers. Commander parses the
 * text (`parseNumber`), then `checkOptional` applies the engine's ranges with the
 * flag's own name in the message, so `--hidden 0` says "--hidden must be ...".
 */
import { InvalidArgumentError } from 'commander';

import { ConfigError, checkRange } from '../engine';

/** Commander argument parser: any finite number (ranges are checked later, with the flag's name). */
export function parseNumber(value: string): number {
  const trimmed = value.trim();
  const n = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

export interface Range {
  min: number;
  max: number;
  integer?: boolean;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/** The engine's range check under the flag's name; undefined (not given) passes through. */
export function checkOptional(flag: string, value: number | undefined, range: Range): number | undefined {
  return value === undefined ? undefined : checkRange(flag, value, range);
}

/** Ranges of the options of sample, inspect and demo (train's come from the engine's settings table). */
export const CLI_RANGES = {
  steps: { min: 0, max: 1e12, integer: true },
  minutes: { min: 0, max: 1e7, exclusiveMin: true },
  length: { min: 0, max: 10_000_000, integer: true },
  temperature: { min: 0, max: 100 },
  topK: { min: 0, max: 1_114_112, integer: true },
  topP: { min: 0, max: 1, exclusiveMin: true },
  seed: { min: 0, max: 0xffffffff, integer: true },
  errorAt: { min: 0, max: 1e9, integer: true },
} satisfies Record<string, Range>;

/** A setting that does not apply in this combination. */
export function conflict(message: string): never {
  throw new ConfigError(message);
}

/** `(default: x)` suffix for help texts. */
export function dflt(value: unknown): string {
  return ` (default: ${String(value)})`;
}
