import { blockInfo } from '../blocks/info';
import type { FamilyInfo } from '../family';

export const minLstmInfo: FamilyInfo = blockInfo('minlstm');
