/**
 * Assembles the gradient-flow panel: its state, its drawing and its controls,
 * connected to the host. main.ts starts it; the Chromium tests start it from
 * their own entry (test/webview/pages/) to read the state and redraw on demand.
 */
import type { GradFlowHostMessage, GradFlowPanelState, GradFlowWebviewMessage } from '../../src/shared/webviewProtocol';
import type { HostChannel } from '../common/host';
import { watchTheme } from '../common/theme';
import { wireGradFlowControls } from './controls';
import { mountGradFlow, type GradFlowDrawing } from './draw';
import { GradFlowState } from './state';
import { mountStepThrough, type StepThroughSection } from './stepThrough';

export interface GradFlowPage {
  readonly state: GradFlowState;
  readonly drawing: GradFlowDrawing;
  readonly stepThrough: StepThroughSection;
}

export function startGradFlowPage(host: HostChannel<GradFlowHostMessage, GradFlowWebviewMessage, GradFlowPanelState>, app: HTMLElement): GradFlowPage {
  const state = new GradFlowState(host.getState() ?? {});
  const drawing = mountGradFlow(app, state);
  const stepThrough = mountStepThrough(app, (m) => host.post(m));
  const syncStepThrough = (): void => {
    const c = state.current();
    stepThrough.sync(c ? c.s.step : null, c?.s.T ?? 0, c ? state.errorIn(c.s) : null);
  };
  let pending = false;
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      drawing.draw();
      syncStepThrough();
    });
  };
  const save = (): void => host.setState(state.persisted());
  wireGradFlowControls(state, drawing.elements, { post: (m) => host.post(m), save, schedule, drawNow: () => drawing.draw() });
  watchTheme(() => schedule());
  host.onMessage((m) => {
    if (m.kind === 'gradflow/stepThroughResult') return stepThrough.receive(m);
    for (const reply of state.receive(m)) host.post(reply);
    if (m.kind === 'gradflow/init') save();
    schedule();
  });
  host.post({ kind: 'panel/ready' });
  return { state, drawing, stepThrough };
}
