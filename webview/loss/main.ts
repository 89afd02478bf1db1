/**
 * The loss panel: training loss (raw and smoothed), validation loss, learning
 * rate and throughput of one model, with other models overlaid. A passive
 * view: the host sends the data, this page keeps only what it draws and the
 * user's view options (vscode.setState, which also restores the panel after a
 * window reload).
 *
 * The page is split in state.ts (what it knows, pure), draw.ts (charts and
 * table from the state) and controls.ts (events to state changes); page.ts
 * connects them.
 */
import { connect } from '../common/host';
import { checkHostMessage } from './checks';
import { startLossPage } from './page';

startLossPage(connect(checkHostMessage), document.getElementById('app')!);
