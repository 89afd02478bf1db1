/** gpt: nanoGPT's GPT (bias=True, tied decoder), DESIGN §2b. */
import { blockFamily } from '../blocks/family';
import type { Family } from '../family';
import { gptInfo } from './info';

export const gptFamily: Family = blockFamily(gptInfo);
export { CausalSelfAttention, createAttentionMixer } from './attention';
export { GptKvCache } from './kvCache';
