import type { CellType } from '../config';
import { gruCell } from './gru';
import type { CellOps } from './layerState';
import { lstmCell } from './lstm';
import { rnnCell } from './rnn';

export type { CellOps, LayerState } from './layerState';

export function cellOps(cell: CellType): CellOps {
  switch (cell) {
    case 'rnn':
      return rnnCell;
    case 'lstm':
      return lstmCell;
    case 'gru':
      return gruCell;
    default: {
      const never: never = cell;
      throw new Error(`unknown cell ${String(never)}`);
    }
  }
}
