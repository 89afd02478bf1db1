import * as path from 'node:path';
import * as vscode from 'vscode';
import { DataError } from '../engine/errors';
import { decodeText, EXTENSION_MAX_TEXT_BYTES } from '../engine/text';

/**
 * Files larger than this are refused before being read into memory: the
 * engine's worst-case estimate of a text's memory (engine/text.ts) within the
 * extension's budget for it.
 */
export const MAX_TRAINING_BYTES = EXTENSION_MAX_TEXT_BYTES;
const MIB = 1024 * 1024;
/** Above this many distinct characters the user is asked before a model is built. */
export const MANY_DISTINCT_CHARS = 2000;

export function displayName(uri: vscode.Uri): string {
  return path.basename(uri.path) || uri.toString();
}

/**
 * The text to train on: an open document's current text (unsaved edits
 * included), else the file's bytes checked for being text at all.
 */
export async function readTrainingText(uri: vscode.Uri): Promise<string> {
  const label = `"${displayName(uri)}"`;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) {
    const text = open.getText();
    if (text.length === 0) throw new DataError(`${label} is empty: train on a file that contains text`);
    if (text.length > MAX_TRAINING_BYTES) {
      throw new DataError(`${label} has ${(text.length / MIB).toFixed(0)} Mi characters, more than the ${MAX_TRAINING_BYTES / MIB} MiB RNN Lab trains on: use a smaller file or an excerpt`);
    }
    if (text.includes('\0')) throw new DataError(`${label} looks binary (it contains NUL characters): train on a text file`);
    return text;
  }
  let stat: vscode.FileStat;
  try {
    stat = await vscode.workspace.fs.stat(uri);
  } catch {
    throw new DataError(`${label} cannot be read: it does not exist or is not accessible`);
  }
  if (stat.type & vscode.FileType.Directory) throw new DataError(`${label} is a folder: choose a text file`);
  // A FIFO, a device or a socket would block or never end (/dev/zero, /dev/urandom).
  if (!(stat.type & vscode.FileType.File)) throw new DataError(`${label} is not a regular file (a device, FIFO or socket?): choose a text file`);
  if (stat.size > MAX_TRAINING_BYTES) {
    throw new DataError(
      `${label} is ${(stat.size / 1024 / 1024).toFixed(0)} MiB, more than the ${MAX_TRAINING_BYTES / 1024 / 1024} MiB RNN Lab trains on: use a smaller file or an excerpt`,
    );
  }
  return decodeText(await vscode.workspace.fs.readFile(uri), label);
}

export function distinctChars(text: string): number {
  const seen = new Set<string>();
  for (const ch of text) seen.add(ch);
  return seen.size;
}
