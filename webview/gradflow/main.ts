/**
 * The gradient-flow panel: the network unrolled in time (x_t, h_t per layer,
 * o_t; U, W, V edges) coloured by ‖∂E/∂h_t‖ with W edges as wide as each
 * step's term of ∇W; one error e_t (click o_t) travelling back on a log
 * scale; where each step's ∇W comes from; gradient norms over training with
 * clipping marked and a slider through the snapshots; and the decay of
 * ∂e_t/∂h_k with distance compared between two models. All SVG, drawn from
 * the snapshots the host sends (a passive view).
 *
 * The page is split in state.ts (what it knows, pure), draw.ts (SVG from the
 * state) and controls.ts (events to state changes); page.ts connects them.
 */
import { connect } from '../common/host';
import { checkHostMessage } from './checks';
import { startGradFlowPage } from './page';

startGradFlowPage(connect(checkHostMessage), document.getElementById('app')!);
