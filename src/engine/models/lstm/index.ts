import { cellFamily } from '../stacked/family';
import { lstmStepThrough } from './stepThrough';
import { lstmTs } from './cell';
import { lstmWasm } from './wasm';
import { LSTM_CELL, lstmInfo } from './info';

export const lstmFamily = cellFamily(lstmInfo, { ...LSTM_CELL, ts: lstmTs, wasm: lstmWasm }, lstmStepThrough);
