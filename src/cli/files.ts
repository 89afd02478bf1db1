/**
 * The CLI's only contact with the file system: reading inputs and writing
 * outputs atomically. Every file-system failure becomes a FileError with a
 * one-line message in plain words.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { UserError, decodeText } from '../engine';
import { writeFileAtomic as writeAtomic } from '../shared/atomicFile';

/** A file could not be read or written; the message names the file and the reason. */
export class FileError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'FileError';
  }
}

/** Larger inputs than this are refused before reading (Node cannot read 2 GiB into one buffer). */
export const MAX_INPUT_BYTES = 1024 ** 3;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the file name is too long',
  ELOOP: 'too many symbolic links',
  EBUSY: 'the file is busy',
  EXDEV: 'the temporary file and the target are on different devices',
  EIO: 'an input/output error occurred',
  ERR_FS_FILE_TOO_LARGE: 'the file is too large',
};

/** `'name'` for messages: JSON-quoted so control characters cannot break the line. */
export function quotePath(p: string): string {
  const s = JSON.stringify(p);
  return `'${s.slice(1, -1)}'`;
}

/** Is this a Node system error (with an errno code)? */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/** Translates a file-system error into a FileError; anything else is returned as is. */
export function translateFsError(e: unknown, action: string, file: string): unknown {
  if (!isSystemError(e)) return e;
  const reason = REASONS[e.code!] ?? e.message.replace(/[\r\n]+/g, ' ');
  return new FileError(`cannot ${action} ${quotePath(file)}: ${reason}`);
}

/** Reads a whole file, refusing directories and oversized files with clear messages. */
export function readBytes(file: string, what = 'file'): Uint8Array {
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new FileError(`cannot read ${quotePath(file)}: it is a directory, not a ${what}`);
    if (st.size > MAX_INPUT_BYTES) {
      throw new FileError(`cannot read ${quotePath(file)}: it is ${(st.size / 1024 ** 3).toFixed(1)} GiB, larger than the 1 GiB limit`);
    }
    return fs.readFileSync(file);
  } catch (e) {
    throw translateFsError(e, 'read', file);
  }
}

/** Reads a UTF-8 text file (refusing empty, binary and non-UTF-8 files). */
export function readTextFile(file: string): string {
  return decodeText(readBytes(file), quotePath(file));
}

/** Writes `bytes` to `file` atomically (see shared/atomicFile), with file-system errors in plain words. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  try {
    writeAtomic(file, bytes);
  } catch (e) {
    throw translateFsError(e, 'write', file);
  }
}

/**
 * Checks, before any long work, that `file` can later be written: its folder
 * exists and it is not itself a folder. Writes nothing.
 */
export function checkWritableTarget(file: string): void {
  const dir = path.dirname(path.resolve(file));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const err = translateFsError(e, 'write', file);
    if (isSystemError(e) && e.code === 'ENOENT') {
      throw new FileError(`cannot write ${quotePath(file)}: the folder ${quotePath(dir)} does not exist`);
    }
    throw err;
  }
  if (!st.isDirectory()) throw new FileError(`cannot write ${quotePath(file)}: ${quotePath(dir)} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw translateFsError(e, 'write', file);
  }
  try {
    if (fs.statSync(file).isDirectory()) throw new FileError(`cannot write ${quotePath(file)}: it is a directory, not a file`);
  } catch (e) {
    if (isSystemError(e) && e.code === 'ENOENT') return;
    throw translateFsError(e, 'write', file);
  }
}

/** True when two paths name the same existing file (also through links). */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** All files under `dir` whose name ends with `ext`, recursively, in a stable (sorted) order. */
export function listFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const entry of entries) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith(ext)) out.push(p);
    }
  };
  try {
    walk(dir);
  } catch (e) {
    throw translateFsError(e, 'read', dir);
  }
  return out;
}
