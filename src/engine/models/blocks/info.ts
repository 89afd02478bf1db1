/**
 * What each block family is (DESIGN §2b), pure shape arithmetic: name,
 * settings, tensors, carried state, panel quantities, sizes, training
 * defaults. blocks/family.ts adds the networks.
 */
import type { ModelConfig } from '../../config';
import type { FamilyInfo, FamilySetting } from '../family';
import { blockFlopsPerChar } from './flops';
import { checkBlockWindow, resolveContext, type BlockConfig, type BlockFamily } from './config';
import { attentionWeightBytes, blockActivationFloats, blockKernelScratchFloats } from './memory';
import { TIED_ALIASES, tensorSpecs } from './specs';
// The fields heads and context of every ModelConfig (a declaration only).
import type {} from './settings';

const GPT_SETTINGS: readonly FamilySetting[] = [
  { name: 'heads', help: 'attention heads of the gpt (must divide --hidden)', min: 1, max: 256, integer: true, default: 4 },
  { name: 'context', help: 'positions the gpt attends over (default --seq; at least --seq)', min: 1, max: 16384, integer: true, default: undefined },
];

/**
 * nanoGPT's recipe (its shakespeare_char config, scaled to the lab's runs):
 * AdamW, lr 1e-3, β2 0.99, weight decay 0.1 on 2-D tensors only (the
 * TensorSpec decay flag), clipping at 1, 100 warm-up steps then a cosine
 * decay to lr/10 over the run. The same for the three families: they are
 * one architecture with another mixer.
 */
export const BLOCK_TRAIN_DEFAULTS = {
  optimizer: 'adamw',
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.1,
  clip: 1,
  schedule: 'cosine',
  warmupSteps: 100,
  lrMinFraction: 0.1,
} as const;

const INFO: Record<BlockFamily, { title: string; description: string; gates: readonly { name: string; label: string }[] }> = {
  gpt: {
    title: 'GPT',
    description: "Transformer: nanoGPT's GPT (causal self-attention, GELU MLP, tied decoder)",
    gates: [],
  },
  mingru: {
    title: 'minGRU',
    description: 'minGRU blocks (Feng et al. 2024): a gated linear recurrence in GPT blocks',
    gates: [{ name: 'z', label: 'z (update gate)' }, { name: 'g', label: 'g(a_h) (candidate)' }],
  },
  minlstm: {
    title: 'minLSTM',
    description: 'minLSTM blocks (Feng et al. 2024): forget/input-gated linear recurrence in GPT blocks',
    gates: [{ name: 'f', label: 'f (forget gate)' }, { name: 'i', label: 'i (input gate)' }, { name: 'g', label: 'g(a_h) (candidate)' }],
  },
};

function mib(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export function blockInfo(name: BlockFamily): FamilyInfo {
  const info = INFO[name];
  const attends = name === 'gpt';
  return {
    name,
    kind: 'blocks',
    title: info.title,
    description: info.description,
    settings: attends ? GPT_SETTINGS : [],
    label: (c) => (attends ? `GPT (${c.heads ?? '?'} heads, context ${c.context ?? '?'})` : info.title),
    tensors: tensorSpecs,
    carries: (c, B) => (attends ? [] : Array.from({ length: c.layers }, (_, i) => ({ name: `h_b${i}`, shape: [B, c.hidden] }))),
    // The mixer's state first (what carryState hands on), then the residual stream and the gates.
    quantities: (c) => [
      ...(attends ? [] : [{ name: 'h', label: 'h (mixer state)', width: c.hidden }]),
      { name: 'x', label: 'x (residual stream after the block)', width: c.hidden },
      ...info.gates.map((g) => ({ ...g, width: c.hidden })),
    ],
    gradientTaps: (c) => Array.from({ length: c.layers }, (_, i) => `block ${i + 1}: residual stream x`),
    networkBytes: (c, t) => {
      const dropout = (t.dropout ?? 0) > 0;
      return (blockActivationFloats(c, t.batch, t.seq, dropout) + blockKernelScratchFloats(c, t.batch, t.seq)) * 4;
    },
    flopsPerChar: blockFlopsPerChar,
    forWindow: <C extends Parameters<typeof resolveContext>[0] & Pick<BlockConfig, 'hidden' | 'heads'>>(c: C, seq: number): C => {
      const resolved = resolveContext(c, seq);
      checkBlockWindow(resolved, seq);
      return resolved;
    },
    ...(attends ? { maxWindow: (c: ModelConfig) => c.context ?? 0, attentionHeads: (c: ModelConfig) => c.heads ?? 0 } : {}),
    trainDefaults: BLOCK_TRAIN_DEFAULTS,
    tiedAliases: TIED_ALIASES,
    memoryAdvice: (c, t, needed) => {
      const att = attentionWeightBytes(c, t.batch, t.seq, t.dropout > 0);
      return att > needed / 4
        ? `${mib(att)} of it attention weights (layers × batch × heads × seq², ${c.layers} × ${t.batch} × ${c.heads ?? 0} × ${t.seq}²): lower --seq, --batch or --heads`
        : 'use a smaller model, batch or sequence';
    },
  };
}
