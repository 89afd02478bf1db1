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
 * All three products reduce to one micro-kernel, out (+)= a·bᵀ with both
 * operands read along K (dot products of contiguous rows, no packing):
 * gemmAB and gemmAtB transpose their operands inside wasm memory first, as
 * the TypeScript reference does. Float64 operands (gradient checks) go to
 * the TypeScript kernels.
 */
import type { Floats } from '../floats';
import { tsKernels, type Kernels } from '../kernels';
import { relaxedWasmBase64, simdWasmBase64 } from './binaries.generated';

export type WasmFlavor = 'relaxed' | 'simd';

interface GemmExports {
  gemm_abt(out: number, a: number, b: number, M: number, N: number, K: number, accumulate: number): void;
  transpose(out: number, a: number, rows: number, cols: number): void;
}

/**
 * The slice of the WebAssembly JS API used here. The project compiles
 * against lib ES2022 without DOM, which declares none of it.
 */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE = 65536;
/** Arena start: the modules keep no static data, this only keeps address 0 unused. */
const BASE = 1024;

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

const bytesCache: Partial<Record<WasmFlavor, Uint8Array>> = {};
function moduleBytes(flavor: WasmFlavor): Uint8Array {
  return (bytesCache[flavor] ??= decode(flavor === 'relaxed' ? relaxedWasmBase64 : simdWasmBase64));
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

export class WasmKernels implements Kernels {
  readonly name: string;
  private readonly memory: WasmMemory;
  private readonly fn: GemmExports;
  private heap: Float32Array;
  /** The operand made resident by hold(): its JS identity and where its copy sits (float index). */
  private held: Float32Array | null = null;
  private heldOff = 0;
  private heldLen = 0;
  /** First float of the per-call scratch: just after the held operand, if any. */
  private scratch = BASE >> 2;

  constructor(readonly flavor: WasmFlavor) {
    if (!wasmFlavorAvailable(flavor)) throw new Error(`this runtime cannot run the wasm-${flavor} kernels`);
    this.name = flavor === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd';
    this.memory = new WA!.Memory({ initial: 16 });
    const instance = new WA!.Instance(new WA!.Module(moduleBytes(flavor)), { env: { memory: this.memory } });
    this.fn = instance.exports as unknown as GemmExports;
    this.heap = new Float32Array(this.memory.buffer);
  }

  /**
   * Makes `b[bOff .. bOff+n)` resident in wasm memory until release(): while
   * it is held, gemmABt calls whose `b` is that same operand skip copying it.
   * The caller promises not to change those elements in between (the graph
   * holds W_hh across the time steps of one forward, and Wᵀ_hh across one
   * backward, where they are constant). float64 operands are ignored.
   */
  hold(b: Floats, bOff: number, n: number): void {
    this.release();
    if (!(b instanceof Float32Array)) return;
    const base = BASE >> 2;
    const heap = this.reserve(n);
    heap.set(b.subarray(bOff, bOff + n), base);
    this.held = b;
    this.heldOff = bOff;
    this.heldLen = n;
    this.scratch = base + n;
  }

  release(): void {
    this.held = null;
    this.heldLen = 0;
    this.scratch = BASE >> 2;
  }

  /** Makes the arena hold `floats` floats after the scratch start; returns the heap view (renewed when memory grew). */
  private reserve(floats: number): Float32Array {
    const bytes = this.scratch * 4 + floats * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      // Grow geometrically so a run settles after its first step.
      const want = Math.max(bytes, Math.floor(have * 1.5));
      this.memory.grow(Math.ceil((want - have) / PAGE));
    }
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Float32Array(this.memory.buffer);
    return this.heap;
  }

  gemmABt(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmABt(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    const resident = b === this.held && bOff === this.heldOff && N * K <= this.heldLen;
    const pa = this.scratch;
    const pb = resident ? BASE >> 2 : pa + M * K;
    const po = resident ? pa + M * K : pb + N * K;
    const heap = this.reserve(po + M * N - pa);
    heap.set(a.subarray(aOff, aOff + M * K), pa);
    if (!resident) heap.set(b.subarray(bOff, bOff + N * K), pb);
    this.run(out, outOff, heap, pa, pb, po, M, N, K, accumulate);
  }

  gemmAB(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmAB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    // b[K,N] arrives at pRaw and is transposed to bᵀ[N,K] at pb.
    const pa = this.scratch;
    const pb = pa + M * K;
    const po = pb + N * K;
    const pRaw = po + M * N;
    const heap = this.reserve(pRaw + K * N - pa);
    heap.set(a.subarray(aOff, aOff + M * K), pa);
    heap.set(b.subarray(bOff, bOff + K * N), pRaw);
    this.fn.transpose(pb * 4, pRaw * 4, K, N);
    this.run(out, outOff, heap, pa, pb, po, M, N, K, accumulate);
  }

  gemmAtB(out: Floats, outOff: number, a: Floats, aOff: number, b: Floats, bOff: number, M: number, N: number, K: number, accumulate: boolean): void {
    if (!(out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      tsKernels.gemmAtB(out, outOff, a, aOff, b, bOff, M, N, K, accumulate);
      return;
    }
    if (M === 0 || N === 0) return;
    // a[K,M] and b[K,N] arrive at pRaw and are transposed to aᵀ[M,K], bᵀ[N,K].
    const pa = this.scratch;
    const pb = pa + M * K;
    const po = pb + N * K;
    const pRaw = po + M * N;
    const heap = this.reserve(pRaw + K * Math.max(M, N) - pa);
    heap.set(a.subarray(aOff, aOff + K * M), pRaw);
    this.fn.transpose(pa * 4, pRaw * 4, K, M);
    heap.set(b.subarray(bOff, bOff + K * N), pRaw);
    this.fn.transpose(pb * 4, pRaw * 4, K, N);
    this.run(out, outOff, heap, pa, pb, po, M, N, K, accumulate);
  }

  /** A transpose moves data without arithmetic: copying it in and out would cost more than doing it here. */
  transpose(out: Floats, outOff: number, a: Floats, aOff: number, rows: number, cols: number): void {
    tsKernels.transpose(out, outOff, a, aOff, rows, cols);
  }

  private run(out: Float32Array, outOff: number, heap: Float32Array, pa: number, pb: number, po: number, M: number, N: number, K: number, accumulate: boolean): void {
    const n = M * N;
    if (accumulate) heap.set(out.subarray(outOff, outOff + n), po);
    this.fn.gemm_abt(po * 4, pa * 4, pb * 4, M, N, K, accumulate ? 1 : 0);
    out.set(heap.subarray(po, po + n), outOff);
  }
}

const instances: Partial<Record<WasmFlavor, WasmKernels | null>> = {};
/** The kernels of one wasm flavor, or null where the runtime cannot run them. One instance per thread and flavor. */
export function wasmKernels(flavor: WasmFlavor): WasmKernels | null {
  if (!(flavor in instances)) instances[flavor] = wasmFlavorAvailable(flavor) ? new WasmKernels(flavor) : null;
  return instances[flavor]!;
}

/** Backend names, fastest first. */
export const BACKENDS = ['wasm-relaxed-simd', 'wasm-simd', 'typescript'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The kernels of a backend, or null where this runtime cannot run it. */
export function kernelsByName(name: BackendName): Kernels | null {
  switch (name) {
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
 * The fastest backend available, chosen by feature detection: relaxed SIMD
 * (fused multiply-add) where it validates, plain SIMD128 otherwise, the
 * TypeScript kernels as the last resort. float64 operands always run on the
 * TypeScript kernels whichever is chosen.
 */
export function bestKernels(): Kernels {
  return availableKernels()[0]!;
}
