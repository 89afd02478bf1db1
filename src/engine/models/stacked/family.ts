import type { ModelConfig } from '../../config';
import type { Family, FamilyInfo } from '../family';
import type { StepThroughCell } from '../stepThrough';
import type { Cell } from './layerState';
import { StackedCellsNetwork } from './network';

/** A cell family: its info (stacked/info.ts), the stacked-cells network built on its kernels, and its step-through cell. */
export function cellFamily(info: FamilyInfo, cell: Cell, stepThrough?: (c: ModelConfig) => StepThroughCell): Family {
  return { ...info, createNetwork: (params, shape) => new StackedCellsNetwork(params, cell, shape), ...(stepThrough ? { stepThrough } : {}) };
}
