/**
 * One gradient-flow snapshot of a window of text, as compact plain arrays
 * (JSON-ready, rounded to 4 significant digits): traceGradientFlow for the
 * whole window's E, and for chosen errors e_t the per-step ‖∂e_t/∂h_k‖ and
 * ‖∂e_t/∂W_hh at step k‖ (the design's ∂e_t/∂W decomposition).
 *
 * Cost: every row is one forward + backward pass over the window at batch 1,
 * so all T rows cost O(T²); `budgetMs` bounds it (rows are then spread evenly,
 * always including t = T-1 and t = ⌊T/2⌋), and `minRows` are traced
 * whatever the budget, so what a short window shows does not depend on how
 * busy the machine was. The trainer worker, the CLI report and the tests share it.
 */
import type { Kernels } from './kernels';
import type { Model } from './model';
import { fitWindow, traceGradientFlow } from './instrument';
import { infoOf } from './models/catalog';

export interface GradFlowWindow {
  /** The window's characters: steps k = 0..T-1 read chars[k] and predict chars[k+1]. */
  text: string;
  T: number;
  /** Mean loss of the window. */
  loss: number;
  /** [layer][k]: ‖∂E/∂h_k‖ for the whole window's E. */
  hGradNorm: number[][];
  /** [layer][k]: ‖δ_k h_{k-1}ᵀ‖, step k's term of ∇W_hh. */
  wContribution: number[][];
  /** The errors e_t traced one by one (ascending). */
  rowTs: number[];
  /** [layer][i][k]: ‖∂e_t/∂h_k‖ for t = rowTs[i] (0 for k > t). */
  rowH: number[][][];
  /** [layer][i][k]: ‖∂e_t/∂W_hh‖ at step k for t = rowTs[i]. */
  rowW: number[][][];
  /** Frobenius norm of each parameter's gradient of the window's E, by state_dict name. */
  windowParamNorms: Record<string, number>;
  /**
   * What the rows are (the family's gradient taps, e.g. "layer 1: h" or
   * "block 2: residual stream x"), and whether they are a cell's h or a
   * block's residual stream (the panel's words differ). Absent in snapshots
   * from before they were recorded: cells.
   */
  network?: 'cells' | 'blocks';
  taps?: string[];
}

/** 4 significant digits: plenty for a chart, a third of the JSON. */
export function round4(x: number): number {
  return Number.isFinite(x) ? +x.toPrecision(4) : 0;
}

const arr = (a: Float64Array): number[] => Array.from(a, round4);

/** The t values traced when only `n` rows fit: T-1 and ⌊T/2⌋ first, the rest evenly spread. */
export function chooseRows(T: number, n: number): number[] {
  if (n >= T) return Array.from({ length: T }, (_, t) => t);
  const set = new Set<number>([T - 1, Math.floor(T / 2)]);
  const want = Math.max(n, 2);
  for (let i = 0; set.size < want && i < want * 4; i++) set.add(Math.round(((i + 1) * (T - 1)) / (want + 1)));
  return [...set].sort((a, b) => a - b);
}

export function gradFlowWindow(model: Model, source: string, kernels: Kernels, opts: { maxRows?: number; budgetMs?: number; minRows?: number } = {}): GradFlowWindow {
  const text = fitWindow(model, source, 1);
  const t0 = performance.now();
  const whole = traceGradientFlow(model, text, kernels, null);
  const once = Math.max(performance.now() - t0, 0.01);
  const T = whole.hGradNorm[0]?.length ?? 0;
  const fit = opts.budgetMs === undefined ? T : Math.floor(opts.budgetMs / once);
  const rowTs = chooseRows(T, Math.min(opts.maxRows ?? T, Math.max(fit, opts.minRows ?? 2, 2)));
  const L = whole.hGradNorm.length;
  const rowH: number[][][] = Array.from({ length: L }, () => []);
  const rowW: number[][][] = Array.from({ length: L }, () => []);
  for (const t of rowTs) {
    const g = traceGradientFlow(model, text, kernels, t);
    for (let l = 0; l < L; l++) {
      rowH[l]!.push(arr(g.hGradNorm[l]!));
      rowW[l]!.push(arr(g.wContribution[l]!));
    }
  }
  const windowParamNorms: Record<string, number> = {};
  for (const [k, v] of Object.entries(whole.paramGradNorms)) windowParamNorms[k] = round4(v);
  const info = infoOf(model.config.cell);
  return {
    network: info.kind,
    taps: info.gradientTaps(model.config),
    text,
    T,
    loss: round4(whole.loss),
    hGradNorm: whole.hGradNorm.map(arr),
    wContribution: whole.wContribution.map(arr),
    rowTs,
    rowH,
    rowW,
    windowParamNorms,
  };
}
