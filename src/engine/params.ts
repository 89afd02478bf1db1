import type { ModelConfig } from './config';
import { allocFloats, type DType, type Floats } from './floats';
import type { TensorSpec } from './models/family';
import type { Rng } from './rng';

/** One named tensor inside the flat parameter buffer, named as in PyTorch's state_dict. */
export interface ParamTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/**
 * All weights in one flat buffer, and their gradients in another of the same
 * layout: the optimizer, clipping and checkpointing each become one loop.
 * The tensors are the family's (Family.tensors), in its order.
 */
export class Params {
  readonly tensors: readonly ParamTensor[];
  readonly data: Floats;
  private gradient: Floats | null = null;
  private readonly byName: ReadonlyMap<string, ParamTensor>;

  /**
   * `storage`, when given, becomes `data` as is (a decoded checkpoint's
   * weights, so a large model is not held twice); it must have the layout's length.
   */
  constructor(readonly config: ModelConfig, readonly specs: readonly TensorSpec[], readonly dtype: DType = 'f32', storage?: Floats) {
    const tensors: ParamTensor[] = [];
    let offset = 0;
    for (const { name, shape } of specs) {
      const size = shape.reduce((a, b) => a * b, 1);
      tensors.push({ name, shape, offset, size });
      offset += size;
    }
    this.tensors = tensors;
    this.byName = new Map(tensors.map((t) => [t.name, t]));
    if (storage && (storage.length !== offset || (dtype === 'f32') !== storage instanceof Float32Array)) {
      throw new Error(`parameter storage of ${storage.length} values given for a layout of ${offset}`);
    }
    this.data = storage ?? allocFloats(dtype, offset);
  }

  /** Gradients in the layout of `data`, allocated on first use: inference never needs them. */
  get grad(): Floats {
    return (this.gradient ??= allocFloats(this.dtype, this.data.length));
  }

  get count(): number {
    return this.data.length;
  }

  /** Each tensor's initialisation, tensor by tensor in order, from the one generator. */
  initialize(rng: Rng): void {
    const data = this.data;
    this.specs.forEach((spec, k) => {
      const { offset, size } = this.tensors[k]!;
      const init = spec.init;
      for (let i = offset; i < offset + size; i++) {
        data[i] = init.kind === 'uniform' ? (rng.uniform() * 2 - 1) * init.bound : init.kind === 'normal' ? rng.normal() * init.std : init.value;
      }
    });
  }

  tensor(name: string): ParamTensor {
    const t = this.byName.get(name);
    if (!t) throw new Error(`no parameter named ${name}`);
    return t;
  }

  /** Offset of a tensor in data/grad. */
  offset(name: string): number {
    return this.tensor(name).offset;
  }

  view(name: string): Floats {
    const t = this.tensor(name);
    return this.data.subarray(t.offset, t.offset + t.size);
  }

  gradView(name: string): Floats {
    const t = this.tensor(name);
    return this.grad.subarray(t.offset, t.offset + t.size);
  }
}
