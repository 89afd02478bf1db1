/**
 * What a front end is told while one run trains (the CLI draws a progress
 * bar, the extension posts events to the host). Types only.
 */
import type { StepResult } from '../../engine/trainer';

export interface StartInfo {
  /** Everything for the JSON start event (configs, sizes, paths). */
  fields: Record<string, unknown>;
  /** Human description lines. */
  lines: string[];
  /** Steps this run will take at most (Infinity: only the time budget limits it). */
  steps: number;
  /** Time budget in seconds (Infinity: none). */
  seconds: number;
  /** Step the run starts from (non-zero when resuming). */
  startStep: number;
}

export interface StepInfo {
  result: StepResult;
  /** Steps taken by this run. */
  done: number;
  elapsed: number;
  charsPerSec: number;
}

export interface RunReporter {
  start(info: StartInfo): void;
  step(s: StepInfo): void;
  val(step: number, loss: number, bpc: number): void;
  checkpoint(path: string, step: number, bytes: number): void;
  /** Training ended (normally, interrupted or failed): flush what is pending, stop drawing. */
  finish(): void;
}

/** Lines for people and structured events, as the CLI's Output has them. */
export interface ExperimentLog {
  info(line: string): void;
  event(name: string, fields: Record<string, unknown>): void;
}
