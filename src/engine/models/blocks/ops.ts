/**
 * The elementwise and row-wise operations of a block model, each a tight loop
 * over (array, offset) operands that allocates nothing: LayerNorm, exact
 * GELU, softmax cross-entropy, dropout, column sums. Row-major [rows, cols].
 */
import type { Floats } from '../../floats';
import type { Rng } from '../../rng';
import { erf, erfc, normalCdf32, normalPdf32 } from './erf';
import { elementwise } from '../../elementwise';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * y = (x - mean) / sqrt(var + eps) · w + b per row (biased variance, as
 * torch's layer_norm); keeps mean and 1/sqrt(var + eps) of every row for backward.
 */
export function layerNormForward(
  y: Floats, x: Floats, rows: number, C: number,
  p: Floats, wOff: number, bOff: number,
  mean: Floats, rstd: Floats, eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let s = 0;
    for (let j = 0; j < C; j++) s += x[o + j]!;
    const mu = s / C;
    let v = 0;
    for (let j = 0; j < C; j++) {
      const d = x[o + j]! - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / C + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < C; j++) y[o + j] = (x[o + j]! - mu) * rs * p[wOff + j]! + p[bOff + j]!;
  }
}

/**
 * Backward of layerNormForward: dx (+)= ∂/∂x, and ∂/∂w, ∂/∂b added into
 * grad. With x̂ = (x - mean)·rstd and g = dy ⊙ w:
 * dx = rstd · (g - mean(g) - x̂ · mean(g ⊙ x̂)).
 */
export function layerNormBackward(
  dx: Floats, accumulate: boolean, dy: Floats, x: Floats, rows: number, C: number,
  p: Floats, grad: Floats, wOff: number, bOff: number,
  mean: Floats, rstd: Floats,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let m1 = 0;
    let m2 = 0;
    for (let j = 0; j < C; j++) {
      const xh = (x[o + j]! - mu) * rs;
      const d = dy[o + j]!;
      const g = d * p[wOff + j]!;
      m1 += g;
      m2 += g * xh;
      grad[wOff + j] += d * xh;
      grad[bOff + j] += d;
    }
    m1 /= C;
    m2 /= C;
    for (let j = 0; j < C; j++) {
      const xh = (x[o + j]! - mu) * rs;
      const v = rs * (dy[o + j]! * p[wOff + j]! - m1 - xh * m2);
      dx[o + j] = accumulate ? dx[o + j]! + v : v;
    }
  }
}

/** Φ(x), the standard normal CDF; through erfc below 0 so the far left tail keeps its relative accuracy. */
export function normalCdf(x: number): number {
  return x >= 0 ? 0.5 * (1 + erf(x * INV_SQRT2)) : 0.5 * erfc(-x * INV_SQRT2);
}

/** GELU with the exact erf: x Φ(x). */
export function gelu(x: number): number {
  return x * normalCdf(x);
}

/** d/dx x Φ(x) = Φ(x) + x φ(x). */
export function geluGrad(x: number): number {
  return normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** cdf[k] = Φ(a[k]) and out[k] = GELU(a[k]) = a[k]·Φ(a[k]) for k < n (Φ kept so backward needs no second erf). */
export function geluForward(out: Floats, cdf: Floats, a: Floats, n: number): void {
  if (out instanceof Float32Array) {
    // Rounded to float32 anyway: the shorter series gives the same floats (to an ulp) at half the cost.
    for (let k = 0; k < n; k++) {
      const x = a[k]!;
      const p = normalCdf32(x);
      cdf[k] = p;
      out[k] = x * p;
    }
    return;
  }
  for (let k = 0; k < n; k++) {
    const x = a[k]!;
    const p = x >= 0 ? 0.5 * (1 + erf(x * INV_SQRT2)) : 0.5 * erfc(-x * INV_SQRT2);
    cdf[k] = p;
    out[k] = x * p;
  }
}

/** The c_fc output's bias and GELU in one pass: a[r, :] += bias, then cdf = Φ(a), out = a·Φ(a). */
export function biasGeluForward(out: Floats, cdf: Floats, a: Floats, rows: number, cols: number, p: Floats, bOff: number): void {
  const f32 = out instanceof Float32Array;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      // Rounded like a stored float32 before GELU sees it, as in the unfused form.
      const x = f32 ? Math.fround(a[o + j]! + p[bOff + j]!) : a[o + j]! + p[bOff + j]!;
      a[o + j] = x;
      const c = f32 ? normalCdf32(x) : x >= 0 ? 0.5 * (1 + erf(x * INV_SQRT2)) : 0.5 * erfc(-x * INV_SQRT2);
      cdf[o + j] = c;
      out[o + j] = x * c;
    }
  }
}

