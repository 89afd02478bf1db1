/**
 * The error function and its complement to float64 accuracy, for nanoGPT's
 * exact GELU (torch's `approximate='none'`). JavaScript has no Math.erf.
 *
 * On [0, 6) the argument falls in one of 96 pieces of width 1/16. Around
 * each piece's centre x₀ erf has the Taylor series
 *
 *     erf(x₀ + d) = erf(x₀) + 2/√π e^{-x₀²} Σ_{n≥0} (-1)ⁿ Hₙ(x₀) d^{n+1} / (n+1)!
 *
 * (Hₙ the Hermite polynomials: the n-th derivative of e^{-x²} is
 * (-1)ⁿ Hₙ(x) e^{-x²}). Its coefficients are formed once at load from a slow
 * first-principles evaluation of erf(x₀) and erfc(x₀); a call is one Horner
 * polynomial of fixed degree in d (|d| <= 1/32, so the terms fall fast and
 * the sum keeps the accuracy of its first term; a fixed degree keeps the
 * loop free of unpredictable branches). The first piece uses
 * erf(x)/x's Maclaurin series instead, so tiny arguments keep their relative
 * accuracy, and erfc has its own constant terms, so the tail keeps its
 * relative accuracy too.
 *
 * For results rounded to float32, normalCdf32 interpolates a table of Φ's
 * tail instead: within float32 rounding at a fraction of the cost.
 */

const WIDTH = 1 / 16;
/** Beyond this erf(x) rounds to ±1 in float64 (erfc(6) ≈ 2e-17). */
const LIMIT = 6;
const PIECES = LIMIT / WIDTH;
/** Taylor degree: with |d| <= 1/32 the next term is below 1e-17 of erfc even at x = 6 (the unit test checks the accuracy). */
const DEGREE = 13;
/** Terms of erf(x)/x's series on the first piece (x² <= 1/256). */
const SMALL_TERMS = 7;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(x) for x >= 0 from first principles: the everywhere-convergent series
 * erf(x) = 2/√π e^{-x²} Σ 2ⁿ x^{2n+1} / (1·3···(2n+1)), whose terms are all
 * positive (no cancellation).
 */
