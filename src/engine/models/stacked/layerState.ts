import type { Activation } from '../rnn/activation';
import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';

/**
 * The buffers of one layer over a window of T steps and B streams, shared by
 * the cell's elementwise code and the network's matrix products. Row r = t·B + b.
 */
export interface LayerState {
  readonly B: number;
  readonly H: number;
  /** Gates × H. */
  readonly GH: number;
  readonly activation: Activation;
  /** [T·B, GH]: input projection plus biases before a step, activated gates after it. */
  readonly pre: Floats;
  /** [B, GH]: h_{t-1} · W_hhᵀ for the current step. */
  readonly hh: Floats;
  /** [(T+1)·B, H]: slot 0 is the carried-in state, slot t+1 the output of step t. */
  readonly h: Floats;
  /** [(T+1)·B, H]: the cell state of a cell that has one (Cell.cellState), laid out like h; else empty. */
  readonly c: Floats;
  /** [T·B, H]: the cell's own per-step values (Cell.aux), else empty. */
  readonly aux: Floats;
  /** The part of b_hh the cell applies itself (Cell.hhBiasInsideGates: the GRU's b_hn), copied here each forward. */
  readonly bhn: Floats;
  /** [T·B, H]: ∂E/∂h_t from above (decoder or the next layer). */
  readonly dOut: Floats;
  /** [B, H]: ∂E/∂h_t flowing back through time, carried to step t-1. */
  readonly dh: Floats;
  /** [B, H]: ∂E/∂c carried to step t-1 (cells with a cell state), else empty. */
  readonly dc: Floats;
  /** [T·B, GH]: ∂E/∂(pre-activation) on the input side. */
  readonly dPre: Floats;
  /** [T·B, GH]: the same on the recurrent side; the same buffer as dPre unless Cell.separateRecurrentGrad. */
  readonly dPreHh: Floats;
}

/** The elementwise half of a cell on one backend; the network does the matrix products. */
export interface CellKernels {
  /** Step t: reads pre (input side plus biases) and hh, writes the activated gates into pre, h (and c, aux). */
  forwardStep(s: LayerState, t: number): void;
  /** Reads s.dOut and s.dh for step t, writes s.dPre/s.dPreHh (and dh for a direct path, dc). */
  backwardStep(s: LayerState, t: number): void;
  /**
   * Optional: the whole forward time loop of a layer (the recurrent product
   * with W_hh = w[wOff ..] and the step, t = 0..T-1) in one call; false when
   * not handled (the network then loops itself).
   */
  forwardLoop?(s: LayerState, T: number, w: Floats, wOff: number): boolean;
  /** Optional: the backward time loop (zeroed dh/dc, steps and the product with whhT, t = T-1..0); false when not handled. */
  backwardLoop?(s: LayerState, T: number, whhT: Floats): boolean;
}

/** A recurrent cell as the stacked-cells network needs it: its shape, and its kernels per backend. */
export interface Cell {
  /** Gates stacked in each weight matrix (PyTorch's order). */
  readonly gates: number;
  /** Gate names in that order, as the Hidden States panel shows them (empty for the RNN). */
  readonly gateNames: readonly string[];
  readonly gateLabels: readonly string[];
  /** Whether the cell carries a cell state c besides h (LSTM). */
  readonly cellState: boolean;
  /** Whether the cell keeps [T·B, H] values of its own per step (LayerState.aux). */
  readonly aux: boolean;
  /** Trailing gates of b_hh the cell applies itself (1 for the GRU's b_hn, inside the reset product); the rest is added with b_ih before the step. */
  readonly hhBiasInsideGates: number;
  /**
   * Whether the cell passes gradient to h_{t-1} other than through W_hh
   * (the GRU's z ⊙ h_{t-1}); if so, backwardStep writes that part into dh.
   */
  readonly directRecurrent: boolean;
  /** Whether the recurrent side's ∂pre differs from the input side's (the GRU's n gate): dPreHh is then its own buffer. */
  readonly separateRecurrentGrad: boolean;
  /** The TypeScript kernels (any buffers, either precision). */
  readonly ts: CellKernels;
  /** The wasm kernels bound to an arena (buffers carved from it), where the cell has them. */
  wasm?(host: WasmHost): CellKernels;
}