/** GELU's backward and its bias gradient in one pass: d *= GELU'(a), grad[bOff + j] += Σ_r d[r, j]. */
export function geluBackwardBias(d: Floats, cdf: Floats, a: Floats, rows: number, cols: number, grad: Floats, bOff: number): void {
  if (d instanceof Float32Array) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) {
        const x = a[o + j]!;
        const v = d[o + j]! * (cdf[o + j]! + x * normalPdf32(x));
        d[o + j] = v;
        grad[bOff + j] += v;
      }
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      const x = a[o + j]!;
      const v = d[o + j]! * (cdf[o + j]! + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x));
      d[o + j] = v;
      grad[bOff + j] += v;
    }
  }
}

/** x2 = x1 + (out + bias): a residual branch's bias and sum in one pass (no dropout in between). */
export function biasResidualAdd(x2: Floats, x1: Floats, out: Floats, rows: number, cols: number, p: Floats, bOff: number): void {
  const f32 = out instanceof Float32Array;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      const y = f32 ? Math.fround(out[o + j]! + p[bOff + j]!) : out[o + j]! + p[bOff + j]!;
      x2[o + j] = x1[o + j]! + y;
    }
  }
}

/** out[k] = a[k]·cdf[k]: GELU again from the kept Φ. */
export function geluFromCdf(out: Floats, cdf: Floats, a: Floats, n: number): void {
  for (let k = 0; k < n; k++) out[k] = a[k]! * cdf[k]!;
}

/** a[r, :] += bias (bias at p[bOff ..]). */
export function addBias(a: Floats, rows: number, cols: number, p: Floats, bOff: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) a[o + j] += p[bOff + j]!;
  }
}

/** out[off + j] += Σ_r a[r, j] */
export function addColumnSums(out: Floats, off: number, a: Floats, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[off + j] += a[o + j]!;
  }
}

/** A zero bias as long as the largest vocabulary seen: grown, never allocated per call. */
let zeroBias = new Float32Array(0);

/**
 * Softmax of each row of `logits` in place (they become probabilities);
 * returns Σ -log p(target) over rows with target >= 0 and their number in
 * scored[0]: the kernels' softmaxXent with no bias (adding 0 changes no bit).
 */
export function softmaxCrossEntropy(probs: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number {
  if (zeroBias.length < V) zeroBias = new Float32Array(V);
  return elementwise.softmaxXent(probs, zeroBias, targets, rows, V, scored);
}

/** Inverted dropout on a[off, off + n): mask[off + k] = 1/(1-p) with probability 1-p, else 0; a *= mask. */
export function dropoutForward(a: Floats, off: number, mask: Floats, n: number, p: number, rng: Rng): void {
  const keep = 1 / (1 - p);
  for (let k = off; k < off + n; k++) {
    const m = rng.uniform() >= p ? keep : 0;
    mask[k] = m;
    a[k] *= m;
  }
}

/** d[k] *= mask[k] */
export function multiplyInto(d: Floats, mask: Floats, n: number): void {
  for (let k = 0; k < n; k++) d[k] *= mask[k]!;
}

/** Σ over rows of one time step t (rows t·B .. t·B+B-1) of Σ_j a² — the squared norm of a step's slice. */
export function stepSumSquares(a: Floats, t: number, B: number, C: number): number {
  let s = 0;
  const end = (t + 1) * B * C;
  for (let k = t * B * C; k < end; k++) s += a[k]! * a[k]!;
  return s;
}
