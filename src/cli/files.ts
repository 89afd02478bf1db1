/**
 * The CLI's only contact with the file system: reading inputs and writing
 * outputs atomically. Every file-system failure becomes a FileError with a
 * one-line message in plain words.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { UserError, decodeText } from '../engine';
import { NotRegularFileError, nonRegularKind, writeFileAtomic as writeAtomic } from '../shared/atomicFile';

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
  if (e instanceof NotRegularFileError) {
    return new FileError(`cannot ${action} ${quotePath(file)}: it is ${e.kind}, not a regular file; choose another name`);
  }
  if (!isSystemError(e)) return e;
  const reason = REASONS[e.code!] ?? e.message.replace(/[\r\n]+/g, ' ');
  return new FileError(`cannot ${action} ${quotePath(file)}: ${reason}`);
}

/** Bytes read from a file per read call while streaming it. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Opens a file for reading, refusing before any read what is not a regular
 * file: a FIFO with no writer, /dev/zero or /dev/urandom would otherwise hang
 * or never end. O_NONBLOCK makes the open itself return at once for a FIFO.
 */
function openRegular(file: string, what: string, maxBytes: number): { fd: number; size: number } {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = fs.fstatSync(fd);
    const kind = nonRegularKind(st);
    if (kind) throw new FileError(`cannot read ${quotePath(file)}: it is ${kind}, not a ${what}`);
    if (st.size > maxBytes) throw new FileError(`cannot read ${quotePath(file)}: it is ${sizeText(st.size)}, larger than the ${sizeText(maxBytes)} limit`);
    return { fd, size: st.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function sizeText(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Calls `onChunk` with the file's bytes in order, at most `maxBytes` in all
 * (a file that grows past it while being read is refused too). The chunk is
 * reused between calls.
 */
export function readChunks(file: string, onChunk: (chunk: Uint8Array) => void, options: { what?: string; maxBytes?: number } = {}): number {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  try {
    const { fd, size } = openRegular(file, options.what ?? 'file', maxBytes);
    try {
      const buf = new Uint8Array(Math.max(1, Math.min(READ_CHUNK_BYTES, size + 1)));
      let total = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) return total;
        total += n;
        if (total > maxBytes) throw new FileError(`cannot read ${quotePath(file)}: it grew past the ${sizeText(maxBytes)} limit while being read`);
        onChunk(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw translateFsError(e, 'read', file);
  }
}

/** Reads a whole file (a regular file of at most `maxBytes`), refusing anything else with a clear message. */
export function readBytes(file: string, what = 'file', maxBytes = MAX_INPUT_BYTES): Uint8Array {
  try {
    const { fd, size } = openRegular(file, what, maxBytes);
    try {
      // One buffer of the stated size (its own memory, so a decoder may keep views into it), grown only if the file grows.
      let out = new Uint8Array(new ArrayBuffer(size));
      let total = 0;
      for (;;) {
        if (total === out.length) {
          // Full at the stated size: done unless the file grew meanwhile.
          const probe = new Uint8Array(1);
          if (fs.readSync(fd, probe, 0, 1, null) === 0) return out;
          if (total + 1 > maxBytes) {
            throw new FileError(`cannot read ${quotePath(file)}: it grew past the ${sizeText(maxBytes)} limit while being read`);
          }
          const grown = new Uint8Array(Math.min(maxBytes, Math.max(2 * total, 64 * 1024)));
          grown.set(out);
          grown[total++] = probe[0]!;
          out = grown;
          continue;
        }
        const n = fs.readSync(fd, out, total, out.length - total, null);
        if (n === 0) return out.subarray(0, total);
        total += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw translateFsError(e, 'read', file);
  }
}

/** Reads a UTF-8 text file (refusing empty, binary and non-UTF-8 files, and files larger than `maxBytes`). */
export function readTextFile(file: string, maxBytes = MAX_INPUT_BYTES): string {
  return decodeText(readBytes(file, 'text file', maxBytes), quotePath(file));
}

/**
 * The start of a UTF-8 text file, at most `maxBytes` of it (cut at a
 * character boundary), for commands that look at a bounded prefix of a text
 * however large the file is.
 */
export function readTextHead(file: string, maxBytes: number): string {
  const head = new Uint8Array(maxBytes);
  let total = 0;
  let size: number;
  try {
    const opened = openRegular(file, 'text file', MAX_INPUT_BYTES);
    size = opened.size;
    try {
      for (;;) {
        const n = total < maxBytes ? fs.readSync(opened.fd, head, total, maxBytes - total, null) : 0;
        if (n === 0) break;
        total += n;
      }
    } finally {
      fs.closeSync(opened.fd);
    }
  } catch (e) {
    throw translateFsError(e, 'read', file);
  }
  let bytes = head.subarray(0, total);
  if (total < size) {
    // Drop a character cut in two at the end: back up over continuation bytes to its lead byte.
    let end = total;
    while (end > 0 && (bytes[end - 1]! & 0xc0) === 0x80) end--;
    if (end > 0 && bytes[end - 1]! >= 0xc0) end--;
    bytes = bytes.subarray(0, end);
  }
  return decodeText(bytes, quotePath(file));
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
    // Following links: the rename would replace a device or FIFO (or a link to one) with a regular file.
    const kind = nonRegularKind(fs.statSync(file));
    if (kind) throw new FileError(`cannot write ${quotePath(file)}: it is ${kind}, not a regular file; choose another name`);
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
