/** One gpt evaluation window: positions [start, start + length) of the text, of which [scoreFrom, start + length) are scored. */
export interface EvalWindow {
  readonly start: number;
  readonly length: number;
  readonly scoreFrom: number;
}

/**
 * How a gpt scores a stream of n predictions (inputs 0..n-1) longer than its
 * context: windows of `context` positions, each starting `stride` after the
 * last, scoring only the predictions no earlier window scored. The first
 * window scores all of its positions; after it, every scored prediction sees
 * between context - stride and context - 1 earlier characters. stride = 1 is
 * exact nanoGPT generate() semantics (every character sees context - 1
 * characters once the text is long enough) at one window per character; a
 * larger stride trades a little history for fewer windows. A text that fits
 * (n <= context) is one window.
 */
export function gptEvalWindows(n: number, context: number, stride: number): EvalWindow[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`prediction count must be a whole number, got ${n}`);
  if (!Number.isInteger(context) || context < 1) throw new Error(`context must be a whole number of at least 1, got ${context}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > context) throw new Error(`stride must be from 1 to the context ${context}, got ${stride}`);
  if (n === 0) return [];
  if (n <= context) return [{ start: 0, length: n, scoreFrom: 0 }];
  const out: EvalWindow[] = [{ start: 0, length: context, scoreFrom: 0 }];
  let scored = context;
  while (scored < n) {
    const end = Math.min(scored + stride, n);
    out.push({ start: end - context, length: context, scoreFrom: scored });
    scored = end;
  }
  return out;
}
