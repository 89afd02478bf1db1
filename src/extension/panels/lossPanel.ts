import * as os from 'node:os';
import * as vscode from 'vscode';
import type { HostToLossPage, LossModelInfo, LossPageToHost, LossWebviewMessage } from '../../shared/lossProtocol';
import { assertNever } from '../../shared/rpc';
import type { ModelEntry, ModelLibrary } from '../library';
import type { LiveRun, TrainingManager } from '../training';
import { progressChunk, validationChunk } from '../../shared/panels/lossData';
import { ModelPanels } from './modelPanels';
import { PanelHost, type PanelDeps } from './panelBase';
import { checkLossWebviewMessage, pngBytes } from './validate';

export const LOSS_VIEW_TYPE = 'rnnLab.loss';

/** The host sends a panel at most this many updates per second. */
const UPDATES_PER_SECOND = 4;

const BODY = `  <main id="app" class="panel" aria-busy="true">
    <p class="placeholder">Loading the loss chart…</p>
  </main>`;

export interface LossPanelDeps extends PanelDeps {
  library: ModelLibrary;
  training: TrainingManager;
}

/** What was sent of one model, so the next update carries only the new points. */
interface Sent {
  progressArray: readonly unknown[] | null;
  progressCount: number;
  lastProgress: unknown;
  validationArray: readonly unknown[] | null;
  validationCount: number;
}

function modelInfo(m: ModelEntry): LossModelInfo {
  return {
    id: m.id,
    name: m.name,
    cell: m.cell,
    hidden: m.hidden,
    layers: m.layers,
    params: m.params,
    vocabSize: m.vocabSize,
    state: m.state,
    steps: m.steps,
    ...(m.settings
      ? { optimizer: m.settings.train.optimizer, lr: m.settings.train.lr, batch: m.settings.train.batch, seq: m.settings.train.seq }
      : {}),
    bestValLoss: m.bestValLoss,
  };
}

/**
 * One loss chart per model: training and validation loss (and learning rate,
 * throughput), live while the model trains, with other models overlaid.
 */
export class LossPanel extends PanelHost<HostToLossPage, LossPageToHost> {
  private compare: string[];
  private readonly sent = new Map<string, Sent>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private ready = false;

  constructor(panel: vscode.WebviewPanel, private readonly d: LossPanelDeps, readonly modelId: string, compare: string[] = []) {
    super(panel, d, 'loss', BODY, checkLossWebviewMessage, modelId);
    this.compare = compare.filter((id) => id !== modelId && d.library.get(id));
    this.disposables.push(
      d.training.onDidChange((run) => this.onRunChanged(run)),
      d.library.onDidChange(() => this.onLibraryChanged()),
      { dispose: () => clearTimeout(this.timer) },
    );
  }

  get shownModels(): string[] {
    return [this.modelId, ...this.compare];
  }

  protected onMessage(m: LossWebviewMessage): void | Promise<void> {
    switch (m.kind) {
      case 'panel/ready':
        // A new page (first load, reload, or shown again after being hidden): everything at once.
        this.ready = true;
        this.sent.clear();
        void this.post({ kind: 'loss/init', models: this.modelInfos(), primary: this.modelId, compare: this.compare });
        for (const id of this.shownModels) this.sendData(id);
        return;
      case 'panel/error':
        this.d.log.appendLine(`loss panel: ${m.message}`);
        return;
      case 'loss/compare': {
        const next = m.modelIds.filter((id) => id !== this.modelId && this.d.library.get(id));
        for (const id of this.compare) {
          if (!next.includes(id)) {
            this.sent.delete(id);
            void this.post({ kind: 'loss/remove', modelId: id });
          }
        }
        const added = next.filter((id) => !this.compare.includes(id));
        this.compare = next;
        for (const id of added) this.sendData(id);
        return;
      }
      case 'panel/export':
        return this.export(m.format, m.fileName, m.data);
      default:
        return assertNever(m);
    }
  }

