import * as vscode from 'vscode';
import type { ModelEntry, ModelLibrary } from '../library';
import { panelOptions, type PanelDeps } from './panelBase';

/** What the manager needs of a per-model panel. */
export interface ModelPanel extends vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  readonly onDidDispose: vscode.Event<void>;
}

/**
 * The panels of one view type, one per model: `show` reveals a model's open
 * panel or creates it, and a window reload reopens each from the state its
 * page kept (`modelId`, plus the models it compared with). `C` is that
 * compare selection, `D` what the panels are made with.
 */
export abstract class ModelPanels<P extends ModelPanel, C, D extends PanelDeps & { library: ModelLibrary }> implements vscode.Disposable {
  private readonly panels = new Map<string, P>();
  private readonly disposables: vscode.Disposable[] = [];

  protected constructor(
    protected readonly deps: D,
    private readonly viewType: string,
    /** Panel titles are `${titlePrefix}: ${model name}`. */
    private readonly titlePrefix: string,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const s = state as { modelId?: unknown; compare?: unknown } | undefined;
          const id = typeof s?.modelId === 'string' ? s.modelId : undefined;
          if (!id || !deps.library.get(id)) {
            // The model is gone (or the state unreadable): nothing to restore.
            panel.dispose();
            return;
          }
          this.adopt(panel, id, this.restoredCompare(s?.compare));
        },
      }),
    );
  }

  /** A new panel's host object for `modelId`. */
  protected abstract create(panel: vscode.WebviewPanel, modelId: string, compare: C): P;
  /** The compare selection from a restored page's state (unchecked input). */
  protected abstract restoredCompare(compare: unknown): C;
  /** The compare selection of a freshly shown panel. */
  protected abstract noCompare(): C;

  /** Shows the panel of a model, creating it if needed. */
  show(entry: ModelEntry): P {
    const open = this.panels.get(entry.id);
    if (open) {
      open.panel.reveal(undefined, false);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(this.viewType, `${this.titlePrefix}: ${entry.name}`, vscode.ViewColumn.Beside, panelOptions(this.deps.extensionUri));
    return this.adopt(panel, entry.id, this.noCompare());
  }

  get(modelId: string): P | undefined {
    return this.panels.get(modelId);
  }

  private adopt(panel: vscode.WebviewPanel, modelId: string, compare: C): P {
    const name = this.deps.library.get(modelId)?.name;
    if (name) panel.title = `${this.titlePrefix}: ${name}`;
    const p = this.create(panel, modelId, compare);
    this.panels.set(modelId, p);
    p.onDidDispose(() => {
      if (this.panels.get(modelId) === p) this.panels.delete(modelId);
    });
    return p;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
