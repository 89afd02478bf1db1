/**
 * Assembles the hidden-states page: its state, its drawing and its controls,
 * connected to the host. The same page runs in the side bar's view and in an
 * editor panel (the markup's data-host says which). main.ts starts it; the
 * Chromium tests start it from their own entry (test/webview/pages/) to read
 * what is drawn and how.
 */
import type { HiddenHandoff, HiddenHostMessage, HiddenPageHost, HiddenViewState, HiddenWebviewMessage } from '../../src/shared/webviewProtocol';
import type { HostChannel } from '../common/host';
import { watchTheme } from '../common/theme';
import { wireHiddenControls } from './controls';
import { mountHidden, type HiddenDrawing } from './draw';
import { HiddenState } from './state';

export interface HiddenPage {
  readonly state: HiddenState;
  readonly drawing: HiddenDrawing;
}

/** The options and pick the host handed to a page that has none saved (unreadable: none). */
function handoffOf(app: HTMLElement): HiddenHandoff | undefined {
  const raw = app.dataset.handoff;
  if (!raw) return undefined;
  try {
    const h = JSON.parse(raw) as Partial<HiddenHandoff>;
    return typeof h.view === 'object' && h.view !== null ? { view: h.view, picked: typeof h.picked === 'number' ? h.picked : null } : undefined;
  } catch {
    return undefined;
  }
}

export function startHiddenPage(host: HostChannel<HiddenHostMessage, HiddenWebviewMessage, HiddenViewState>, app: HTMLElement): HiddenPage {
  // No host: a page outside VS Code (rnn-lab report), drawn like the side bar's without its button.
  const where: HiddenPageHost | undefined = app.dataset.host === 'panel' || app.dataset.host === 'view' ? app.dataset.host : undefined;
  const saved = host.getState();
  const handoff = saved ? undefined : handoffOf(app);
  const state = new HiddenState(saved ?? handoff?.view ?? {});
  if (handoff) state.picked = handoff.picked;
  const drawing = mountHidden(app, state, where);
  // Saved with the page (a reload restores it) and told the host (a page opened next starts from it).
  const save = (): void => {
    host.setState(state.persisted());
    host.post({ kind: 'hidden/view', view: state.persisted() });
  };
  wireHiddenControls(state, drawing, { post: (m) => host.post(m), save });
  host.onMessage((m) => {
    const effects = state.receive(m);
    if (effects.error) host.reportError(effects.error);
    if (m.kind === 'hidden/trace') drawing.fillSelects();
    for (const reply of effects.post) host.post(reply);
    if (effects.redraw) drawing.draw();
    // A text wider than the page scrolls: bring the attention's query (the last character at first) into view.
    if (m.kind === 'hidden/trace' && m.heads > 0) drawing.attention.reveal(state.attendQuery());
  });
  watchTheme((t) => {
    drawing.setTheme(t);
    drawing.draw();
  });
  // The page's width sizes the cells (wider in an editor panel) and the map's the canvases: redraw when either
  // changes, not when a draw changes a height.
  const widths = new Map<Element, number>();
  const resized = new ResizeObserver((entries) => {
    let changed = false;
    for (const e of entries) {
      const w = (e.target as HTMLElement).clientWidth;
      if (widths.get(e.target) !== w) changed = true;
      widths.set(e.target, w);
    }
    if (changed) drawing.draw();
  });
  for (const el of [app, drawing.elements.scroller, drawing.attention.elements.scroller]) resized.observe(el);
  host.post({ kind: 'panel/ready' });
  if (saved || handoff) save();
  return { state, drawing };
}
