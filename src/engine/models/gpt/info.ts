import { blockInfo } from '../blocks/info';
import type { FamilyInfo } from '../family';

export const gptInfo: FamilyInfo = blockInfo('gpt');
