import type { ModelConfig } from '../../config';
import type { FamilyInfo, FamilySetting, QuantitySpec, TensorSpec } from '../family';
import type { Cell } from './layerState';

/** What a cell family declares beyond its Cell: how it is named and what it offers. */
export interface CellFamilyInfo {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly settings?: readonly FamilySetting[];
  readonly label?: (c: ModelConfig) => string;
}

/**
 * A family of PyTorch-style stacked recurrent cells over one-hot input, with
 * a linear decoder: `rnn = nn.RNN/LSTM/GRU(V, H, layers)`, `decoder = nn.Linear(H, V)`
 * (DESIGN §6 names), PyTorch's default initialisation, carried h (and c).
 */
export function cellInfo(info: CellFamilyInfo, cell: CellShape): FamilyInfo {
  const G = cell.gates;
  return {
    name: info.name,
    kind: 'cells',
    title: info.title,
    description: info.description,
    settings: info.settings ?? [],
    label: info.label ?? (() => info.title),

    tensors(c: ModelConfig): TensorSpec[] {
      const { hidden: H, layers: L, vocabSize: V } = c;
      // PyTorch's default: every RNN/LSTM/GRU tensor and the decoder (in = H) uniform in ±1/√H.
      const init = { kind: 'uniform', bound: 1 / Math.sqrt(H) } as const;
      const out: TensorSpec[] = [];
      for (let l = 0; l < L; l++) {
        out.push(
          { name: `rnn.weight_ih_l${l}`, shape: [G * H, l === 0 ? V : H], init },
          { name: `rnn.weight_hh_l${l}`, shape: [G * H, H], init },
          { name: `rnn.bias_ih_l${l}`, shape: [G * H], init },
          { name: `rnn.bias_hh_l${l}`, shape: [G * H], init },
        );
      }
      out.push({ name: 'decoder.weight', shape: [V, H], init }, { name: 'decoder.bias', shape: [V], init });
      return out;
    },

    carries(c: ModelConfig, B: number) {
      const out: { name: string; shape: number[] }[] = [];
      for (let l = 0; l < c.layers; l++) {
        out.push({ name: `h_l${l}`, shape: [B, c.hidden] });
        if (cell.cellState) out.push({ name: `c_l${l}`, shape: [B, c.hidden] });
      }
      return out;
    },

    quantities(c: ModelConfig): QuantitySpec[] {
      const H = c.hidden;
      return [
        { name: 'h', label: 'h (hidden state)', width: H },
        ...(cell.cellState ? [{ name: 'c', label: 'c (cell state)', width: H }] : []),
        ...cell.gateNames.map((name, g) => ({ name, label: cell.gateLabels[g]!, width: H })),
      ];
    },

    gradientTaps(c: ModelConfig): string[] {
      return Array.from({ length: c.layers }, (_, l) => `layer ${l + 1}: h`);
    },

    networkBytes(c, t): number {
      const H = c.hidden;
      const GH = G * H;
      const V = c.vocabSize;
      const TB = t.batch * t.seq;
      const perLayer = TB * GH * (cell.separateRecurrentGrad ? 3 : 2) + TB * H * 5 + t.batch * GH;
      const activations = c.layers * perLayer + TB * V;
      // The kernels' transposes of the largest operands, W_hhᵀ and the staged biases.
      const scratch = TB * Math.max(GH, V) + TB * H + H * GH + Math.max(GH, V);
      return (activations + scratch) * 4;
    },

    flopsPerChar(c: ModelConfig): number {
      const H = c.hidden;
      const GH = G * H;
      let f = 0;
      // Layer 0's input is a gather; above it the input projection, ∇W_ih and ∂x are products too.
      for (let l = 0; l < c.layers; l++) f += l === 0 ? 6 * GH * H : 12 * GH * H;
      return f + 6 * c.vocabSize * H;
    },
  };
}

/** What a cell's info needs of it: its shape, not its kernels. */
export type CellShape = Omit<Cell, 'ts' | 'wasm'>;
