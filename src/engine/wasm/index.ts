/**
 * WebAssembly SIMD128 kernels behind the `Kernels` interface.
 *
 * Memory: a wasm module cannot see JS Float32Arrays, so each call copies its
 * operands into the module's own memory (a scratch arena that only grows),
 * runs there and copies the result back. Copying is O(M·K + N·K + M·N)
 * against O(M·N·K) multiply-adds; the one case where it is not negligible is
 * the recurrent product (B×H activations against a 4H×H weight matrix every
 * time step), which costs about a tenth of that step's arithmetic.
 *
 * gemmABt and gemmAB reduce to one micro-kernel, out (+)= a·bᵀ with both
 * operands read along K (dot products of contiguous rows, no packing):
 * gemmAB transposes b inside wasm memory first, as the TypeScript reference
 * does. gemmAtB (the weight gradients) has a kernel of its own in
 * outer-product form on the untransposed operands (gemm_atb_ld), so its
 * results differ from the reference's at float32 rounding level. Float64
 * operands (gradient checks) go to the TypeScript kernels.
 */
import type { Floats } from '../floats';
import { elementwise } from '../elementwise';
import { tsKernels, type ArenaKernels, type ArenaOptions, type Kernels, type WasmHost } from '../kernels';
import { relaxedSharedWasmBase64, relaxedWasmBase64, simdSharedWasmBase64, simdWasmBase64 } from './binaries.generated';
import { nativeProducts, PRODUCT, type NativeProducts } from '../native';
import { ATB_WS_BYTES, setHelperSpins, splitColSums, splitGemm, splitGemmAB, splitGemmAtB, splitRows, splitTranspose, threadsAvailable } from './threads';

export { setSplitMinMacs, SPLIT_MIN_MACS, splitCount, stopHelpers, threadsAvailable } from './threads';

export type WasmFlavor = 'relaxed' | 'simd';

interface GemmExports {
  gemm_abt(out: number, a: number, b: number, M: number, N: number, K: number, accumulate: number): void;
  gemm_abt_ld(out: number, a: number, b: number, M: number, N: number, K: number, ldOut: number, accumulate: number): void;
  transpose(out: number, a: number, rows: number, cols: number): void;
  transpose_cols(out: number, a: number, rows: number, cols: number, from: number, to: number): void;
  gemm_atb_ld(out: number, a: number, b: number, M: number, N: number, K: number, lda: number, ldb: number, ldo: number, accumulate: number, ws: number): void;
  gemm_ab_ld(out: number, a: number, b: number, M: number, N: number, K: number, lda: number, ldb: number, ldo: number, accumulate: number, ws: number): void;
  heap_base(): number;
}

/**
 * The slice of the WebAssembly JS API used here. The project compiles
 * against lib ES2022 without DOM, which declares none of it.
 */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE = 65536;
/**
 * Room kept below the host's buffers: the module's static data (the tables of
 * its float64 exp/log) sits from 1024 up; the constructor checks it fits.
 */
const BASE = 16384;

