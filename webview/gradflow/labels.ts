/**
 * The panel's words for what a snapshot's rows are: a cell's hidden state h
 * (the gradient travels back through W_hh, step by step), or a block's
 * residual stream x (the gradient reaches earlier steps through the mixer:
 * attention in one hop, a recurrence step by step). Pure.
 */
import type { GradFlowSnapshot } from '../../src/shared/webviewProtocol';

export interface FlowLabels {
  /** The quantity at the taps: h or x. */
  sym: string;
  /** Whether the steps are linked by a recurrent weight (drawn as edges between neighbouring steps). */
  recurrent: boolean;
  /** The weight whose per-step term the W edges and the stack show, as HTML and as plain text. */
  weightHtml: string;
  weightText: string;
  /** The bottom row of the unrolled network. */
  input: string;
  /** Row l's name in the network (h1, x2…). */
  node(l: number): string;
  /** Row l's name in the layer picker. */
  tap(l: number): string;
  /** The whole title of the tap's row (in tooltips and legends). */
  tapTitle(l: number): string;
}

export function labelsOf(s: GradFlowSnapshot): FlowLabels {
  const L = s.hGradNorm.length;
  const blocks = s.network === 'blocks';
  const sym = blocks ? 'x' : 'h';
  return {
    sym,
    recurrent: !blocks,
    weightHtml: blocks ? 'W<sub>in</sub> (the mixer\'s input weight)' : 'W<sub>hh</sub>',
    weightText: blocks ? 'W_in' : 'W_hh',
    input: blocks ? 'tok' : 'x',
    node: (l) => (L > 1 ? `${sym}${l + 1}` : sym),
    tap: (l) => (blocks ? `block ${l + 1}` : `layer ${l + 1}`) + (L > 1 && l === L - 1 ? ' (top)' : ''),
    tapTitle: (l) => s.taps?.[l] ?? `layer ${l + 1}: ${sym}`,
  };
}
