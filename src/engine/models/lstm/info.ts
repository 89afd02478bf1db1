import { cellInfo, type CellShape } from '../stacked/info';

export const LSTM_CELL: CellShape = {
  gates: 4,
  gateNames: ['i', 'f', 'g', 'o'],
  gateLabels: ['i (input gate)', 'f (forget gate)', 'g (candidate)', 'o (output gate)'],
  cellState: true,
  // tanh(c_t), kept for backward.
  aux: true,
  hhBiasInsideGates: 0,
  directRecurrent: false,
  separateRecurrentGrad: false,
};

/** PyTorch's nn.LSTM, gates i, f, g, o. */
export const lstmInfo = cellInfo(
  { name: 'lstm', title: 'LSTM', description: 'Long short-term memory (PyTorch nn.LSTM)' },
  LSTM_CELL,
);
