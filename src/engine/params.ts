import { gateCount, type ModelConfig } from './config';
import { allocFloats, type DType, type Floats } from './floats';
import type { Rng } from './rng';

/** One named tensor inside the flat parameter buffer, named as in PyTorch's state_dict. */
export interface ParamTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Offsets of one layer's four tensors inside the flat buffer. */
export interface LayerParams {
  readonly inputSize: number;
  readonly wIh: number;
  readonly wHh: number;
  readonly bIh: number;
  readonly bHh: number;
}

/**
 * All weights in one flat buffer, and their gradients in another of the same
 * layout: the optimizer, clipping and checkpointing each become one loop.
 */
export class Params {
  readonly tensors: readonly ParamTensor[];
  readonly layers: readonly LayerParams[];
  readonly decoderWeight: number;
  readonly decoderBias: number;
  readonly data: Floats;
  private gradient: Floats | null = null;

  /**
   * `storage`, when given, becomes `data` as is (a decoded checkpoint's
   * weights, so a large model is not held twice); it must have the layout's length.
   */
  constructor(readonly config: ModelConfig, readonly dtype: DType = 'f32', storage?: Floats) {
    const { hidden: H, layers: L, vocabSize: V } = config;
    const GH = gateCount(config.cell) * H;
    const tensors: ParamTensor[] = [];
    let offset = 0;
    const add = (name: string, shape: number[]): number => {
      const size = shape.reduce((a, b) => a * b, 1);
      tensors.push({ name, shape, offset, size });
      offset += size;
      return offset - size;
    };
    const layers: LayerParams[] = [];
    for (let l = 0; l < L; l++) {
      const inputSize = l === 0 ? V : H;
      layers.push({
        inputSize,
        wIh: add(`rnn.weight_ih_l${l}`, [GH, inputSize]),
        wHh: add(`rnn.weight_hh_l${l}`, [GH, H]),
        bIh: add(`rnn.bias_ih_l${l}`, [GH]),
        bHh: add(`rnn.bias_hh_l${l}`, [GH]),
      });
    }
    this.decoderWeight = add('decoder.weight', [V, H]);
    this.decoderBias = add('decoder.bias', [V]);
    this.tensors = tensors;
    this.layers = layers;
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

  /**
   * PyTorch's default initialisation: every RNN/LSTM/GRU tensor and the
   * decoder (in = H) are uniform in ±1/√H.
   */
  initialize(rng: Rng): void {
    const bound = 1 / Math.sqrt(this.config.hidden);
    for (let i = 0; i < this.data.length; i++) this.data[i] = (rng.uniform() * 2 - 1) * bound;
  }

  tensor(name: string): ParamTensor {
    const t = this.tensors.find((p) => p.name === name);
    if (!t) throw new Error(`no parameter named ${name}`);
    return t;
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
