/**
 * Training and evaluation text: several files read as one, streamed in
 * chunks (never held as one string), and encoded against a vocabulary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TextDecoder } from 'node:util';

import {
  CodePointSet,
  DataError,
  TokenWriter,
  forEachCodePoint,
  UserError,
  type TextSource,
  type TokenArray,
  type Vocab,
  type VocabLike,
} from '../engine';
import { listFiles, quotePath, readChunks, readTextFile } from './files';

export interface Corpus {
  /** The text, streamed from the files. */
  source: TextSource;
  files: string[];
}

/** Reads the files (checking each is UTF-8 text) and presents them, concatenated in the order given, as one source. */
export function readCorpus(files: readonly string[]): Corpus {
  if (files.length === 0) throw new UserError('no training file given: rnn-lab train <file...>');
  return { source: fileSource(files), files: [...files] };
}

/**
 * Calls `each` with every code point of a UTF-8 text file, decoding chunk by
 * chunk, refusing what is not text as decodeText does (empty, a NUL byte,
 * invalid UTF-8); a leading byte-order mark is skipped. Returns the number
 * of code points.
 */
export function forEachCodePointOfFile(file: string, each: (cp: number) => void): number {
  const label = quotePath(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let count = 0;
  let first = true;
  // A streaming decoder returns whole code points only, so a surrogate pair never straddles two chunks.
  const take = (s: string): void => {
    const n = s.length;
    let i = 0;
    if (first && n > 0) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(++i);
        each(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
      } else each(c);
      count++;
    }
  };
  readChunks(
    file,
    (chunk) => {
      const nul = chunk.indexOf(0);
      if (nul >= 0) throw new DataError(`${label} looks binary (a NUL byte at offset ${offset + nul}): train on a text file`);
      offset += chunk.length;
      take(decodeChunk(decoder, chunk, label, true));
    },
    { what: 'text file' },
  );
  take(decodeChunk(decoder, new Uint8Array(0), label, false));
  if (count === 0) throw new DataError(`${label} is empty: train on a file that contains text`);
  return count;
}

function decodeChunk(decoder: TextDecoder, chunk: Uint8Array, label: string, stream: boolean): string {
  try {
    return decoder.decode(chunk, { stream });
  } catch {
    throw new DataError(`${label} is not valid UTF-8 text: convert it to UTF-8 first`);
  }
}

/**
 * The files as one TextSource: a first pass counts the code points and
 * collects the distinct characters; `encode` reads the files again and writes
 * the tokens straight into their typed array. Memory: the tokens and one
 * read chunk, whatever the size of the text.
 */
export function fileSource(files: readonly string[]): TextSource {
  const set = new CodePointSet();
  let length = 0;
  const lengths = files.map((f) =>
    forEachCodePointOfFile(f, (cp) => {
      set.add(cp);
      length++;
    }),
  );
  return {
    length,
    distinct: set.chars(),
    encode(vocab: VocabLike) {
      const w = new TokenWriter(vocab, length);
      files.forEach((f, i) => {
        const before = w.length;
        let overflow = false;
        forEachCodePointOfFile(f, (cp) => {
          if (!w.push(cp)) overflow = true;
        });
        if (overflow || w.length - before !== lengths[i]) {
          throw new DataError(`${quotePath(f)} changed while it was being read: train again once it is no longer being written`);
        }
      });
      return { tokens: w.tokens, unknown: w.unknown };
    },
  };
}

/**
 * The demo's default text: RNN Lab's own TypeScript sources, found next to
 * the CLI bundle (`dist/cli.js` → `../src`).
 */
export function demoCorpus(baseDir: string): { text: string; files: string[] } {
  const srcDir = path.join(baseDir, '..', 'src');
  if (!fs.existsSync(srcDir) || !fs.statSync(srcDir).isDirectory()) {
    throw new UserError(
      `the demo trains on RNN Lab's own source files but ${quotePath(srcDir)} was not found ` +
        `(run it from a checkout of the project, or train on your own text with: rnn-lab train <file>)`,
    );
  }
  const files = listFiles(srcDir, '.ts');
  if (files.length === 0) {
    throw new UserError(`the demo trains on RNN Lab's own source files but ${quotePath(srcDir)} has no .ts files`);
  }
  return { text: files.map((f) => readTextFile(f)).join('\n'), files };
}

/** Tokens of a text file against a model's vocabulary, streamed; unknown characters get the marker (see TokenArray). */
export function encodeFileMarkingUnknown(vocab: Vocab, file: string): { tokens: TokenArray; unknown: number } {
  return fileSource([file]).encode(vocab);
}

/** Token per code point, the marker for characters the vocabulary does not have. */
export function encodeMarkingUnknown(vocab: Vocab, text: string): { tokens: TokenArray; unknown: number } {
  let length = 0;
  forEachCodePoint(text, () => void length++);
  const w = new TokenWriter(vocab, length);
  forEachCodePoint(text, (cp) => void w.push(cp));
  return { tokens: w.tokens, unknown: w.unknown };
}
