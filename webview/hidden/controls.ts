/**
 * The hidden-states view's controls: DOM events (options, the heatmap's
 * mouse and keyboard, Clear) become state changes and messages to the host,
 * then a redraw.
 */
import type { HiddenQuantity, HiddenWebviewMessage } from '../../src/shared/webviewProtocol';
import type { HiddenDrawing } from './draw';
import type { HiddenState, HiddenView } from './state';
import type { PatternKind, SortKind } from './stats';

export interface HiddenControlsHost {
  post(message: HiddenWebviewMessage): void;
  /** Saves the state's view options (vscode.setState). */
  save(): void;
}

type ValueElement = HTMLElement & { value: string };

export function wireHiddenControls(state: HiddenState, drawing: HiddenDrawing, page: HiddenControlsHost): void {
  const el = drawing.elements;
  const layout = drawing.layout;
  const send = (messages: HiddenWebviewMessage[]): void => messages.forEach((m) => page.post(m));
  const pick = (neuron: number | null): void => {
    page.post(state.pick(neuron));
    drawing.draw();
  };
  const optionsChanged = (messages: HiddenWebviewMessage[] = []): void => {
    page.save();
    drawing.syncFields();
    send(messages);
    drawing.draw();
  };

  el.scroller.addEventListener('mousemove', (e) => drawing.hover(e));
  el.scroller.addEventListener('mouseleave', () => (el.tooltip.hidden = true));
  el.scroller.addEventListener('scroll', () => drawing.draw(), { passive: true });
  el.heat.addEventListener('click', (e) => {
    const r = drawing.rowAt(e.clientY);
    if (r < 0) return;
    state.cursor = r;
    pick(state.rows[r] === state.picked ? null : state.rows[r]!);
  });
  el.clear.addEventListener('click', () => pick(null));
  el.openEditor?.addEventListener('click', () => page.post({ kind: 'hidden/openInEditor' }));

  el.heat.addEventListener('keydown', (e) => {
    if (!state.rows.length) return;
    const rowsPerPage = Math.max(1, Math.floor((el.scroller.parentElement?.clientHeight ?? 200) / layout.rowH) - 1);
    if (state.moveCursor(e.key, rowsPerPage)) {
      e.preventDefault();
      // Keep the cursor row in view inside the scrolling map.
      const y = el.heat.offsetTop + state.cursor * layout.rowH;
      if (y < el.map.scrollTop + el.heat.offsetTop) el.map.scrollTop = y - el.heat.offsetTop;
      else if (y + layout.rowH > el.map.scrollTop + el.map.clientHeight) el.map.scrollTop = y + layout.rowH - el.map.clientHeight;
      drawing.announceCursor();
      drawing.draw();
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const j = state.cursorNeuron()!;
      pick(j === state.picked ? null : j);
      drawing.announceCursor();
    } else if (e.key === 'Escape' && state.picked !== null) {
      e.preventDefault();
      pick(null);
    }
  });
  el.heat.addEventListener('focus', () => {
    state.focusPicked();
    drawing.announceCursor();
    drawing.draw();
  });
  el.heat.addEventListener('blur', () => drawing.draw());

  // The attention view: a click on a character (in the attention grid or above the heatmap) makes it the query.
  const att = drawing.attention;
  const attendTo = (t: number): void => {
    if (t < 0) return;
    const messages = state.attendTo(t);
    page.save();
    send(messages);
    drawing.draw();
  };
  for (const c of [att.elements.chars, att.elements.grid]) c.addEventListener('click', (e) => attendTo(att.positionAt(e.clientX)));
  el.chars.addEventListener('click', (e) => {
    if (state.trace?.heads) attendTo(drawing.positionAt(e.clientX));
  });
  att.elements.scroller.addEventListener('scroll', () => drawing.draw(), { passive: true });
  att.elements.grid.addEventListener('keydown', (e) => {
    const messages = state.moveAttend(e.key);
    if (!messages) return;
    e.preventDefault();
    page.save();
    send(messages);
    att.reveal(state.attendQuery());
    drawing.draw();
  });
  for (const ev of ['focus', 'blur']) att.elements.grid.addEventListener(ev, () => drawing.draw());

  el.layerSel.addEventListener('change', () => optionsChanged(state.setLayer(parseInt(el.layerSel.value, 10))));
  el.quantitySel.addEventListener('change', () => optionsChanged(state.setQuantity(el.quantitySel.value as HiddenQuantity)));
  el.sortSel.addEventListener('change', () => {
    state.setOrder({ sort: el.sortSel.value as SortKind });
    optionsChanged();
  });
  el.patternSel.addEventListener('change', () => {
    state.setOrder({ pattern: el.patternSel.value as PatternKind });
    optionsChanged();
  });
  const onText = (field: ValueElement, change: (value: string) => Partial<HiddenView>): void => {
    const apply = (): void => {
      state.setOrder(change(field.value));
      optionsChanged();
    };
    field.addEventListener('input', apply);
    field.addEventListener('change', apply);
  };
  onText(el.regexField, (regex) => ({ regex }));
  onText(el.topkField, (v) => ({ topK: Number(v) }));
  onText(el.minvarField, (v) => ({ minVariance: Number(v) }));
  onText(el.searchField, (search) => ({ search }));
  drawing.syncFields();
}
