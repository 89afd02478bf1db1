import { ACTIVATIONS } from './activation';
import { cellInfo, type CellShape } from '../stacked/info';

export const RNN_CELL: CellShape = {
  gates: 1,
  gateNames: [],
  gateLabels: [],
  cellState: false,
  aux: false,
  hhBiasInsideGates: 0,
  directRecurrent: false,
  separateRecurrentGrad: false,
};

/** The vanilla RNN of the design document: h_t = f(U x_t + W h_{t-1} + b), f ∈ {tanh, relu, sigmoid}. */
export const rnnInfo = cellInfo(
  {
    name: 'rnn',
    title: 'vanilla RNN',
    description: 'Vanilla RNN: h = f(U x + W h + b), f = tanh, relu or sigmoid (PyTorch nn.RNN)',
    settings: [{ name: 'activation', help: 'nonlinearity f of the vanilla RNN', choices: ACTIVATIONS, default: 'tanh' }],
    label: (c) => `RNN (${c.activation})`,
  },
  RNN_CELL,
);
