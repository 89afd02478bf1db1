/**
 * Assembles the loss panel: its state, its drawing and its controls,
 * connected to the host. main.ts starts it; the Chromium tests start it from
 * their own entry (test/webview/pages/) to read the state and the charts.
 */
import type { LossHostMessage, LossPanelState, LossWebviewMessage } from '../../src/shared/webviewProtocol';
import type { HostChannel } from '../common/host';
import { watchTheme } from '../common/theme';
import { wireLossControls } from './controls';
import { mountLoss, type LossDrawing } from './draw';
import { LossState } from './state';
import { frameScheduler } from '../common/frame';

export interface LossPage {
  readonly state: LossState;
  readonly drawing: LossDrawing;
  /** Draws now, dropping a redraw already scheduled for the next frame. */
  drawNow(): void;
}

export function startLossPage(host: HostChannel<LossHostMessage, LossWebviewMessage, LossPanelState>, app: HTMLElement): LossPage {
  const state = new LossState(host.getState() ?? {});
  const drawing = mountLoss(app, state);
  const { schedule, drawNow } = frameScheduler(() => drawing.draw());
  const save = (): void => host.setState(state.persisted());
  wireLossControls(state, drawing, { post: (m) => host.post(m), save, schedule });
  host.onMessage((m) => {
    const change = state.receive(m);
    if (change === 'ignored') return;
    if (change === 'models') {
      save();
      drawing.renderCompareOptions();
    }
    schedule();
  });
  watchTheme((t) => {
    drawing.setTheme(t);
    drawing.draw();
  });
  drawing.draw();
  host.post({ kind: 'panel/ready' });
  return { state, drawing, drawNow };
}