  private modelInfos(): LossModelInfo[] {
    return this.d.library.list().map(modelInfo);
  }

  private onLibraryChanged(): void {
    if (!this.d.library.get(this.modelId)) {
      // The model was deleted: its chart has nothing left to show.
      this.dispose();
      return;
    }
    const name = this.d.library.get(this.modelId)?.name;
    if (name && this.panel.title !== `Loss: ${name}`) this.panel.title = `Loss: ${name}`;
    const gone = this.compare.filter((id) => !this.d.library.get(id));
    if (gone.length) {
      this.compare = this.compare.filter((id) => !gone.includes(id));
      for (const id of gone) void this.post({ kind: 'loss/remove', modelId: id });
    }
    if (this.ready && this.panel.visible) void this.post({ kind: 'loss/models', models: this.modelInfos() });
  }

  private onRunChanged(run: LiveRun): void {
    if (!this.shownModels.includes(run.modelId)) return;
    this.dirty.add(run.modelId);
    this.schedule();
  }

  /** At most UPDATES_PER_SECOND flushes, and none while the panel is hidden. */
  private schedule(): void {
    if (this.timer || !this.ready || !this.panel.visible || this.isDisposed) return;
    const wait = Math.max(0, 1000 / UPDATES_PER_SECOND - (Date.now() - this.lastFlush));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (!this.ready || !this.panel.visible || this.isDisposed) return;
    this.lastFlush = Date.now();
    for (const id of [...this.dirty]) {
      this.dirty.delete(id);
      this.sendData(id);
    }
  }

  protected override onVisibilityChanged(visible: boolean): void {
    if (visible && this.dirty.size > 0) this.schedule();
  }

  /** Sends the points of `id` not sent yet, or all of them when the history was replaced or thinned. */
  private sendData(id: string): void {
    const h = this.d.training.history(id);
    const s = this.sent.get(id);
    const continues =
      s !== undefined &&
      s.progressArray === h.progress &&
      s.validationArray === h.validation &&
      h.progress.length >= s.progressCount &&
      (s.progressCount === 0 || h.progress[s.progressCount - 1] === s.lastProgress) &&
      h.validation.length >= s.validationCount;
    const fromP = continues ? s.progressCount : 0;
    const fromV = continues ? s.validationCount : 0;
    if (continues && fromP === h.progress.length && fromV === h.validation.length) return;
    this.sent.set(id, {
      progressArray: h.progress,
      progressCount: h.progress.length,
      lastProgress: h.progress[h.progress.length - 1],
      validationArray: h.validation,
      validationCount: h.validation.length,
    });
    void this.post({
      kind: 'loss/data',
      modelId: id,
      reset: !continues,
      progress: progressChunk(h.progress, fromP),
      validation: validationChunk(h.validation, fromV),
    });
  }

  private async export(format: 'png' | 'csv', fileName: string, data: string): Promise<void> {
    const bytes = format === 'png' ? pngBytes(data) : new TextEncoder().encode(data);
    const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(base, fileName),
      filters: format === 'png' ? { 'PNG image': ['png'] } : { 'CSV': ['csv'] },
      saveLabel: format === 'png' ? 'Save Chart' : 'Save Data',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`RNN Lab: saved ${target.fsPath || target.toString()}`);
  }
}

/** Every loss panel: one per model, reopened after a window reload from the state its page kept. */
export class LossPanels extends ModelPanels<LossPanel, string[], LossPanelDeps> {
  constructor(deps: LossPanelDeps) {
    super(deps, LOSS_VIEW_TYPE, 'Loss');
  }

  protected create(panel: vscode.WebviewPanel, modelId: string, compare: string[]): LossPanel {
    return new LossPanel(panel, this.deps, modelId, compare);
  }

  protected restoredCompare(compare: unknown): string[] {
    return Array.isArray(compare) ? compare.filter((x): x is string => typeof x === 'string') : [];
  }

  protected noCompare(): string[] {
    return [];
  }
}