export function erfReference(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 1000 && term > sum * 1e-18; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/** erfc(x) for x >= 0: 1 - erf below 2, else the continued fraction e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
export function erfcReference(x: number): number {
  if (x < 2) return 1 - erfReference(x);
  let t = x;
  for (let n = 400; n >= 1; n--) t = x + n / 2 / t;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
}

const N = DEGREE + 1;
/** [piece·N + n]: Taylor coefficients of erf around the piece's centre (n >= 1), and erf(x₀) / erfc(x₀) at n = 0. */
const POLY = new Float64Array(PIECES * N);
const ERF0 = new Float64Array(PIECES);
const ERFC0 = new Float64Array(PIECES);
/** erf(x)/x = 2/√π Σ (-1)ⁿ x^{2n} / (n! (2n+1)), coefficients of x^{2n}. */
const SMALL = new Float64Array(SMALL_TERMS);

(() => {
  let f = TWO_OVER_SQRT_PI;
  for (let n = 0; n < SMALL_TERMS; n++) {
    SMALL[n] = f / (2 * n + 1);
    f *= -1 / (n + 1);
  }
  for (let p = 1; p < PIECES; p++) {
    const x0 = (p + 0.5) * WIDTH;
    ERF0[p] = erfReference(x0);
    ERFC0[p] = erfcReference(x0);
    // H₀ = 1, H₁ = 2x, H_{n+1} = 2x Hₙ - 2n H_{n-1}; coefficient of d^{n+1}.
    let hPrev = 0;
    let h = 1;
    let fact = 1;
    const scale = TWO_OVER_SQRT_PI * Math.exp(-x0 * x0);
    for (let n = 0; n + 1 < N; n++) {
      fact *= n + 1;
      POLY[p * N + n + 1] = (scale * (n % 2 === 0 ? h : -h)) / fact;
      const next = 2 * x0 * h - 2 * n * hPrev;
      hPrev = h;
      h = next;
    }
  }
})();


/** Spacing and extent of the float32 Φ table (on |x|). */
const STEP32 = 1 / 128;
const END32 = 9;
const NODES32 = END32 / STEP32 + 1;
/** [k]: Q(t) = Φ(-t) = erfc(t/√2)/2 at t = k·STEP32, and STEP32·Q'(t) = -STEP32·φ(t). */
const Q32 = new Float64Array(NODES32);
const DQ32 = new Float64Array(NODES32);
/** [k]: φ(t) at the same nodes, and STEP32·φ'(t) = -STEP32·t·φ(t). */
const PHI32 = new Float64Array(NODES32);
const DPHI32 = new Float64Array(NODES32);

/**
 * Φ(x), the standard normal CDF, for results rounded to float32: cubic
 * Hermite interpolation of the lower tail Q(|x|) between table nodes (their
 * values from the full series, their slopes exact), then Φ = 1 - Q or Q by
 * the sign, with no branch on it. The interpolation error, h⁴/384·|Q⁗|,
 * stays below 1.2e-8 of Q for |x| < 6 and 2.3e-8 for |x| < 7, under
 * float32's half-ulp of 3e-8, and below 7e-8 in the far tail where GELU's
 * output is under 1e-11 (the unit test checks); no series, no exp.
 */
export function normalCdf32(x: number): number {
  const t = Math.abs(x);
  let q: number;
  if (t < END32) {
    const u = t * (1 / STEP32);
    const k = u | 0;
    const s = u - k;
    const s2 = s * s;
    const s3 = s2 * s;
    q = (2 * s3 - 3 * s2 + 1) * Q32[k]! + (s3 - 2 * s2 + s) * DQ32[k]! + (3 * s2 - 2 * s3) * Q32[k + 1]! + (s3 - s2) * DQ32[k + 1]!;
  } else q = 0.5 * erfc(t * Math.SQRT1_2);
  return x >= 0 ? 1 - q : q;
}

/** φ(x), the standard normal density, for results rounded to float32: the same interpolation on its own table, no exp (within 1.1e-8 for |x| < 6, 2.1e-8 for |x| < 7). */
export function normalPdf32(x: number): number {
  const t = Math.abs(x);
  if (!(t < END32)) return Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  const u = t * (1 / STEP32);
  const k = u | 0;
  const s = u - k;
  const s2 = s * s;
  const s3 = s2 * s;
  return (2 * s3 - 3 * s2 + 1) * PHI32[k]! + (s3 - 2 * s2 + s) * DPHI32[k]! + (3 * s2 - 2 * s3) * PHI32[k + 1]! + (s3 - s2) * DPHI32[k + 1]!;
}

/** Σ_{n=1..DEGREE} POLY[p, n] dⁿ */
function tail(p: number, d: number): number {
  const base = p * N;
  let s = 0;
  for (let n = DEGREE; n >= 1; n--) s = (s + POLY[base + n]!) * d;
  return s;
}

function smallSeries(x: number): number {
  const x2 = x * x;
  let s = 0;
  for (let n = SMALL_TERMS - 1; n >= 0; n--) s = s * x2 + SMALL[n]!;
  return s * x;
}

export function erf(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < LIMIT)) return Number.isNaN(x) ? NaN : Math.sign(x);
  const p = Math.floor(ax / WIDTH);
  const r = p === 0 ? smallSeries(ax) : ERF0[p]! + tail(p, ax - (p + 0.5) * WIDTH);
  return x < 0 ? -r : r;
}

/** 1 - erf(x), accurate where it is tiny (x large). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < WIDTH) return 1 - erf(x);
  // Past the table the tail is rare in a network: the continued fraction directly (0 once it underflows).
  if (x >= LIMIT) return x > 27 ? 0 : erfcReference(x);
  const p = Math.floor(x / WIDTH);
  return ERFC0[p]! - tail(p, x - (p + 0.5) * WIDTH);
}

for (let k = 0; k < NODES32; k++) {
  const t = k * STEP32;
  Q32[k] = 0.5 * erfc(t * Math.SQRT1_2);
  const phi = Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  DQ32[k] = -STEP32 * phi;
  PHI32[k] = phi;
  DPHI32[k] = -STEP32 * t * phi;
}
