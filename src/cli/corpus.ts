/** Training and evaluation text: reading several files as one, and encoding against a vocabulary. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { UserError, type Vocab } from '../engine';
import { listFiles, quotePath, readTextFile } from './files';

export interface Corpus {
  text: string;
  files: string[];
}

/** Reads the files and concatenates them in the order given. */
export function readCorpus(files: readonly string[]): Corpus {
  if (files.length === 0) throw new UserError('no training file given: rnn-lab train <file...>');
  return { text: files.map((f) => readTextFile(f)).join(''), files: [...files] };
}

/**
 * The demo's default text: RNN Lab's own TypeScript sources, found next to
 * the CLI bundle (`dist/cli.js` → `../src`).
 */
export function demoCorpus(baseDir: string): Corpus {
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

/** Token per code point, -1 for characters the vocabulary does not have. */
export function encodeMarkingUnknown(vocab: Vocab, text: string): { tokens: Int32Array; unknown: number } {
  const cps = [...text];
  const tokens = new Int32Array(cps.length);
  let unknown = 0;
  for (let i = 0; i < cps.length; i++) {
    const t = vocab.tokenOf(cps[i]!);
    tokens[i] = t;
    if (t < 0) unknown++;
  }
  return { tokens, unknown };
}
