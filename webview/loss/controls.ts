/**
 * The loss panel's controls: DOM events become state changes (and messages
 * to the host), then a redraw.
 */
import type { LossWebviewMessage } from '../../src/shared/webviewProtocol';
import type { LossDrawing } from './draw';
import type { LossState } from './state';

export interface LossControlsHost {
  post(message: LossWebviewMessage): void;
  /** Saves the state's view options (vscode.setState). */
  save(): void;
  /** Redraws on the next frame (the smoothing slider fires on every pixel). */
  schedule(): void;
}

export function wireLossControls(state: LossState, drawing: LossDrawing, page: LossControlsHost): void {
  const el = drawing.elements;
  const redraw = (): void => {
    page.save();
    drawing.draw();
  };
  el.unitsSel.addEventListener('change', () => {
    state.setUnits(el.unitsSel.value);
    redraw();
  });
  el.xSel.addEventListener('change', () => {
    state.setX(el.xSel.value);
    redraw();
  });
  el.ySel.addEventListener('change', () => {
    state.setYScale(el.ySel.value);
    redraw();
  });
  el.smoothingInput.addEventListener('input', () => {
    state.setSmoothing(Number(el.smoothingInput.value));
    el.smoothingOut.textContent = state.view.smoothing.toFixed(2);
    page.save();
    page.schedule();
  });
  el.rawBox.addEventListener('change', () => {
    state.setShowRaw(el.rawBox.checked);
    redraw();
  });
  el.compareSel.addEventListener('change', () => {
    state.setCompare([...el.compareSel.value]);
    page.save();
    page.post({ kind: 'loss/compare', modelIds: state.view.compare });
  });
  el.tabs.addEventListener('vsc-tabs-select', () => {
    state.setTab(el.tabs.selectedIndex);
    page.save();
  });
  el.exportPng.addEventListener('click', () => {
    page.post({ kind: 'panel/export', format: 'png', fileName: `loss-${state.safeName()}.png`, data: drawing.pngDataUrl() });
  });
  el.exportCsv.addEventListener('click', () => {
    page.post({ kind: 'panel/export', format: 'csv', fileName: `loss-${state.safeName()}.csv`, data: state.csv() });
  });
}
