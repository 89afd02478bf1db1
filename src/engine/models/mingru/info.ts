import { blockInfo } from '../blocks/info';
import type { FamilyInfo } from '../family';

export const minGruInfo: FamilyInfo = blockInfo('mingru');
