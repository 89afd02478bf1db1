import { DataError } from './errors';

/**
 * Turns a file's bytes into training text, refusing what is not text: a NUL
 * byte means binary, and invalid UTF-8 would silently become U+FFFD noise.
 */
export function decodeText(bytes: Uint8Array, label = 'the file'): string {
  if (bytes.length === 0) throw new DataError(`${label} is empty: train on a file that contains text`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(`${label} looks binary (a NUL byte at offset ${nul}): train on a text file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${label} is not valid UTF-8 text: convert it to UTF-8 first`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) throw new DataError(`${label} is empty: train on a file that contains text`);
  return text;
}


/**
 * Tokens of a text, in the smallest array that holds the vocabulary and one
 * more value, the marker of a character the vocabulary does not have
 * (`unknownToken`): 100 MB of text is then 100 MB of tokens, not 400.
 */
export type TokenArray = Uint8Array | Uint16Array | Int32Array;

/** Bytes per token for a vocabulary of this size. */
export function bytesPerToken(vocabSize: number): 1 | 2 | 4 {
  return vocabSize <= 0xff ? 1 : vocabSize <= 0xffff ? 2 : 4;
}

export function allocTokens(vocabSize: number, length: number): TokenArray {
  const b = bytesPerToken(vocabSize);
  return b === 1 ? new Uint8Array(length) : b === 2 ? new Uint16Array(length) : new Int32Array(length);
}

/** The marker of an unknown character in this array: its largest value (unsigned) or -1. */
export function unknownToken(tokens: TokenArray): number {
  return tokens instanceof Uint8Array ? 0xff : tokens instanceof Uint16Array ? 0xffff : -1;
}

/** FNV-1a over the tokens: identifies the training text so a resumed run knows it is the same data. */
export function hashTokens(tokens: TokenArray): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < tokens.length; i++) {
    h ^= tokens[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0') + ':' + tokens.length;
}

/**
 * A text as training needs it, without holding it as one string: its length
 * in code points and its distinct characters first (to build or check the
 * vocabulary and estimate memory), then its tokens. The CLI implements it
 * over files read in chunks; `stringSource` over a string.
 */
export interface TextSource {
  /** Code points. */
  readonly length: number;
  /** Distinct characters, sorted by code point. */
  readonly distinct: readonly string[];
  /** Tokens in the smallest array for `vocab` (see TokenArray); unknown characters get the marker. */
  encode(vocab: VocabLike): { tokens: TokenArray; unknown: number };
}

/** What encoding needs of a vocabulary. */
export interface VocabLike {
  readonly size: number;
  tokenOfCodePoint(cp: number): number;
}

/**
 * Calls `each` with every code point of a string (surrogate pairs joined),
 * without creating a string per character.
 */
export function forEachCodePoint(s: string, each: (cp: number) => void): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        each(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
        i++;
        continue;
      }
    }
    each(c);
  }
}

/** Distinct code points, as a bit set over all of Unicode (136 KiB). */
export class CodePointSet {
  private readonly bits = new Uint32Array(0x110000 >>> 5);
  count = 0;

  add(cp: number): void {
    const w = cp >>> 5;
    const m = 1 << (cp & 31);
    if ((this.bits[w]! & m) === 0) {
      this.bits[w]! |= m;
      this.count++;
    }
  }

  has(cp: number): boolean {
    return (this.bits[cp >>> 5]! & (1 << (cp & 31))) !== 0;
  }

  /** The characters, sorted by code point. */
  chars(): string[] {
    const out: string[] = [];
    for (let w = 0; w < this.bits.length; w++) {
      let word = this.bits[w]!;
      while (word !== 0) {
        const b = 31 - Math.clz32(word & -word);
        out.push(String.fromCodePoint((w << 5) + b));
        word &= word - 1;
      }
    }
    return out;
  }
}

/** Encodes code points one at a time into a TokenArray of known length. */
export class TokenWriter {
  readonly tokens: TokenArray;
  private readonly marker: number;
  length = 0;
  unknown = 0;

  constructor(private readonly vocab: VocabLike, capacity: number) {
    this.tokens = allocTokens(vocab.size, capacity);
    this.marker = unknownToken(this.tokens);
  }

  /** False when the text turned out longer than announced. */
  push(cp: number): boolean {
    if (this.length === this.tokens.length) return false;
    const t = this.vocab.tokenOfCodePoint(cp);
    if (t < 0) this.unknown++;
    this.tokens[this.length++] = t < 0 ? this.marker : t;
    return true;
  }
}

/** A TextSource over a string held in memory (the extension's documents, tests). */
export function stringSource(text: string): TextSource {
  const set = new CodePointSet();
  let length = 0;
  forEachCodePoint(text, (cp) => {
    set.add(cp);
    length++;
  });
  return {
    length,
    distinct: set.chars(),
    encode(vocab) {
      const w = new TokenWriter(vocab, length);
      forEachCodePoint(text, (cp) => void w.push(cp));
      return { tokens: w.tokens, unknown: w.unknown };
    },
  };
}

/**
 * Most memory a text of `units` UTF-8 bytes (or UTF-16 units) can take before
 * its vocabulary is known: each unit is at most one UTF-16 code unit (2 bytes)
 * in each of `stringCopies` strings, and at most one code point, whose token
 * takes at most 4 bytes. The CLI streams files (no string copies) and then
 * knows the exact token size; the extension holds the document's text as a
 * string on the host and a copy in the trainer worker.
 */
export function worstCaseTextBytes(units: number, stringCopies: number): number {
  return units * (2 * stringCopies + 4);
}

/** What the text of one training run may take in the extension (host and worker together). */
export const EXTENSION_TEXT_BUDGET_BYTES = 512 * 1024 * 1024;
/** Strings of the text the extension holds: the document's on the host, its copy in the worker. */
export const EXTENSION_TEXT_COPIES = 2;
/** The largest text file the extension trains on: 64 MiB, from the estimate above. */
export const EXTENSION_MAX_TEXT_BYTES = Math.floor(EXTENSION_TEXT_BUDGET_BYTES / worstCaseTextBytes(1, EXTENSION_TEXT_COPIES));
