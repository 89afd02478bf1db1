import * as vscode from 'vscode';
import { infoOf } from '../../engine/models/catalog';
import type { GradFlowModelInfo, GradFlowPageToHost, GradFlowSnapshot, GradFlowWebviewMessage, HostToGradFlowPage, StepThroughView } from '../../shared/gradFlowProtocol';
import { assertNever } from '../../shared/rpc';
import type { InferenceService } from '../inference';
import type { ModelEntry, ModelLibrary } from '../library';
import type { LiveRun, TrainingManager } from '../training';
import { checkGradFlowWebviewMessage } from './gradientFlowValidate';
import { ModelPanels } from './modelPanels';
import { PanelHost, type PanelDeps } from './panelBase';

export const GRADFLOW_VIEW_TYPE = 'rnnLab.gradientFlow';

const UPDATES_PER_SECOND = 2;

/** The step-through's styles: KaTeX's sheet and fonts (bundled by esbuild.mjs) and its own. */
const STEP_THROUGH_STYLES = ['dist/webview/katex.css', 'media/stepThrough.css'];

const BODY = `  <main id="app" class="panel gradflow" aria-busy="true">
    <p class="placeholder">Loading the gradient flow…</p>
  </main>`;

export interface GradFlowPanelDeps extends PanelDeps {
  library: ModelLibrary;
  training: TrainingManager;
  inference: Pick<InferenceService, 'stepThrough'>;
}

function info(m: ModelEntry): GradFlowModelInfo {
  return { id: m.id, name: m.name, cell: m.cell, family: infoOf(m.cell).title, hidden: m.hidden, layers: m.layers };
}

/**
 * The gradient flow of one model: the network unrolled in time, coloured by
 * ‖∂E/∂h_t‖, one error's gradient travelling back, and norms over training,
 * from the snapshots the trainer worker takes (kept in the run's history).
 */
export class GradientFlowPanel extends PanelHost<HostToGradFlowPage, GradFlowPageToHost> {
  private compare: string | null;
  /** Snapshot arrays and counts sent, per model, so updates carry only new snapshots. */
  private readonly sent = new Map<string, { list: readonly GradFlowSnapshot[]; count: number; last: GradFlowSnapshot | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private ready = false;
  /** The step-through being computed: a newer request or closing the panel cancels it in the worker. */
  private stepping: vscode.CancellationTokenSource | undefined;

  constructor(panel: vscode.WebviewPanel, private readonly d: GradFlowPanelDeps, readonly modelId: string, compare: string | null = null) {
    super(panel, d, 'gradflow', BODY, checkGradFlowWebviewMessage, modelId, STEP_THROUGH_STYLES);
    this.compare = compare && compare !== modelId && d.library.get(compare) ? compare : null;
    this.disposables.push(
      d.training.onDidChange((run) => this.onRunChanged(run)),
      d.library.onDidChange(() => this.onLibraryChanged()),
      { dispose: () => clearTimeout(this.timer) },
      { dispose: () => this.stepping?.cancel() },
    );
  }

  protected onMessage(m: GradFlowWebviewMessage): void {
    switch (m.kind) {
      case 'panel/ready':
        this.ready = true;
        this.sent.clear();
        void this.post({ kind: 'gradflow/init', models: this.d.library.list().map(info), primary: this.modelId, compare: this.compare });
        this.sendData(this.modelId);
        if (this.compare) this.sendData(this.compare);
        return;
      case 'panel/error':
        this.d.log.appendLine(`gradient-flow panel: ${m.message}`);
        return;
      case 'gradflow/compare': {
        const next = m.modelId && m.modelId !== this.modelId && this.d.library.get(m.modelId) ? m.modelId : null;
        if (next === this.compare) return;
        if (this.compare) this.sent.delete(this.compare);
        this.compare = next;
        if (next) this.sendData(next);
        return;
      }
      case 'gradflow/stepThrough':
        void this.stepThrough(m.step, m.errorAt);
        return;
      default:
        assertNever(m);
    }
  }

  /** The step-through of one snapshot's window, with the model's current weights (one line of error instead when there is none). */
  private async stepThrough(step: number, errorAt: number): Promise<void> {
    const snapshot = this.d.training.history(this.modelId).gradflow.find((s) => s.step === step);
    let reply: { view: StepThroughView | null; error: string | null };
    this.stepping?.cancel();
    const stepping = (this.stepping = new vscode.CancellationTokenSource());
    if (!snapshot) reply = { view: null, error: `no gradient-flow snapshot of step ${step} (it may have been thinned out)` };
    else {
      reply = await this.d.inference.stepThrough(this.modelId, snapshot.text, Math.min(errorAt, snapshot.T - 1), stepping.token).then(
        (view) => ({ view, error: null }),
        (e: unknown) => ({ view: null, error: `Could not step through: ${(e as Error).message}` }),
      );
    }
    const superseded = stepping.token.isCancellationRequested;
    stepping.dispose();
    if (this.stepping === stepping) this.stepping = undefined;
    if (!superseded && !this.isDisposed) void this.post({ kind: 'gradflow/stepThroughResult', step, errorAt, ...reply });
  }

  private onLibraryChanged(): void {
    const entry = this.d.library.get(this.modelId);
    if (!entry) {
      this.dispose();
      return;
    }
    if (this.panel.title !== `Gradient Flow: ${entry.name}`) this.panel.title = `Gradient Flow: ${entry.name}`;
    if (this.compare && !this.d.library.get(this.compare)) this.compare = null;
    if (this.ready) void this.post({ kind: 'gradflow/models', models: this.d.library.list().map(info) });
  }

  private onRunChanged(run: LiveRun): void {
    if (run.modelId !== this.modelId && run.modelId !== this.compare) return;
    if (this.timer || !this.ready || this.isDisposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.panel.visible) return;
      this.sendData(this.modelId);
      if (this.compare) this.sendData(this.compare);
    }, 1000 / UPDATES_PER_SECOND);
  }

  protected override onVisibilityChanged(visible: boolean): void {
    if (visible && this.ready) {
      this.sendData(this.modelId);
      if (this.compare) this.sendData(this.compare);
    }
  }

  private sendData(id: string): void {
    const list = this.d.training.history(id).gradflow;
    const s = this.sent.get(id);
    // The host thins older snapshots in place and drops the oldest: then everything is sent again.
    const continues = s !== undefined && s.list === list && list.length >= s.count && list.length < 200 && (s.count === 0 || list[s.count - 1] === s.last);
    const from = continues ? s.count : 0;
    if (continues && from === list.length) return;
    this.sent.set(id, { list, count: list.length, last: list[list.length - 1] });
    void this.post({ kind: 'gradflow/data', modelId: id, reset: !continues, snapshots: list.slice(from) });
  }
}

/** Every gradient-flow panel: one per model, restored after a reload from its page's state. */
export class GradientFlowPanels extends ModelPanels<GradientFlowPanel, string | null, GradFlowPanelDeps> {
  constructor(deps: GradFlowPanelDeps) {
    super(deps, GRADFLOW_VIEW_TYPE, 'Gradient Flow');
  }

  protected create(panel: vscode.WebviewPanel, modelId: string, compare: string | null): GradientFlowPanel {
    return new GradientFlowPanel(panel, this.deps, modelId, compare);
  }

  protected restoredCompare(compare: unknown): string | null {
    return typeof compare === 'string' ? compare : null;
  }

  protected noCompare(): string | null {
    return null;
  }
}
