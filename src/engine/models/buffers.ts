import { allocFloats, type DType, type Floats } from '../floats';
import type { ArenaKernels, Kernels } from '../kernels';

/** Where a network's buffers come from: plain arrays, or an arena's memory. */
export interface Allocator {
  readonly floats: (n: number) => Floats;
  readonly ints: (n: number) => Int32Array;
  /** Whether the buffers go to a wasm arena (sized once) rather than plain arrays (which may also be made later). */
  readonly inArena: boolean;
}

/**
 * Allocates every buffer of a network once, through `layout`: in a wasm
 * arena of the kernels (where they offer one, for float32, and `work` is at
 * least `minWork`: a memory of its own costs a wasm instance, which only pays
 * off for windows with some work in them), else as plain arrays. The layout
 * runs twice for an arena, first to count. `scratch` floats are kept for
 * operands that live elsewhere (the parameters) while kernels copy them in.
 */
export function allocateNetwork<T>(
  kernels: Kernels, dtype: DType, work: number, minWork: number, scratch: number,
  layout: (a: Allocator) => T,
): { kernels: Kernels; arena: ArenaKernels | null; buffers: T } {
  let arena: ArenaKernels | null = null;
  if (dtype === 'f32' && kernels.arena && work >= minWork) {
    let floats = 0;
    const none = new Float32Array(0);
    layout({
      floats: (n) => { floats += (n + 3) & ~3; return none; },
      ints: (n) => { floats += (n + 3) & ~3; return new Int32Array(0); },
      inArena: true,
    });
    arena = kernels.arena(floats + 64, scratch);
  }
  if (arena) {
    const a = arena;
    return { kernels: a, arena: a, buffers: layout({ floats: (n) => a.f32(n), ints: (n) => a.i32(n), inArena: true }) };
  }
  return { kernels, arena: null, buffers: layout({ floats: (n) => allocFloats(dtype, n), ints: (n) => new Int32Array(n), inArena: false }) };
}
