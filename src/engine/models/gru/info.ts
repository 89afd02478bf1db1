import { cellInfo, type CellShape } from '../stacked/info';

export const GRU_CELL: CellShape = {
  gates: 3,
  gateNames: ['r', 'z', 'n'],
  gateLabels: ['r (reset gate)', 'z (update gate)', 'n (candidate)'],
  cellState: false,
  // W_hn h_{t-1} + b_hn, kept for backward.
  aux: true,
  // b_hn sits inside the reset product.
  hhBiasInsideGates: 1,
  // z ⊙ h_{t-1}.
  directRecurrent: true,
  separateRecurrentGrad: true,
};

/** PyTorch's nn.GRU, gates r, z, n, the reset gate applied after the recurrent product. */
export const gruInfo = cellInfo(
  { name: 'gru', title: 'GRU', description: 'Gated recurrent unit (PyTorch nn.GRU)' },
  GRU_CELL,
);
