/**
 * Assembles the hidden-states view: its state, its drawing and its controls,
 * connected to the host. main.ts starts it; the Chromium tests start it from
 * their own entry (test/webview/pages/) to read what is drawn and how.
 */
import type { HiddenHostMessage, HiddenViewState, HiddenWebviewMessage } from '../../src/shared/webviewProtocol';
import type { HostChannel } from '../common/host';
import { watchTheme } from '../common/theme';
import { wireHiddenControls } from './controls';
import { mountHidden, type HiddenDrawing } from './draw';
import { HiddenState } from './state';

export interface HiddenPage {
  readonly state: HiddenState;
  readonly drawing: HiddenDrawing;
}

export function startHiddenPage(host: HostChannel<HiddenHostMessage, HiddenWebviewMessage, HiddenViewState>, app: HTMLElement): HiddenPage {
  const state = new HiddenState(host.getState() ?? {});
  const drawing = mountHidden(app, state);
  wireHiddenControls(state, drawing, { post: (m) => host.post(m), save: () => host.setState(state.persisted()) });
  host.onMessage((m) => {
    const effects = state.receive(m);
    if (effects.error) host.reportError(effects.error);
    if (m.kind === 'hidden/trace') drawing.fillSelects();
    for (const reply of effects.post) host.post(reply);
    if (effects.redraw) drawing.draw();
  });
  watchTheme((t) => {
    drawing.setTheme(t);
    drawing.draw();
  });
  new ResizeObserver(() => drawing.draw()).observe(drawing.elements.scroller);
  host.post({ kind: 'panel/ready' });
  return { state, drawing };
}
