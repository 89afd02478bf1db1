/** minlstm: nanoGPT's blocks with a minLSTM mixer (Feng et al. 2024), DESIGN §2b. */
import { blockFamily } from '../blocks/family';
import type { Family } from '../family';
import { minLstmInfo } from './info';

export const minLstmFamily: Family = blockFamily(minLstmInfo);
export { createMinLstmMixer, minLstmScan } from './scan';
