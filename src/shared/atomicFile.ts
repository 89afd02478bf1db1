import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { isProcessAlive } from './processes';

/**
 * A write target that exists and is not a regular file (a device, a FIFO, a
 * socket, a directory, or a link to one): renaming over it would replace
 * it, so it is refused. `code` lets front ends translate it like an errno.
 */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREGULAR';
  constructor(readonly file: string, readonly kind: string) {
    super(`${file} is ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

/** What a non-regular file is, in words; null for a regular file (also through links). */
export function nonRegularKind(st: fs.Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws NotRegularFileError when `file` exists and is not a regular file (following links). */
export function refuseNonRegularTarget(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    // Missing (or a dangling link, which the rename replaces harmlessly).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const kind = nonRegularKind(st);
  if (kind) throw new NotRegularFileError(file, kind);
}

/** `<file>.tmp-<pid>-<8 hex>`: the temporary names writeFileAtomic uses. */
const TEMPORARY = /^(.*)\.tmp-(\d+)-[0-9a-f]{8}$/;

/**
 * Removes the temporaries that writers of `file` (or, with `file` null, of
 * any file in `dir`) left behind when they were killed mid-save: those whose
 * process no longer runs. Returns the paths removed. Best effort: a file that
 * cannot be removed is left.
 */
export function removeStaleTemporaries(dir: string, file: string | null = null): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (!m || (file !== null && m[1] !== file)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    const p = path.join(dir, name);
    try {
      if (!fs.lstatSync(p).isFile()) continue;
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** Targets whose stale temporaries this process has already looked for. */
const swept = new Set<string>();

/**
 * Writes a file so that readers (and a crash) see either the old file or the
 * complete new one: a temporary file beside it, flushed, then renamed over
 * the target. On failure the temporary file is removed, the target untouched,
 * and the file-system error is rethrown as is. A target that exists and is
 * not a regular file is refused (NotRegularFileError). The first write to a
 * target also removes temporaries of it left by killed processes.
 *
 * Node-only; used by the CLI and the extension host, never by the engine.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  refuseNonRegularTarget(file);
  const resolved = path.resolve(file);
  if (!swept.has(resolved)) {
    swept.add(resolved);
    removeStaleTemporaries(path.dirname(resolved), path.basename(resolved));
  }
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    // Checked again just before the rename: the target may have changed during the write.
    refuseNonRegularTarget(file);
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing; the original error is the one to report.
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // The temporary file may never have been created.
    }
    throw e;
  }
  syncDirectory(path.dirname(file));
}

/** Makes the rename itself durable; not every platform can open a directory, so this is best effort. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort only.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
