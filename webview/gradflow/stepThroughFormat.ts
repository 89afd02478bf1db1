/** How the step-through writes its numbers (the Chromium test reads them back the same way). */
export function formatValue(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? String(+x.toPrecision(4)) : x.toExponential(3);
}

/** A character as the step-through names it: quoted, with newlines and tabs visible. */
export function formatChar(ch: string | undefined): string {
  if (ch === undefined) return '';
  return JSON.stringify(ch);
}
