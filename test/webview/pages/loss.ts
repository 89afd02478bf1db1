/**
 * The loss page as the Chromium test loads it: the same page as
 * webview/loss/main.ts, plus `window.__rnnLab` for the test to read the
 * charts and the state. Never shipped (dist/test/).
 */
import { connect } from '../../../webview/common/host';
import { checkHostMessage } from '../../../webview/loss/checks';
import { startLossPage } from '../../../webview/loss/page';

const page = startLossPage(connect(checkHostMessage), document.getElementById('app')!);

(window as unknown as { __rnnLab: unknown }).__rnnLab = {
  lossChart: page.drawing.lossChart,
  rateChart: page.drawing.rateChart,
  view: page.state.view,
  runs: page.state.runs,
  csv: () => page.state.csv(),
  pngDataUrl: () => page.drawing.pngDataUrl(),
  drawNow: () => page.drawNow(),
  theme: () => page.drawing.theme(),
};
