/**
 * The Experiment panel: the runs of one experiment (a table to sort and
 * select from, the loss curves overlaid, validation loss against parameters
 * and time), live while the editor trains it, or read from an output folder
 * (the CLI's too). state.ts (pure), draw.ts, controls.ts; page.ts connects them.
 */
import { connect } from '../common/host';
import { checkHostMessage } from './checks';
import { startExperimentPage } from './page';

startExperimentPage(connect(checkHostMessage), document.getElementById('app')!);
