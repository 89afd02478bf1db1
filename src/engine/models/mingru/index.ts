/** mingru: nanoGPT's blocks with a minGRU mixer (Feng et al. 2024), DESIGN §2b. */
import { blockFamily } from '../blocks/family';
import type { Family } from '../family';
import { minGruInfo } from './info';

export const minGruFamily: Family = blockFamily(minGruInfo);
export { createMinGruMixer, minGruScan } from './scan';
