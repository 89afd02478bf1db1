import type { Floats } from '../../floats';
import type { Kernels, WasmHost } from '../../kernels';
import type { Rng } from '../../rng';
import type { BlockRowOps } from './rowOps';
import type { BlockParamHolder } from './specs';

/** A state tensor carried between windows; training checkpoints store it as `train.<name>`. */
export interface CarriedTensor {
  /** `h_b{block}` */
  readonly name: string;
  readonly shape: readonly number[];
  /** A view of the carried-in slot: what the next forward starts from. */
  readonly data: Floats;
}

/** What a block's mixer is built from. `alloc` hands out zeroed buffers once, at construction. */
export interface MixerContext {
  readonly params: BlockParamHolder;
  readonly kernels: Kernels;
  /**
   * The parameters and gradients a mixer reads and adds into, at
   * params.offset(name): params.data/grad themselves, or the network's
   * copies in its arena (resident, so wasm kernels use them in place).
   */
  readonly data: Floats;
  readonly grad: Floats;
  readonly ops: BlockRowOps;
  /** The arena's wasm module where the network has one (mixers bind their own exports to it), else null. */
  readonly host: WasmHost | null;
  readonly block: number;
  readonly B: number;
  readonly T: number;
  readonly dropout: number;
  readonly alloc: (n: number) => Floats;
}

/**
 * The token mixer of one block: u = LN_1(x) [T·B, C] in, mix(u) [T·B, C]
 * out, row r = t·B + b. Buffers are sized once for (B, T).
 */
export interface Mixer {
  /** out ← mix(u); `rng` given means training (dropout on where the family has it). */
  forward(u: Floats, out: Floats, rng: Rng | null): void;
  /**
   * du ← ∂/∂u given dOut = ∂/∂out of the last forward, and the parameter
   * gradients added into ctx.grad. dOut may be overwritten.
   */
  backward(dOut: Floats, u: Floats, du: Floats): void;
  /** Zeroes the carried-in state (a recurrent mixer; no-op for attention). */
  resetState(): void;
  /** Moves the state at the end of the window into the carried-in slot (detached: no gradient flows back into it). */
  carryState(): void;
  readonly carried: readonly CarriedTensor[];
  /**
   * [T·B, inputWidth] after backward: ∂E/∂ of the mixer's input projection
   * (to_gates or c_attn) output, whose row t times u_t is step t's term in
   * that weight's gradient (the Gradient Flow panel's contribution).
   */
  readonly inputGrad: Floats;
  readonly inputWidth: number;
  /** Per-character quantities this mixer offers (the Hidden States panel), each `width` wide. */
  readonly quantities: readonly { name: string; label: string; width: number }[];
  /** Copies quantity `name` of stream b after the last forward into out[t·width + j]. */
  readQuantity(name: string, b: number, out: Float32Array): void;
}

export type MixerFactory = (ctx: MixerContext) => Mixer;
