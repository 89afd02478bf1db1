import { cellFamily } from '../stacked/family';
import { lstmTs } from './cell';
import { lstmWasm } from './wasm';

/** PyTorch's nn.LSTM, gates i, f, g, o. */
export const lstmFamily = cellFamily(
  { name: 'lstm', title: 'LSTM', description: 'Long short-term memory (PyTorch nn.LSTM)' },
  {
    gates: 4,
    gateNames: ['i', 'f', 'g', 'o'],
    gateLabels: ['i (input gate)', 'f (forget gate)', 'g (candidate)', 'o (output gate)'],
    cellState: true,
    // tanh(c_t), kept for backward.
    aux: true,
    hhBiasInsideGates: 0,
    directRecurrent: false,
    separateRecurrentGrad: false,
    ts: lstmTs,
    wasm: lstmWasm,
  },
);
