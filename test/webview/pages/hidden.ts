/**
 * The hidden-states page as the Chromium test loads it: the same page as
 * webview/hidden/main.ts, plus `window.__rnnLab` for the test to read what
 * is drawn and how. Never shipped (dist/test/).
 */
import { connect } from '../../../webview/common/host';
import { checkHostMessage } from '../../../webview/hidden/checks';
import { startHiddenPage } from '../../../webview/hidden/page';

const { state, drawing } = startHiddenPage(connect(checkHostMessage), document.getElementById('app')!);

(window as unknown as { __rnnLab: unknown }).__rnnLab = {
  view: state.view,
  get layout() { return { ...drawing.layout }; },
  get rows() { return state.rows.slice(); },
  get scale() { return { ...state.scale }; },
  get surpMax() { return drawing.surpMax(); },
  get picked() { return state.picked; },
  get cursor() { return state.cursor; },
  get topPositions() { return state.topPositions(); },
  get correlation() { return state.corr ? Array.from(state.corr) : null; },
  xOf: (t: number) => drawing.xOf(t),
  drawNow: () => drawing.draw(),
};
