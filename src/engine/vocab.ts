import { quoteForMessage } from './quote';
import { forEachCodePoint } from './text';

/**
 * Vocabulary of Unicode code points. Iterating a string by code point (not by
 * UTF-16 unit) makes an emoji or a CJK character outside the BMP one token.
 */
export class Vocab {
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;
  /** Token per code point: a table up to the largest BMP code point of the vocabulary, a map above the BMP. */
  private readonly bmp: Int32Array;
  private readonly astral = new Map<number, number>();
  /** Index fed for a character the model never saw: space if known, else 0. */
  readonly fallback: number;

  constructor(chars: readonly string[]) {
    const index = new Map<string, number>();
    let top = -1;
    for (const ch of chars) {
      const cp = typeof ch === 'string' ? (ch.codePointAt(0) ?? -1) : -1;
      if (cp < 0x10000 && cp > top) top = cp;
    }
    this.bmp = new Int32Array(top + 1).fill(-1);
    chars.forEach((ch, i) => {
      if (typeof ch !== 'string' || ch.length === 0 || ch.length !== (ch.codePointAt(0)! > 0xffff ? 2 : 1)) throw new Error(`vocabulary entry ${i} is not one code point: ${quoteForMessage(ch)}`);
      if (index.has(ch)) throw new Error(`vocabulary entry ${quoteForMessage(ch)} appears twice`);
      index.set(ch, i);
      const cp = ch.codePointAt(0)!;
      if (cp < 0x10000) this.bmp[cp] = i;
      else this.astral.set(cp, i);
    });
    this.chars = chars;
    this.index = index;
    this.fallback = index.get(' ') ?? 0;
  }

  /** The sorted set of code points in a text (sorted so the same text gives the same vocabulary). */
  static fromText(text: string): Vocab {
    const seen = new Set<number>();
    forEachCodePoint(text, (cp) => void seen.add(cp));
    return new Vocab([...seen].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp)));
  }

  get size(): number {
    return this.chars.length;
  }

  has(ch: string): boolean {
    return this.index.has(ch);
  }

  /** Token of a code point, or -1 when it is not in the vocabulary. */
  tokenOfCodePoint(cp: number): number {
    return cp < 0x10000 ? (this.bmp[cp] ?? -1) : (this.astral.get(cp) ?? -1);
  }

  /** Token of a character, or -1 when it is not in the vocabulary. */
  tokenOf(ch: string): number {
    return this.index.get(ch) ?? -1;
  }

  /**
   * Encodes a text. Unknown characters become the fallback token (inference
   * must never crash on a character it has not seen); their count is returned.
   */
  encode(text: string): { tokens: Int32Array; unknown: number; unknownChars: string[] } {
    let length = 0;
    forEachCodePoint(text, () => void length++);
    const tokens = new Int32Array(length);
    let unknown = 0;
    let i = 0;
    const unknownChars = new Set<string>();
    forEachCodePoint(text, (cp) => {
      const t = this.tokenOfCodePoint(cp);
      if (t < 0) {
        unknown++;
        if (unknownChars.size < 10) unknownChars.add(String.fromCodePoint(cp));
        tokens[i++] = this.fallback;
      } else tokens[i++] = t;
    });
    return { tokens, unknown, unknownChars: [...unknownChars] };
  }

  decode(tokens: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < tokens.length; i++) s += this.chars[tokens[i]!] ?? '';
    return s;
  }
}
