/**
 * Per-neuron statistics of one [T, H] matrix (values[t * H + j]) for sorting
 * and filtering, and the position patterns neurons are correlated with. Pure.
 */

export interface NeuronStats {
  mean: Float64Array;
  variance: Float64Array;
}

export function neuronStats(values: ArrayLike<number>, T: number, H: number): NeuronStats {
  const mean = new Float64Array(H);
  const variance = new Float64Array(H);
  if (T === 0) return { mean, variance };
  for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) mean[j] += values[t * H + j]!;
  for (let j = 0; j < H; j++) mean[j] /= T;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      const d = values[t * H + j]! - mean[j]!;
      variance[j] += d * d;
    }
  }
  for (let j = 0; j < H; j++) variance[j] /= T;
  return { mean, variance };
}

export type PatternKind = 'quotes' | 'newline' | 'regex';

/**
 * 1 at the positions the pattern marks, else 0:
 * - quotes: inside a "double-quoted" span, quotes included;
 * - newline: the character right after a line break;
 * - regex: every character covered by a match (global, unicode).
 */
export function patternMarks(chars: readonly string[], kind: PatternKind, source = ''): { marks: Float64Array } | { error: string } {
  const T = chars.length;
  const marks = new Float64Array(T);
  if (kind === 'quotes') {
    let inside = false;
    for (let t = 0; t < T; t++) {
      if (chars[t] === '"') {
        marks[t] = 1;
        inside = !inside;
      } else if (inside) marks[t] = 1;
    }
    return { marks };
  }
  if (kind === 'newline') {
    for (let t = 1; t < T; t++) if (chars[t - 1] === '\n') marks[t] = 1;
    return { marks };
  }
  if (!source) return { error: 'type a regular expression' };
  let re: RegExp;
  try {
    re = new RegExp(source, 'gu');
  } catch (e) {
    return { error: (e as Error).message };
  }
  const text = chars.join('');
  // UTF-16 index → code point index.
  const cpAt = new Int32Array(text.length + 1);
  let u = 0;
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < chars[t]!.length; k++) cpAt[u++] = t;
  }
  cpAt[u] = T;
  let m: RegExpExecArray | null;
  let guard = 0;
  while ((m = re.exec(text)) !== null && guard++ < 100_000) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const s = cpAt[m.index]!;
    const e = cpAt[m.index + m[0].length]!;
    for (let t = s; t < e; t++) marks[t] = 1;
  }
  return { marks };
}

/** Pearson correlation of each neuron's activations with `marks` (0 where either is constant). */
export function correlations(values: ArrayLike<number>, T: number, H: number, marks: Float64Array, stats: NeuronStats): Float64Array {
  const r = new Float64Array(H);
  let mm = 0;
  for (let t = 0; t < T; t++) mm += marks[t]!;
  mm /= T || 1;
  let vm = 0;
  for (let t = 0; t < T; t++) vm += (marks[t]! - mm) ** 2;
  if (vm === 0) return r;
  const cov = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    const dm = marks[t]! - mm;
    if (dm === 0) continue;
    for (let j = 0; j < H; j++) cov[j] += (values[t * H + j]! - stats.mean[j]!) * dm;
  }
  for (let j = 0; j < H; j++) {
    const vx = stats.variance[j]! * T;
    r[j] = vx > 0 ? cov[j]! / Math.sqrt(vx * vm) : 0;
  }
  return r;
}

/** "3, 7, 10-12" → those neuron indices (below H); null when the text is empty. */
export function parseSearch(text: string, H: number): Set<number> | null {
  const s = text.trim();
  if (!s) return null;
  const out = new Set<number>();
  for (const part of s.split(/[\s,]+/)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let j = Math.min(a, b); j <= Math.max(a, b) && j < H; j++) out.add(j);
  }
  return out;
}

export type SortKind = 'index' | 'variance' | 'mean' | 'correlation';

/** Neuron order: by index, by variance (high first), by mean (high first), by |r| (strongest first); ties by index. */
export function sortNeurons(H: number, sort: SortKind, stats: NeuronStats, r: Float64Array | null): number[] {
  const order = Array.from({ length: H }, (_, j) => j);
  const key =
    sort === 'variance' ? stats.variance : sort === 'mean' ? stats.mean : sort === 'correlation' && r ? r.map(Math.abs) : null;
  if (key) order.sort((a, b) => key[b]! - key[a]! || a - b);
  return order;
}
