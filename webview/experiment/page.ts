/**
 * Assembles the Experiment panel: its model, drawing and controls, connected
 * to the host. main.ts starts it; the Chromium tests start it from their own
 * entry (test/webview/pages/) to read the model and the page.
 */
import type { ExperimentHostMessage, ExperimentPanelState, ExperimentWebviewMessage } from '../../src/shared/experimentPanelProtocol';
import type { HostChannel } from '../common/host';
import { wireExperimentControls } from './controls';
import { mountExperiment, type ExperimentDrawing } from './draw';
import { ExperimentPanelModel } from './state';
import { frameScheduler } from '../common/frame';

export interface ExperimentPage {
  readonly model: ExperimentPanelModel;
  readonly drawing: ExperimentDrawing;
  drawNow(): void;
}

type State = ExperimentPanelState & { out?: string };

export function startExperimentPage(host: HostChannel<ExperimentHostMessage, ExperimentWebviewMessage, State>, app: HTMLElement): ExperimentPage {
  const model = new ExperimentPanelModel(host.getState() ?? {});
  const drawing = mountExperiment(app, model);
  const { schedule, drawNow } = frameScheduler(() => drawing.draw());
  const save = (): void => host.setState(model.persisted());
  wireExperimentControls(model, drawing, { post: (m) => host.post(m), save, redraw: schedule });
  host.onMessage((m) => {
    model.receive(m);
    // The folder is what a window reload reopens the panel on.
    save();
    schedule();
  });
  host.post({ kind: 'panel/ready' });
  return { model, drawing, drawNow };
}
