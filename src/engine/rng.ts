/**
 * xoshiro128** — small, fast, and its whole state is four 32-bit words, so a
 * checkpoint can store it and a resumed run draws exactly the same numbers.
 */
export type RngState = [number, number, number, number];

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads even tiny seeds (0, 1, 2) over the whole state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new Error('random generator state must be four unsigned 32-bit integers');
    }
    if (state.every((v) => v === 0)) throw new Error('random generator state cannot be all zeros');
    const rng = new Rng(0);
    rng.s0 = state[0]!;
    rng.s1 = state[1]!;
    rng.s2 = state[2]!;
    rng.s3 = state[3]!;
    return rng;
  }

  getState(): RngState {
    const out: RngState = [0, 0, 0, 0];
    this.writeState(out);
    return out;
  }

  /** Copies the state into `out` without allocating (the training loop's form of getState). */
  writeState(out: RngState): void {
    out[0] = this.s0 >>> 0;
    out[1] = this.s1 >>> 0;
    out[2] = this.s2 >>> 0;
    out[3] = this.s3 >>> 0;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box–Muller from two uniforms, no cached spare: the state alone says what comes next). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
