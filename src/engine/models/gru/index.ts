import { cellFamily } from '../stacked/family';
import { gruStepThrough } from './stepThrough';
import { gruTs } from './cell';
import { gruWasm } from './wasm';
import { GRU_CELL, gruInfo } from './info';

export const gruFamily = cellFamily(gruInfo, { ...GRU_CELL, ts: gruTs, wasm: gruWasm }, gruStepThrough);
