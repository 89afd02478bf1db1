/**
 * The native product kernels (products.c, built by build.mjs into
 * dist/native/products.node), where this machine has them.
 *
 * They are optional: a platform without a build, a runtime that cannot load
 * Node-API addons, or RNN_LAB_NATIVE=0 leaves nativeProducts() null and the
 * engine on its WebAssembly kernels. Node-API is ABI-stable, so one build
 * serves Node and the extension host's Electron alike.
 */

/** Which product: a·b, a·bᵀ, aᵀ·b (all row-major float32, destination first). */
export const PRODUCT = { AB: 0, ABt: 1, AtB: 2 } as const;
export type ProductKind = (typeof PRODUCT)[keyof typeof PRODUCT];

export interface NativeProducts {
  /**
   * out[M,N] (+)= a·b in the layout `kind` names, operands at float offsets
   * with leading dimensions lda, ldb, ldo, on up to `threads` threads. Every
   * element is the same chain of fused multiply-adds whatever the thread
   * count. Throws a RangeError for an operand outside its array.
   */
  product(
    kind: ProductKind, out: Float32Array, outOff: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number,
    M: number, N: number, K: number, lda: number, ldb: number, ldo: number, accumulate: number, threads: number,
  ): void;
  /** Floats pack() writes for a b of N columns and K rows (this machine's panel width, plus a header). */
  packedSize(N: number, K: number): number;
  /** Packs b (the b of product(kind, ...), leading dimension ldb) once, for productPacked. */
  pack(kind: ProductKind, b: Float32Array, bOff: number, N: number, K: number, ldb: number, dst: Float32Array): void;
  /** product() with b from pack() (checked against N and K); a and out as for product(). */
  productPacked(
    kind: ProductKind, out: Float32Array, outOff: number, a: Float32Array, aOff: number, packed: Float32Array,
    M: number, N: number, K: number, lda: number, ldo: number, accumulate: number, threads: number,
  ): void;
  /**
   * Adam/AdamW over [start, end) of p, g, m, v: wasm/optim.as adam_update's
   * arithmetic (hyper: its nine doubles), the TypeScript optimizer's bits.
   */
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, start: number, end: number, hyper: Float64Array, threads: number): void;
  /**
   * gpt's causal self-attention on the c_attn output as models/gpt/kernels.as
   * does it: forward y and the weights P from qkv, or backward dqkv from dy
   * and P. False (nothing touched) where it does not run natively (no AVX-512).
   */
  attention(backward: boolean, qkv: Float32Array, yOrDy: Float32Array, P: Float32Array, dqkv: Float32Array, T: number, B: number, C: number, heads: number, threads: number): boolean;
  /**
   * Exact GELU on c_fc's output as models/blocks/kernels.as computes it (the
   * relaxed-SIMD kernels' bits), over rows·cols floats: forward a += bias
   * (bias[biasOff, +cols)), cdf = Φ(a), out = a·Φ(a); backward (bias unused)
   * d *= Φ(a) + a·φ(a). False (nothing touched) where it does not run natively.
   */
  gelu(backward: boolean, outOrD: Float32Array, cdf: Float32Array, a: Float32Array, bias: Float32Array, biasOff: number, rows: number, cols: number, threads: number): boolean;
  /** Σ g² over g[0, n) in float64, in index order (clipGradNorm's bits). */
  sumSquares(g: Float32Array, n: number): number;
  /** g = f32(g · coef) over g[0, n). */
  scale(g: Float32Array, n: number, coef: number): void;
  /** The instruction set the build chose at load: avx512, avx2 or c. */
  isa(): string;
}

const FILE = 'products.node';

/** CommonJS gives the bundle's (or, from the sources, this file's) folder; the engine also compiles where there is none. */
declare const __dirname: string | undefined;

/** Where the build puts the addon: beside the bundles (dist/native), or, from the sources, the repository's dist/. */
function candidates(): string[] {
  if (typeof __dirname !== 'string') return [];
  return [`${__dirname}/native/${FILE}`, `${__dirname}/../../../dist/native/${FILE}`];
}

interface NodeProcess {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  dlopen(module: { exports: object }, file: string): void;
}

let loaded: NativeProducts | null | undefined;
let why = '';

/** The native products, or null (see nativeUnavailableReason). Loaded once per thread. */
export function nativeProducts(): NativeProducts | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.versions?.node) {
    why = 'not running on Node';
    return null;
  }
  if (proc.env?.RNN_LAB_NATIVE === '0') {
    why = 'turned off by RNN_LAB_NATIVE=0';
    return null;
  }
  why = 'no native build for this platform';
  for (const file of candidates()) {
    try {
      const holder = { exports: {} as Partial<NativeProducts> };
      proc.dlopen(holder, file);
      const m = holder.exports as NativeProducts;
      if (!(['product', 'packedSize', 'pack', 'productPacked', 'adam', 'attention', 'gelu', 'sumSquares', 'scale', 'isa'] as const).every((f) => typeof m[f] === 'function')) throw new Error('not this version\'s native kernels');
      loaded = m;
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      const missing = code === 'ERR_DLOPEN_FAILED' && /cannot open shared object|no such file|not found|image not found/i.test(String((e as Error).message));
      if (!missing) why = `the native build does not load here (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
    }
  }
  return loaded;
}

/** Why nativeProducts() is null ('' when it is not). */
export function nativeUnavailableReason(): string {
  nativeProducts();
  return loaded ? '' : why;
}
