/**
 * The Hidden states view: a heatmap of neurons × characters of the traced
 * text (one layer and quantity at a time), a surprisal strip above it, a
 * tooltip with the model's next-character guesses, and a picked neuron's
 * activation over the text. Passive: the host traces, this page sorts,
 * filters and draws.
 *
 * The page is split in state.ts (what it knows, pure), draw.ts (canvases
 * and text from the state) and controls.ts (events to state changes);
 * page.ts connects them.
 */
import { connect } from '../common/host';
import { checkHostMessage } from './checks';
import { startHiddenPage } from './page';

startHiddenPage(connect(checkHostMessage), document.getElementById('app')!);
