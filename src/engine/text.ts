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

/** FNV-1a over the tokens: identifies the training text so a resumed run knows it is the same data. */
export function hashTokens(tokens: Int32Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < tokens.length; i++) {
    h ^= tokens[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0') + ':' + tokens.length;
}
