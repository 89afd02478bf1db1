/**
 * The Experiment page as the Chromium test loads it: the same page as
 * webview/experiment/main.ts, plus `window.__rnnLab` for the test to read
 * the model. Never shipped (dist/test/).
 */
import { connect } from '../../../webview/common/host';
import { checkHostMessage } from '../../../webview/experiment/checks';
import { startExperimentPage } from '../../../webview/experiment/page';

const host = connect(checkHostMessage);
const page = startExperimentPage(host, document.getElementById('app')!);

(window as unknown as { __rnnLab: unknown }).__rnnLab = {
  model: page.model,
  errors: host.errors,
  drawNow: () => page.drawNow(),
};
