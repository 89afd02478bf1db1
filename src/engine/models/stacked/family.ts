import type { Family, FamilyInfo } from '../family';
import type { Cell } from './layerState';
import { StackedCellsNetwork } from './network';

/** A cell family: its info (stacked/info.ts) and the stacked-cells network built on its kernels. */
export function cellFamily(info: FamilyInfo, cell: Cell): Family {
  return { ...info, createNetwork: (params, shape) => new StackedCellsNetwork(params, cell, shape) };
}
