import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a file so that readers (and a crash) see either the old file or the
 * complete new one: a temporary file beside it, flushed, then renamed over
 * the target. On failure the temporary file is removed, the target untouched,
 * and the file-system error is rethrown as is.
 *
 * Node-only; used by the CLI and the extension host, never by the engine.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
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
