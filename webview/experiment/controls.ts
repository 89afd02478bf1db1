/** The Experiment panel's controls: sorting, selection, the curve axis, and the actions posted to the host. */
import type { ExperimentAction, ExperimentWebviewMessage } from '../../src/shared/experimentPanelProtocol';
import type { ExperimentDrawing } from './draw';
import type { ExperimentPanelModel } from './state';

export interface ControlHooks {
  post(m: ExperimentWebviewMessage): void;
  save(): void;
  redraw(): void;
}

export function wireExperimentControls(model: ExperimentPanelModel, drawing: ExperimentDrawing, hooks: ControlHooks): void {
  const root = drawing.root;
  const changed = (): void => {
    hooks.save();
    hooks.redraw();
  };
  const sortFrom = (target: EventTarget | null): boolean => {
    const th = (target as HTMLElement | null)?.closest<HTMLElement>('th[data-sort]');
    if (!th) return false;
    model.sortBy(th.dataset.sort!);
    changed();
    return true;
  };
  root.addEventListener('click', (e) => {
    const target = e.target as HTMLElement;
    if (sortFrom(target)) return;
    const box = target.closest<HTMLInputElement>('input[data-run]');
    if (box) {
      model.toggle(box.dataset.run!);
      changed();
      return;
    }
    const button = target.closest<HTMLButtonElement>('button[data-action]');
    if (button && !button.disabled) {
      const action = button.dataset.action as ExperimentAction;
      // CSV follows the table's order: the selection, or every finished run.
      const ids = action === 'csv' && model.selected.size === 0 ? model.rows().filter((r) => r.finished).map((r) => r.id) : model.selectedInOrder();
      hooks.post({ kind: 'experiment/action', action, runIds: ids });
    }
  });
  root.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && sortFrom(e.target)) e.preventDefault();
  });
  root.querySelector<HTMLSelectElement>('.exp-axis')!.addEventListener('change', (e) => {
    const v = (e.target as HTMLSelectElement).value;
    model.axis = v === 'chars' || v === 'seconds' ? v : 'step';
    changed();
  });
}
