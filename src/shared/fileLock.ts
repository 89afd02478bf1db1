import * as fs from 'node:fs';
import * as os from 'node:os';

import { isProcessAlive, processStartToken } from './processes';

/** Who holds a lock: written into the lock file as JSON. */
export interface LockOwner {
  pid: number;
  /** processStartToken of the holder, so a reused pid is not mistaken for it. */
  start: string | null;
  host: string;
}

/** The lock is held by another live process. */
export class LockedError extends Error {
  readonly code = 'ELOCKED';
  constructor(readonly lockFile: string, readonly owner: LockOwner | null) {
    super(`${lockFile} is held by ${owner ? `process ${owner.pid}` : 'another process'}`);
    this.name = 'LockedError';
  }
}

export interface FileLock {
  readonly path: string;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

function me(): LockOwner {
  return { pid: process.pid, start: processStartToken(process.pid), host: os.hostname() };
}

function readOwner(lockFile: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return null;
    return { pid: o.pid, start: typeof o.start === 'string' ? o.start : null, host: o.host };
  } catch {
    return null;
  }
}

/** A lock whose holder is gone: same machine, and its pid no longer runs (or now names a later process). */
function isStale(owner: LockOwner | null, lockFile: string): boolean {
  if (!owner) {
    // Unreadable: a holder killed between creating and writing it, if it is old enough.
    try {
      return Date.now() - fs.statSync(lockFile).mtimeMs > 10_000;
    } catch {
      return true;
    }
  }
  if (owner.host !== os.hostname()) return false;
  if (!isProcessAlive(owner.pid)) return true;
  const start = processStartToken(owner.pid);
  return owner.start !== null && start !== null && start !== owner.start;
}

/**
 * Takes `lockFile` (created with O_EXCL, holding this process's pid and start
 * time), taking over a stale one. Throws LockedError when a live process holds
 * it. The lock is also released when the process exits normally.
 */
export function acquireLock(lockFile: string): FileLock {
  const mine = JSON.stringify(me());
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(lockFile, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(lockFile);
      if (!isStale(owner, lockFile)) throw new LockedError(lockFile, owner);
      takeOverStale(lockFile, owner);
      continue;
    }
    try {
      fs.writeSync(fd, mine);
    } finally {
      fs.closeSync(fd);
    }
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      process.removeListener('exit', release);
      try {
        if (fs.readFileSync(lockFile, 'utf8') === mine) fs.unlinkSync(lockFile);
      } catch {
        // Already gone.
      }
    };
    process.on('exit', release);
    return { path: lockFile, release };
  }
  throw new LockedError(lockFile, readOwner(lockFile));
}

/**
 * Moves a stale lock out of the way. The rename is atomic, so of several
 * processes taking over the same stale lock one moves it; if what was moved
 * turns out to be a fresh lock (another process took over first), it is put back.
 */
function takeOverStale(lockFile: string, judged: LockOwner | null): void {
  const aside = `${lockFile}.stale-${process.pid}`;
  try {
    fs.renameSync(lockFile, aside);
  } catch {
    return;
  }
  const moved = readOwner(aside);
  const same = JSON.stringify(moved) === JSON.stringify(judged);
  if (!same) {
    try {
      fs.linkSync(aside, lockFile);
    } catch {
      // Someone holds a new lock already; ours is the one to lose.
    }
  }
  try {
    fs.unlinkSync(aside);
  } catch {
    // Nothing to clean.
  }
}
