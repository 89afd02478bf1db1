import { cellFamily } from '../stacked/family';
import { rnnStepThrough } from './stepThrough';
import { rnnTs } from './cell';
import { rnnWasm } from './wasm';
import { RNN_CELL, rnnInfo } from './info';

export const rnnFamily = cellFamily(rnnInfo, { ...RNN_CELL, ts: rnnTs, wasm: rnnWasm }, rnnStepThrough);
