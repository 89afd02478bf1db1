import type { Activation } from '../config';
import type { Floats } from '../floats';

/**
 * The buffers of one layer over a window of T steps and B streams, shared by
 * the cell's elementwise code and the graph's matrix products. Row r = t·B + b.
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
  /** [(T+1)·B, H]: LSTM cell state, laid out like h (empty for other cells). */
  readonly c: Floats;
  /** [T·B, H]: LSTM tanh(c_t); GRU W_hn h_{t-1} + b_hn (empty for the RNN). */
  readonly aux: Floats;
  /** Parameter buffer and the offset of b_hh, for the GRU's b_hn inside the reset product. */
  readonly params: Floats;
  readonly bHh: number;
  /** [T·B, H]: ∂E/∂h_t from above (decoder or the next layer). */
  readonly dOut: Floats;
  /** [B, H]: ∂E/∂h_t flowing back through time, carried to step t-1. */
  readonly dh: Floats;
  /** [B, H]: LSTM ∂E/∂c carried to step t-1. */
  readonly dc: Floats;
  /** [T·B, GH]: ∂E/∂(pre-activation) on the input side. */
  readonly dPre: Floats;
  /** [T·B, GH]: the same on the recurrent side; differs from dPre only for the GRU's n gate. */
  readonly dPreHh: Floats;
}

/** The elementwise half of a recurrent cell; the graph does the matrix products. */
export interface CellOps {
  readonly gates: number;
  /**
   * Whether b_hh is added with b_ih to every gate before the step (true for
   * RNN and LSTM; the GRU keeps b_hn inside the reset product).
   */
  readonly hhBiasOutside: boolean;
  /**
   * Whether the cell passes gradient to h_{t-1} other than through W_hh
   * (the GRU's z ⊙ h_{t-1}); if so, backwardStep writes that part into dh.
   */
  readonly directRecurrent: boolean;
  forwardStep(s: LayerState, t: number): void;
  /** Reads s.dOut and s.dh for step t, writes s.dPre/s.dPreHh (and dh for a direct path, dc). */
  backwardStep(s: LayerState, t: number): void;
}
