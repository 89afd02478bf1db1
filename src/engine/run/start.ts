/**
 * One call from settings to a running loop: resolve the settings (fresh, or
 * against a checkpoint), build the session, make the loop. The front ends and
 * the experiments runner all start runs here.
 */
import type { Checkpoint } from '../checkpoint';
import type { Kernels } from '../kernels';
import { buildSession, type Session } from '../session';
import type { TextSource } from '../text';
import { RunLoop, type RunSink } from './loop';
import { resolveRun, type ResolvedRun, type RunInput } from './resolve';
import { cliNames, type SettingNamer } from './settings';

export interface RunRequest {
  /** The training text (all of it: the validation tail is split off here). */
  /** The training text: a string, or a source that streams it (see TextSource). */
  text: string | TextSource;
  /** The settings as given (unchecked); what is not given takes its default, or the checkpoint's on resume. */
  settings: RunInput;
  /** Continue this checkpoint exactly where it stopped, instead of a fresh model. */
  resume?: { checkpoint: Checkpoint; label: string } | null;
  /** Extra metadata in every checkpoint (e.g. the source file names). */
  metadata?: Record<string, string>;
  /** How messages name a setting (default: CLI flags). */
  names?: SettingNamer;
  /** How the user raises the memory limit, for the message that refuses a run. */
  memoryHint?: string;
  /** Gradient-flow snapshots every this many steps; 0 (default) = none. */
  gradflowEvery?: number;
  /** Training seconds of the run's earlier sessions (from its history), so progress `seconds` counts on. */
  secondsBefore?: number;
  /** The memory limit in bytes, instead of the `maxMemoryMB` setting (the host's limit, already checked). */
  maxMemoryBytes?: number;
  /** Matrix kernels (default: the fastest this runtime has). */
  kernels?: Kernels;
}

export interface StartedRun {
  resolved: ResolvedRun;
  session: Session;
  loop: RunLoop;
}

/** Resolves, builds and returns the loop, ready for `runFor` / `runToEnd`. Throws UserErrors with one-line messages. */
export function startRun(req: RunRequest, sink: RunSink): StartedRun {
  const init = req.resume ?? null;
  const ck = init?.checkpoint ?? null;
  const resolved = resolveRun(
    req.settings,
    ck ? { model: ck.model.config, train: ck.train, step: ck.trainState?.step ?? 0 } : null,
    req.names ?? cliNames,
  );
  const session = buildSession({
    text: req.text,
    shape: resolved.model,
    train: resolved.train,
    init: init ? { label: init.label, checkpoint: init.checkpoint } : null,
    maxMemoryBytes: req.maxMemoryBytes ?? resolved.maxMemoryBytes,
    ...(req.memoryHint ? { memoryHint: req.memoryHint } : {}),
    ...(req.kernels ? { kernels: req.kernels } : {}),
    threads: resolved.threads,
    restartEpoch: resolved.layoutChanged,
  });
  const loop = new RunLoop(
    session,
    {
      limits: resolved.limits,
      metadata: req.metadata ?? {},
      gradflowEvery: req.gradflowEvery ?? 0,
      secondsBefore: req.secondsBefore ?? 0,
    },
    sink,
  );
  return { resolved, session, loop };
}
