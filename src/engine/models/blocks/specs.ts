import type { DType, Floats } from '../../floats';
import type { TensorInit, TensorSpec } from '../family';
import { gptShape, mixerGates, type BlockConfig } from './config';

/**
 * Tensors written to a checkpoint besides the parameters: the tied decoder
 * under nanoGPT's second name (equal to `transformer.wte.weight`; a loader
 * reads wte and ignores it).
 */
export const TIED_ALIASES: Readonly<Record<string, string>> = { 'lm_head.weight': 'transformer.wte.weight' };

const STD = 0.02;

/**
 * Every parameter of a block model in state-dict order (DESIGN §2b). The
 * causal-mask buffer is not a parameter and is never written; lm_head.weight
 * is the same tensor as transformer.wte.weight (TIED_ALIASES).
 */
export function tensorSpecs(c: BlockConfig): TensorSpec[] {
  const { hidden: C, layers: L, vocabSize: V } = c;
  const normal: TensorInit = { kind: 'normal', std: STD };
  const projStd: TensorInit = { kind: 'normal', std: STD / Math.sqrt(2 * L) };
  const zeros: TensorInit = { kind: 'constant', value: 0 };
  const ones: TensorInit = { kind: 'constant', value: 1 };
  const specs: TensorSpec[] = [{ name: 'transformer.wte.weight', shape: [V, C], init: normal }];
  if (c.cell === 'gpt') specs.push({ name: 'transformer.wpe.weight', shape: [gptShape(c).context, C], init: normal });
  for (let i = 0; i < L; i++) {
    const p = `transformer.h.${i}.`;
    specs.push({ name: `${p}ln_1.weight`, shape: [C], init: ones }, { name: `${p}ln_1.bias`, shape: [C], init: zeros });
    if (c.cell === 'gpt') {
      specs.push(
        { name: `${p}attn.c_attn.weight`, shape: [3 * C, C], init: normal },
        { name: `${p}attn.c_attn.bias`, shape: [3 * C], init: zeros },
        { name: `${p}attn.c_proj.weight`, shape: [C, C], init: projStd },
        { name: `${p}attn.c_proj.bias`, shape: [C], init: zeros },
      );
    } else {
      const G = mixerGates(c.cell);
      specs.push(
        { name: `${p}mix.to_gates.weight`, shape: [G * C, C], init: normal },
        { name: `${p}mix.to_gates.bias`, shape: [G * C], init: zeros },
      );
    }
    specs.push(
      { name: `${p}ln_2.weight`, shape: [C], init: ones },
      { name: `${p}ln_2.bias`, shape: [C], init: zeros },
      { name: `${p}mlp.c_fc.weight`, shape: [4 * C, C], init: normal },
      { name: `${p}mlp.c_fc.bias`, shape: [4 * C], init: zeros },
      { name: `${p}mlp.c_proj.weight`, shape: [C, 4 * C], init: projStd },
      { name: `${p}mlp.c_proj.bias`, shape: [C], init: zeros },
    );
  }
  specs.push({ name: 'transformer.ln_f.weight', shape: [C], init: ones }, { name: 'transformer.ln_f.bias', shape: [C], init: zeros });
  return specs.map((s) => ({ ...s, decay: decays(s) }));
}

/**
 * Whether AdamW's weight decay applies to a tensor, as nanoGPT's
 * configure_optimizers decides: every tensor of two or more dimensions
 * (the weights and the embeddings), never biases or LayerNorm parameters.
 */
export function decays(spec: Pick<TensorSpec, 'shape'>): boolean {
  return spec.shape.length >= 2;
}

/**
 * What a block network needs of its parameters: the engine's Params (a
 * ModelConfig with heads and context) satisfies it as well as BlockParams.
 */
export interface BlockParamHolder {
  readonly config: BlockConfig;
  readonly dtype: DType;
  readonly data: Floats;
  readonly grad: Floats;
  offset(name: string): number;
}
