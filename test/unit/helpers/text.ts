/** Deterministic text with some structure to learn. */
export function makeText(chars: number, seed = 7): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'far', 'away', 'from', 'it'];
  let x = seed;
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = words[(x >>> 16) % words.length]!;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ').slice(0, chars);
}
