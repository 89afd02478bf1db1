/**
 * The gradient-flow panel's controls: DOM events become state changes (and
 * messages to the host), then a redraw.
 */
import type { GradFlowWebviewMessage } from '../../src/shared/webviewProtocol';
import type { GradFlowElements } from './draw';
import type { GradFlowState } from './state';

export interface GradFlowControlsHost {
  post(message: GradFlowWebviewMessage): void;
  /** Saves the state's view options (vscode.setState). */
  save(): void;
  /** Redraws on the next frame. */
  schedule(): void;
  /** Redraws now. */
  drawNow(): void;
}

const NAV_KEYS = ['ArrowLeft', 'ArrowRight', 'Home', 'End'];

export function wireGradFlowControls(state: GradFlowState, el: GradFlowElements, page: GradFlowControlsHost): void {
  const changed = (): void => {
    page.save();
    page.schedule();
  };
  el.slider.addEventListener('input', () => {
    state.scrubTo(Number(el.slider.value));
    changed();
  });
  el.layerSel.addEventListener('change', () => {
    state.selectLayer(Number(el.layerSel.value));
    changed();
  });
  el.compareSel.addEventListener('change', () => {
    const request = state.compareWith(el.compareSel.value || null);
    if (!request) return;
    page.save();
    page.post(request);
    page.schedule();
  });
  el.whole.addEventListener('click', () => {
    state.wholeWindow();
    changed();
  });
  el.net.addEventListener('click', (e) => {
    const target = (e.target as Element).closest('.node-o');
    if (!target) return;
    state.toggleError(Number(target.getAttribute('data-t')));
    changed();
  });
  el.net.addEventListener('keydown', (ke) => {
    const target = ke.target as Element;
    if (!target.classList.contains('node-o')) return;
    if (ke.key === 'Enter' || ke.key === ' ') {
      ke.preventDefault();
      target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      return;
    }
    // ArrowLeft/ArrowRight (Home/End): select the previous/next output o_t and follow its error.
    if (!NAV_KEYS.includes(ke.key)) return;
    ke.preventDefault();
    const next = state.moveError(Number(target.getAttribute('data-t')), ke.key);
    if (next === null) return;
    page.save();
    page.drawNow();
    const node = el.net.querySelector<SVGElement>(`.node-o[data-t="${next}"]`);
    node?.focus();
    node?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  });
  window.addEventListener('resize', () => page.schedule());
}