function decode(base64: string): Uint8Array {
  const s = atob(base64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

let relaxedFlagTried = false;
/**
 * Node 20's V8 validates relaxed SIMD only behind a flag; setting it before
 * the module is compiled is enough (also inside a worker thread).
 */
function enableRelaxedSimd(): void {
  if (relaxedFlagTried) return;
  relaxedFlagTried = true;
  try {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (!proc?.versions?.node) return;
    const v8 = require('node:v8') as { setFlagsFromString(flag: string): void };
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Not Node, or the flag is gone (relaxed SIMD shipped): validation decides.
  }
}

/** A flavor's module for a private memory, or (`shared`) for a shared one that helper threads also run on. */
type ModuleKey = WasmFlavor | `${WasmFlavor}-shared`;
const BASE64: Record<ModuleKey, string> = {
  relaxed: relaxedWasmBase64,
  simd: simdWasmBase64,
  'relaxed-shared': relaxedSharedWasmBase64,
  'simd-shared': simdSharedWasmBase64,
};
const bytesCache: Partial<Record<ModuleKey, Uint8Array>> = {};
function moduleBytes(key: ModuleKey): Uint8Array {
  return (bytesCache[key] ??= decode(BASE64[key]));
}

/** Whether this runtime validates (so can run) the kernels of a flavor. */
export function wasmFlavorAvailable(flavor: WasmFlavor): boolean {
  if (!WA) return false;
  const valid = (): boolean => {
    try {
      return WA.validate(moduleBytes(flavor));
    } catch {
      return false;
    }
  };
  if (valid()) return true;
  // Only where the runtime refuses relaxed SIMD is a V8 flag set: the
  // extension host is shared with other extensions, so touch it no more than needed.
  if (flavor !== 'relaxed') return false;
  enableRelaxedSimd();
  return valid();
}

/** The shared row-wise kernels; a model family's own exports are bound by the family (models/<family>/wasm.ts). */
interface FusedExports {
  add_rows(a: number, bias: number, rows: number, cols: number): void;
  gather_rows(out: number, table: number, idx: number, bias: number, rows: number, cols: number): void;
  scatter_add_rows(table: number, idx: number, a: number, rows: number, cols: number): void;
  col_sums(out: number, a: number, rows: number, cols: number): void;
  col_sums_cols(out: number, a: number, rows: number, cols: number, from: number, to: number): void;
  softmax_xent(probs: number, bias: number, targets: number, rows: number, V: number, scoredOut: number): number;
  xent_grad(probs: number, targets: number, rows: number, V: number, scale: number): void;
}

const compiled: Partial<Record<ModuleKey, object>> = {};
function compiledModule(key: ModuleKey): object {
  return (compiled[key] ??= new WA!.Module(moduleBytes(key)));
}

const sharedOk: Partial<Record<WasmFlavor, boolean>> = {};
/**
 * Whether arenas of this flavor can be shared with helper threads: shared
 * wasm memory (SharedArrayBuffer, cross-origin isolation in browsers), the
 * shared-memory build of the module, and worker_threads.
 */
export function sharedArenaAvailable(flavor: WasmFlavor): boolean {
  if (flavor in sharedOk) return sharedOk[flavor]!;
  let ok = false;
  try {
    if (WA && wasmFlavorAvailable(flavor) && threadsAvailable() && WA.validate(moduleBytes(`${flavor}-shared`))) {
      const m = new WA.Memory({ initial: 1, maximum: 1, shared: true });
      ok = typeof SharedArrayBuffer === 'function' && m.buffer instanceof SharedArrayBuffer;
    }
  } catch {
    ok = false;
  }
  return (sharedOk[flavor] = ok);
}

/** A helper's spins between jobs beside native products (which keep both cores busy themselves). */
const NATIVE_HELPER_SPINS = 2000;

/** Largest arena handed out: wasm32 addresses 4 GiB; stay a page short of it. */
const MAX_PAGES = 65535;

export class WasmKernels implements Kernels {
  readonly name: string;
  protected readonly memory: WasmMemory;
  protected readonly fn: GemmExports & FusedExports;
  private heap: Float32Array;
  /** Whether the memory has a fixed size (an arena: views into it stay valid). */
  private readonly fixed: boolean;
  /** First float after the arena's allocations: where a held operand, then the scratch, start. */
  protected floor: number;
  /** The operand hold() named for the native products, and the shape it is packed for in `packed` (N = 0: not yet). */
  private nativeHeld: { b: Float32Array; off: number; n: number; N: number; K: number } | null = null;
  private packed = new Float32Array(0);
  /** The operand made resident by hold(): its JS identity and where its copy sits (float index). */
  private held: Float32Array | null = null;
  private heldOff = 0;
  private heldLen = 0;
  /** First float of the per-call scratch: just after the held operand, if any. */
  protected scratch: number;

  /** The compiled module behind `fn` (helper threads instantiate it on the same memory). */
  protected readonly module: object;

  /**
   * `threads` > 1 (arenas only, where sharedArenaAvailable): the arena's
   * memory is shared and products above a work threshold are split between
   * this thread and threads - 1 helper threads (see threads.ts).
   */
  /** Products over many rows by the outer-product tiles (ArenaOptions.outerProducts). */
  protected readonly outerProducts: boolean;

  /**
   * `native`: the three products run natively (AVX-512/AVX2) on the operands
   * where they are, arena or not; everything else stays in wasm.
   */
  constructor(readonly flavor: WasmFlavor, arenaPages = 0, readonly threads = 1, outerProducts = false, readonly native: NativeProducts | null = null) {
    if (!wasmFlavorAvailable(flavor)) throw new Error(`this runtime cannot run the wasm-${flavor} kernels`);
    this.name = native ? 'native' : flavor === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd';
    this.fixed = arenaPages > 0;
    this.outerProducts = outerProducts;
    const shared = this.fixed && threads > 1;
    this.memory = new WA!.Memory(this.fixed ? { initial: arenaPages, maximum: arenaPages, ...(shared ? { shared: true } : {}) } : { initial: 16 });
    this.module = compiledModule(shared ? `${flavor}-shared` : flavor);
    const instance = new WA!.Instance(this.module, { env: { memory: this.memory } });
    this.fn = instance.exports as unknown as GemmExports & FusedExports;
    if (native && shared) setHelperSpins(this.memory, NATIVE_HELPER_SPINS);
    this.heap = new Float32Array(this.memory.buffer);
    if (this.fn.heap_base() > BASE) throw new Error('the wasm kernels\' static data overlaps their buffers');
    this.floor = BASE >> 2;
    this.scratch = this.floor;
  }

  /**
   * A fixed-size memory of its own holding `floats` floats of buffers (carved
   * out with f32/i32, zero-copy for every kernel) plus `scratchFloats` for
   * operands that live elsewhere (the parameters). Null where the sizes do
   * not fit a wasm32 memory. Products whose copies do not fit the scratch
   * fall back to the shared, growing instance.
   */
  arena(floats: number, scratchFloats: number, options: ArenaOptions = {}): WasmArena | null {
    const bytes = BASE + (floats + scratchFloats) * 4 + PAGE;
    const pages = Math.ceil(bytes / PAGE);
    if (pages > MAX_PAGES) return null;
    try {
      const threads = this.threads > 1 && sharedArenaAvailable(this.flavor) ? this.threads : 1;
      return new WasmArena(this.flavor, pages, threads, options.outerProducts === true, this.native);
    } catch {
      return null; // out of memory: the network keeps plain arrays
    }
  }

  /** Whether `x` is a view into this module's memory (then kernels use it in place). */
  resident(x: Floats | Int32Array): boolean {
    return x.buffer === this.memory.buffer;
  }

  /** Byte address of x[off] for a resident x. */
  protected addr(x: Floats | Int32Array, off: number): number {
    return x.byteOffset + off * 4;
  }

  /** Bump-allocates `n` elements (16-byte aligned) below the scratch; arenas only. */
  protected carve(n: number): number {
    if (!this.fixed) throw new Error('only an arena allocates resident buffers');
    const at = this.floor;
    const end = at + ((n + 3) & ~3);
    if ((end + 4) * 4 > this.memory.buffer.byteLength) throw new Error('wasm arena exhausted');
    this.floor = this.scratch = end;
    return at;
  }

  /**
   * Makes `b[bOff .. bOff+n)` resident in wasm memory until release(): while
   * it is held, gemmABt calls whose `b` is that same operand skip copying it.
   * The caller promises not to change those elements in between (the network
   * holds W_hh across the time steps of one forward). float64 operands and
   * operands already resident are ignored.
   */
  hold(b: Floats, bOff: number, n: number): void {
    this.release();
    if (this.native) {
      // Packed once, at the first product that uses it (which says its shape).
      if (b instanceof Float32Array) this.nativeHeld = { b, off: bOff, n, N: 0, K: 0 };
      return;
    }
    if (!(b instanceof Float32Array) || this.resident(b)) return;
    const base = this.floor;
    const heap = this.reserve(base, n);
    if (!heap) return;
    heap.set(b.subarray(bOff, bOff + n), base);
    this.held = b;
    this.heldOff = bOff;
    this.heldLen = n;
    this.scratch = base + n;
  }

  /** Byte address of the copy hold() made of b[bOff ..], or -1 when that operand is not held. */
  protected heldAddr(b: Floats, bOff: number, n: number): number {
    return this.held !== null && b === this.held && bOff === this.heldOff && n <= this.heldLen ? this.floor * 4 : -1;
  }

  /** Runs a loop over batch rows (see splitRows) on this thread, or split by rows on a threaded arena. */
  rows(op: string, B: number, macs: number, T: number, args: (b0: number, b1: number, part: number) => number[]): void {
    if (this.threads > 1) splitRows(this.fn, this.module, this.memory, this.threads, op, B, macs, T, args);
    else ((this.fn as unknown as Record<string, (...a: number[]) => void>)[op]!)(...args(0, B, 0));
  }

  release(): void {
    this.nativeHeld = null;
    this.held = null;
    this.heldLen = 0;
    this.scratch = this.floor;
  }

  /**
   * Makes the memory hold floats [from, from + floats); returns the heap view
   * (renewed when memory grew), or null when a fixed arena is too small.
   */
  protected reserve(from: number, floats: number): Float32Array | null {
    const bytes = from * 4 + floats * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      if (this.fixed) return null;
      // Grow geometrically so a run settles after its first step.
      const want = Math.max(bytes, Math.floor(have * 1.5));
      this.memory.grow(Math.ceil((want - have) / PAGE));
    }
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Float32Array(this.memory.buffer);
    return this.heap;
  }

  /** The shared growing instance, for products an arena's scratch cannot hold. */
  private get spill(): Kernels {
    return wasmKernels(this.flavor) ?? tsKernels;
  }

  gemmABt(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmABt(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    if (this.native) {
      const h = this.nativeHeld;
      if (h && h.b === b && h.off === bOff && N * K <= h.n) return this.abtPacked(h, out, outOff, a, aOff, M, N, K, accumulate);
      return this.native.product(PRODUCT.ABt, out, outOff, a, aOff, b, bOff, M, N, K, K, K, N, accumulate ? 1 : 0, this.threads);
    }
    if (this.outerProductPays(M, N) && this.abtByOuterProduct(out, outOff, a, aOff, b, bOff, M, N, K, accumulate)) return;
    const ra = this.resident(a), rb = this.resident(b), ro = this.resident(out);
    const held = !rb && b === this.held && bOff === this.heldOff && N * K <= this.heldLen;
    let p = this.scratch;
    const pa = ra ? -1 : p; if (!ra) p += M * K;
    const pb = rb || held ? -1 : p; if (!(rb || held)) p += N * K;
    const po = ro ? -1 : p; if (!ro) p += M * N;
    const heap = this.reserve(this.scratch, p - this.scratch);
    if (!heap) return this.spill.gemmABt(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
    if (!ra) heap.set(a.subarray(aOff, aOff + M * K), pa);
    if (!(rb || held)) heap.set(b.subarray(bOff, bOff + N * K), pb);
    const A = ra ? this.addr(a, aOff) : pa * 4;
    const Bp = rb ? this.addr(b, bOff) : held ? this.floor * 4 : pb * 4;
    this.run(out, outOff, ro, heap, po, A, Bp, M, N, K, accumulate);
  }

  gemmAB(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmAB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    if (this.native) return this.native.product(PRODUCT.AB, out, outOff, a, aOff, b, bOff, M, N, K, K, N, N, accumulate ? 1 : 0, this.threads);
    if (this.outerProductPays(M, N) && this.ab(out, outOff, a, aOff, b, bOff, M, N, K, accumulate)) return;
    // b[K,N] (resident, or copied to pRaw) is transposed to bᵀ[N,K] at pb.
    const ra = this.resident(a), rb = this.resident(b), ro = this.resident(out);
    let p = this.scratch;
    const pa = ra ? -1 : p; if (!ra) p += M * K;
    const pb = p; p += N * K;
    const po = ro ? -1 : p; if (!ro) p += M * N;
    const pRaw = rb ? -1 : p; if (!rb) p += K * N;
    const heap = this.reserve(this.scratch, p - this.scratch);
    if (!heap) return this.spill.gemmAB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
    if (!ra) heap.set(a.subarray(aOff, aOff + M * K), pa);
    if (!rb) heap.set(b.subarray(bOff, bOff + K * N), pRaw);
    this.tr(pb * 4, rb ? this.addr(b, bOff) : pRaw * 4, K, N);
    this.run(out, outOff, ro, heap, po, ra ? this.addr(a, aOff) : pa * 4, pb * 4, M, N, K, accumulate);
  }

  gemmAtB(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmAtB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    if (this.native) return this.native.product(PRODUCT.AtB, out, outOff, a, aOff, b, bOff, M, N, K, M, N, N, accumulate ? 1 : 0, this.threads);
    // a[K,M] and b[K,N] are used as they are (copied in when not resident),
    // by the outer-product kernel gemm_atb_ld: no transposes.
    const ra = this.resident(a), rb = this.resident(b), ro = this.resident(out);
    let p = this.scratch;
    const ws = p; p += (ATB_WS_BYTES >> 2) * Math.max(1, this.threads);
    const pa = ra ? -1 : p; if (!ra) p += K * M;
    const pb = rb ? -1 : p; if (!rb) p += K * N;
    const po = ro ? -1 : p; if (!ro) p += M * N;
    const heap = this.reserve(this.scratch, p - this.scratch);
    if (!heap) return this.spill.gemmAtB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
    if (!ra) heap.set(a.subarray(aOff, aOff + K * M), pa);
    if (!rb) heap.set(b.subarray(bOff, bOff + K * N), pb);
    const A = ra ? this.addr(a, aOff) : pa * 4;
    const Bp = rb ? this.addr(b, bOff) : pb * 4;
    const acc = accumulate ? 1 : 0;
    const O = ro ? this.addr(out, outOff) : po * 4;
    if (!ro && accumulate) heap.set(out.subarray(outOff, outOff + M * N), po);
    if (this.threads > 1) splitGemmAtB(this.fn, this.module, this.memory, this.threads, O, A, Bp, M, N, K, acc, ws * 4);
    else this.fn.gemm_atb_ld(O, A, Bp, M, N, K, M, N, N, acc, ws * 4);
    if (!ro) out.set(heap.subarray(po, po + M * N), outOff);
  }

  /** a·bᵀ with the held b, packed on its first use at this shape (the recurrent weight over a window's steps). */
  private abtPacked(h: NonNullable<WasmKernels['nativeHeld']>, out: Float32Array, outOff: number, a: Float32Array, aOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    const native = this.native!;
    if (h.N !== N || h.K !== K) {
      const size = native.packedSize(N, K);
      if (this.packed.length < size) this.packed = new Float32Array(size);
      native.pack(PRODUCT.ABt, h.b, h.off, N, K, K, this.packed);
      h.N = N;
      h.K = K;
    }
    native.productPacked(PRODUCT.ABt, out, outOff, a, aOff, this.packed, M, N, K, K, N, accumulate ? 1 : 0, this.threads);
  }

  /**
   * Whether a product goes through the outer-product kernel (gemm_ab_ld), in
   * arenas that asked for it: it beats the 4×2 dot-product tiles where the
   * output's columns come in whole 8-wide tiles and there are rows enough
   * that transposing a·bᵀ's b (N·K moves) costs little against the M·N·K
   * multiply-adds.
   */
  private outerProductPays(M: number, N: number): boolean {
    return this.outerProducts && M >= 256 && N % 8 === 0;
  }

  /**
   * a·bᵀ as a·(bᵀ): b[N,K] (resident, held or copied) transposed once into
   * the scratch, then the outer-product kernel. False when the scratch is too small.
   */
  private abtByOuterProduct(out: Float32Array, outOff: number, a: Float32Array, aOff: number, b: Float32Array, bOff: number, M: number, N: number, K: number, accumulate: boolean): boolean {
    const rb = this.resident(b);
    const held = !rb && b === this.held && bOff === this.heldOff && N * K <= this.heldLen;
    const bt = this.scratch;
    const heap = this.reserve(bt, N * K + (rb || held ? 0 : N * K));
    if (!heap) return false;
    let B = rb ? this.addr(b, bOff) : held ? this.floor * 4 : (bt + N * K) * 4;
    if (!(rb || held)) heap.set(b.subarray(bOff, bOff + N * K), bt + N * K);
    this.tr(bt * 4, B, N, K);
    B = bt * 4;
    // The transposed copy stays put below the product's own scratch.
    this.scratch = bt + N * K;
    try {
      return this.ab(out, outOff, a, aOff, null, B, M, N, K, accumulate);
    } finally {
      this.scratch = bt;
    }
  }

  /**
   * out (+)= a[M,K]·b[K,N] by gemm_ab_ld on the untransposed operands; b is
   * `b` (copied in unless resident) or, when null, already at byte address
   * bAt. False when the scratch is too small.
   */
  private ab(out: Float32Array, outOff: number, a: Float32Array, aOff: number, b: Float32Array | null, bAt: number, M: number, N: number, K: number, accumulate: boolean): boolean {
    const ra = this.resident(a), rb = b === null || this.resident(b), ro = this.resident(out);
    let p = this.scratch;
    const ws = p; p += (ATB_WS_BYTES >> 2) * Math.max(1, this.threads);
    const pa = ra ? -1 : p; if (!ra) p += M * K;
    const pb = rb ? -1 : p; if (!rb) p += K * N;
    const po = ro ? -1 : p; if (!ro) p += M * N;
    const heap = this.reserve(this.scratch, p - this.scratch);
    if (!heap) return false;
    if (!ra) heap.set(a.subarray(aOff, aOff + M * K), pa);
    if (!rb) heap.set(b!.subarray(bAt, bAt + K * N), pb);
    const A = ra ? this.addr(a, aOff) : pa * 4;
    const Bp = b === null ? bAt : rb ? this.addr(b, bAt) : pb * 4;
    const acc = accumulate ? 1 : 0;
    const O = ro ? this.addr(out, outOff) : po * 4;
    if (!ro && accumulate) heap.set(out.subarray(outOff, outOff + M * N), po);
    if (this.threads > 1) splitGemmAB(this.fn, this.module, this.memory, this.threads, O, A, Bp, M, N, K, acc, ws * 4);
    else this.fn.gemm_ab_ld(O, A, Bp, M, N, K, K, N, N, acc, ws * 4);
    if (!ro) out.set(heap.subarray(po, po + M * N), outOff);
    return true;
  }

  // Row-wise work on buffers outside an arena: copying them in would cost more than the work itself.
  addRows(a: Floats, bias: Floats, rows: number, cols: number): void {
    elementwise.addRows(a, bias, rows, cols);
  }

  gatherRows(out: Floats, table: Floats, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    elementwise.gatherRows(out, table, idx, bias, rows, cols);
  }

  gatherCols(out: Floats, w: Floats, wOff: number, V: number, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    elementwise.gatherCols(out, w, wOff, V, idx, bias, rows, cols);
  }

  scatterAddCols(w: Floats, wOff: number, V: number, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    elementwise.scatterAddCols(w, wOff, V, idx, a, rows, cols);
  }

  addColSums(out: Floats, off: number, a: Floats, rows: number, cols: number, off2: number): void {
    elementwise.addColSums(out, off, a, rows, cols, off2);
  }

  scatterAddRows(table: Floats, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    elementwise.scatterAddRows(table, idx, a, rows, cols);
  }

  colSums(out: Floats, a: Floats, rows: number, cols: number): void {
    elementwise.colSums(out, a, rows, cols);
  }

  softmaxXent(probs: Floats, bias: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number {
    return elementwise.softmaxXent(probs, bias, targets, rows, V, scored);
  }

  xentGrad(probs: Floats, targets: Int32Array, rows: number, V: number, scale: number): void {
    elementwise.xentGrad(probs, targets, rows, V, scale);
  }

  /** Runs in wasm when the destination is resident; otherwise copying would cost more than the move itself. */
  transpose(out: Floats, outOff: number, a: Floats, aOff: number, rows: number, cols: number): void {
    if (out instanceof Float32Array && a instanceof Float32Array && this.resident(out)) {
      const n = rows * cols;
      if (this.resident(a)) {
        this.tr(this.addr(out, outOff), this.addr(a, aOff), rows, cols);
        return;
      }
      const heap = this.reserve(this.scratch, n);
      if (heap) {
        heap.set(a.subarray(aOff, aOff + n), this.scratch);
        this.tr(this.addr(out, outOff), this.scratch * 4, rows, cols);
        return;
      }
    }
    tsKernels.transpose(out, outOff, a, aOff, rows, cols);
  }

  /** transpose at byte addresses, split between threads when this is a threaded arena. */
  protected tr(out: number, a: number, rows: number, cols: number): void {
    if (this.threads > 1) splitTranspose(this.fn, this.module, this.memory, this.threads, out, a, rows, cols);
    else this.fn.transpose(out, a, rows, cols);
  }

  /** gemm_abt at byte addresses, split between threads when this is a threaded arena. */
  private product(out: number, A: number, Bp: number, M: number, N: number, K: number, accumulate: number): void {
    if (this.threads > 1) splitGemm(this.fn, this.module, this.memory, this.threads, out, A, Bp, M, N, K, accumulate);
    else this.fn.gemm_abt(out, A, Bp, M, N, K, accumulate);
  }

  /** out (+)= A·Bᵀ with A, B at byte addresses; po is the scratch float index of a non-resident out. */
  private run(out: Float32Array, outOff: number, ro: boolean, heap: Float32Array, po: number, A: number, Bp: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (ro) {
      this.product(this.addr(out, outOff), A, Bp, M, N, K, accumulate ? 1 : 0);
      return;
    }
    const n = M * N;
    if (accumulate) heap.set(out.subarray(outOff, outOff + n), po);
    this.product(po * 4, A, Bp, M, N, K, accumulate ? 1 : 0);
    out.set(heap.subarray(po, po + n), outOff);
  }
}

/**
 * A network's buffers inside a wasm memory of fixed size, with the fused
 * row-wise kernels that work on them in place. Views handed out by
 * f32/i32 stay valid for the arena's life (the memory never grows).
 */
export class WasmArena extends WasmKernels implements ArenaKernels {
  f32(n: number): Float32Array {
    const at = this.carve(n);
    return new Float32Array(this.memoryBuffer, at * 4, n);
  }

  i32(n: number): Int32Array {
    const at = this.carve(n);
    return new Int32Array(this.memoryBuffer, at * 4, n);
  }

  private get memoryBuffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** The arena is its own WasmHost: model families bind their exports to its buffers. */
  get wasm(): WasmHost {
    return this;
  }

  get exports(): Readonly<Record<string, unknown>> {
    return this.fn as unknown as Record<string, unknown>;
  }

  ptr(x: Floats | Int32Array, off = 0): number {
    if (!this.resident(x)) throw new Error('fused kernels need arena buffers');
    return this.addr(x, off);
  }

  operand(w: Float32Array, off: number, n: number): number {
    if (this.resident(w)) return this.addr(w, off);
    this.hold(w, off, n);
    return this.heldAddr(w, off, n);
  }

  // The fused kernels need their buffers in this arena; anything else runs in TypeScript.

  override addRows(a: Floats, bias: Floats, rows: number, cols: number): void {
    if (!(this.resident(a) && this.resident(bias))) return super.addRows(a, bias, rows, cols);
    this.fn.add_rows(this.ptr(a), this.ptr(bias), rows, cols);
  }

  override gatherRows(out: Floats, table: Floats, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    if (!(this.resident(out) && this.resident(table) && this.resident(idx) && this.resident(bias))) return super.gatherRows(out, table, idx, bias, rows, cols);
    this.fn.gather_rows(this.ptr(out), this.ptr(table), this.ptr(idx), this.ptr(bias), rows, cols);
  }

  /** The weight [cols, V] is transposed into a [V, cols] table in the scratch, then gathered by rows. */
  override gatherCols(out: Floats, w: Floats, wOff: number, V: number, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    const n = cols * V;
    const heap = w instanceof Float32Array && (this.resident(out) && this.resident(idx) && this.resident(bias)) ? this.reserve(this.scratch, 2 * n) : null;
    if (!heap) return super.gatherCols(out, w, wOff, V, idx, bias, rows, cols);
    const table = this.scratch + n;
    if (this.resident(w)) this.tr(table * 4, this.addr(w, wOff), cols, V);
    else {
      heap.set((w as Float32Array).subarray(wOff, wOff + n), this.scratch);
      this.tr(table * 4, this.scratch * 4, cols, V);
    }
    this.fn.gather_rows(this.ptr(out), table * 4, this.ptr(idx), this.ptr(bias), rows, cols);
  }

  /** Scattered into a zeroed [V, cols] table in the scratch (rows in order), then added into w transposed. */
  override scatterAddCols(w: Floats, wOff: number, V: number, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    const n = V * cols;
    const heap = (this.resident(idx) && this.resident(a)) ? this.reserve(this.scratch, n) : null;
    if (!heap) return super.scatterAddCols(w, wOff, V, idx, a, rows, cols);
    const t = this.scratch;
    heap.fill(0, t, t + n);
    this.fn.scatter_add_rows(t * 4, this.ptr(idx), this.ptr(a), rows, cols);
    for (let v = 0; v < V; v++) {
      const o = t + v * cols;
      for (let g = 0; g < cols; g++) w[wOff + g * V + v] += heap[o + g]!;
    }
  }

  /** The column sums are formed once in the scratch (split between threads), then added at off (and off2). */
  override addColSums(out: Floats, off: number, a: Floats, rows: number, cols: number, off2: number): void {
    const heap = (this.resident(a)) ? this.reserve(this.scratch, cols) : null;
    if (!heap) return super.addColSums(out, off, a, rows, cols, off2);
    const s = this.scratch;
    this.sums(s * 4, a, rows, cols);
    for (let j = 0; j < cols; j++) out[off + j] += heap[s + j]!;
    if (off2 >= 0) for (let j = 0; j < cols; j++) out[off2 + j] += heap[s + j]!;
  }

  override scatterAddRows(table: Floats, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    if (!(this.resident(table) && this.resident(idx) && this.resident(a))) return super.scatterAddRows(table, idx, a, rows, cols);
    this.fn.scatter_add_rows(this.ptr(table), this.ptr(idx), this.ptr(a), rows, cols);
  }

  override colSums(out: Floats, a: Floats, rows: number, cols: number): void {
    if (!(this.resident(out) && this.resident(a))) return super.colSums(out, a, rows, cols);
    this.sums(this.ptr(out), a, rows, cols);
  }

  private sums(out: number, a: Floats, rows: number, cols: number): void {
    if (this.threads > 1) splitColSums(this.fn, this.module, this.memory, this.threads, out, this.ptr(a), rows, cols);
    else this.fn.col_sums(out, this.ptr(a), rows, cols);
  }

  override softmaxXent(probs: Floats, bias: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number {
    if (!(this.resident(probs) && this.resident(bias) && this.resident(targets) && this.resident(scored))) return super.softmaxXent(probs, bias, targets, rows, V, scored);
    return this.fn.softmax_xent(this.ptr(probs), this.ptr(bias), this.ptr(targets), rows, V, this.ptr(scored));
  }

  override xentGrad(probs: Floats, targets: Int32Array, rows: number, V: number, scale: number): void {
    if (!(this.resident(probs) && this.resident(targets))) return super.xentGrad(probs, targets, rows, V, scale);
    this.fn.xent_grad(this.ptr(probs), this.ptr(targets), rows, V, scale);
  }
}

/**
 * `kernels` with products split over `threads` threads where it can be done
 * (wasm kernels whose arenas can be shared with helper threads); otherwise
 * `kernels` itself, so callers need not check. Only the products of graphs
 * in an arena (training windows, not one-character inference) are split.
 */
export function withThreads(kernels: Kernels, threads: number): Kernels {
  const n = Math.max(1, Math.floor(threads));
  if (!(kernels instanceof WasmKernels) || n === kernels.threads) return kernels;
  const base = (kernels.native ? nativeKernels() : wasmKernels(kernels.flavor)) ?? kernels;
  // Native products thread on their own; wasm ones need arenas shared with helper threads.
  if (n > 1 && !kernels.native && !sharedArenaAvailable(kernels.flavor)) return kernels.threads === 1 ? kernels : base;
  return n === 1 ? base : new WasmKernels(kernels.flavor, 0, n, false, kernels.native);
}

/** How many threads a kernels object splits its arenas' products over (1 for every non-threaded backend). */
export function kernelThreads(kernels: Kernels): number {
  if (!(kernels instanceof WasmKernels) || kernels.threads <= 1) return 1;
  return kernels.native || sharedArenaAvailable(kernels.flavor) ? kernels.threads : 1;
}

const instances: Partial<Record<WasmFlavor, WasmKernels | null>> = {};
/** The kernels of one wasm flavor, or null where the runtime cannot run them. One instance per thread and flavor. */
export function wasmKernels(flavor: WasmFlavor): WasmKernels | null {
  if (!(flavor in instances)) instances[flavor] = wasmFlavorAvailable(flavor) ? new WasmKernels(flavor) : null;
  return instances[flavor]!;
}

let nativeInstance: WasmKernels | null | undefined;
/** The wasm kernels with native products (the fastest wasm flavor for the rest), or null where either is missing. */
export function nativeKernels(): WasmKernels | null {
  if (nativeInstance !== undefined) return nativeInstance;
  const native = nativeProducts();
  const flavor: WasmFlavor | null = wasmFlavorAvailable('relaxed') ? 'relaxed' : wasmFlavorAvailable('simd') ? 'simd' : null;
  return (nativeInstance = native && flavor ? new WasmKernels(flavor, 0, 1, false, native) : null);
}

/** What a run's products run on, for people: "native (avx512), 2 threads", "wasm-relaxed-simd, 1 thread", "typescript". */
export function describeKernels(kernels: Kernels): string {
  const n = kernelThreads(kernels);
  const name = kernels.native ? `${kernels.name} (${kernels.native.isa()})` : kernels.name;
  if (kernels === tsKernels) return name;
  return `${name}, ${n} thread${n === 1 ? '' : 's'}`;
}

/** Backend names, fastest first. */
export const BACKENDS = ['native', 'wasm-relaxed-simd', 'wasm-simd', 'typescript'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The kernels of a backend, or null where this runtime cannot run it. */
export function kernelsByName(name: BackendName): Kernels | null {
  switch (name) {
    case 'native': return nativeKernels();
    case 'wasm-relaxed-simd': return wasmKernels('relaxed');
    case 'wasm-simd': return wasmKernels('simd');
    case 'typescript': return tsKernels;
  }
}

/** Every backend this runtime can run, fastest first (typescript always last). */
export function availableKernels(): Kernels[] {
  const out: Kernels[] = [];
  for (const name of BACKENDS) {
    const k = kernelsByName(name);
    if (k) out.push(k);
  }
  return out;
}

/**
 * The fastest backend available, chosen by feature detection: the native
 * products where this platform has a build, else relaxed SIMD (fused
 * multiply-add) where it validates, plain SIMD128 otherwise, the
 * TypeScript kernels as the last resort. float64 operands always run on the
 * TypeScript kernels whichever is chosen.
 */
export function bestKernels(): Kernels {
  return availableKernels()[0]!;
}
