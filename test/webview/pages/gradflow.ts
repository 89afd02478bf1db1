/**
 * The gradient-flow page as the Chromium test loads it: the same page as
 * webview/gradflow/main.ts, plus `window.__rnnLab` for the test to read the
 * state and redraw without waiting for a frame. Never shipped (dist/test/).
 */
import { connect } from '../../../webview/common/host';
import { checkHostMessage } from '../../../webview/gradflow/checks';
import { startGradFlowPage } from '../../../webview/gradflow/page';

const page = startGradFlowPage(connect(checkHostMessage), document.getElementById('app')!);

(window as unknown as { __rnnLab: unknown }).__rnnLab = {
  view: page.state.view,
  data: page.state.data,
  drawNow: () => page.drawing.draw(),
  stepThrough: page.stepThrough,
};
