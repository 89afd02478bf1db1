/**
 * The Experiment panel's host: one panel per output folder, fed with the
 * experiment's view (from the ExperimentManager while the editor runs it,
 * from the folder's results.jsonl and histories otherwise — the CLI's
 * folders too), at most a few updates a second. It turns the page's actions
 * on selected runs into the commands that act on models.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { FAMILY_NAMES } from '../../engine/models/catalog';
import { parseExperiment, resultsCsv, type ResultRow } from '../../shared/experiment';
import { REPORT_FILE } from '../../shared/experiment/outputDir';
import type { ExperimentAction, ExperimentHostMessage, ExperimentView, ExperimentWebviewMessage } from '../../shared/experimentPanelProtocol';
import { assertNever } from '../../shared/rpc';
import type { ExperimentManager, LiveExperiment } from '../experiments';
import type { ModelEntry } from '../library';
import { checkExperimentWebviewMessage } from './experimentValidate';
import { experimentView, type HistoryCache } from './experimentView';
import { PanelHost, panelOptions, type PanelDeps } from './panelBase';

export const EXPERIMENT_VIEW_TYPE = 'rnnLab.experiment';
const UPDATES_PER_SECOND = 3;

const BODY = `  <main id="app" class="panel experiment" aria-busy="true">
    <p class="placeholder">Loading the experiment…</p>
  </main>`;

interface HostToPage {
  requests: never;
  results: Record<never, never>;
  notifications: ExperimentHostMessage;
}
interface PageToHost {
  requests: never;
  results: Record<never, never>;
  notifications: ExperimentWebviewMessage;
}

export interface ExperimentPanelDeps extends PanelDeps {
  experiments: ExperimentManager;
}

export class ExperimentPanel extends PanelHost<HostToPage, PageToHost> {
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private readonly cache: HistoryCache = new Map();

  constructor(panel: vscode.WebviewPanel, private readonly d: ExperimentPanelDeps, readonly out: string) {
    super(panel, d, 'experiment', BODY, checkExperimentWebviewMessage, out);
    this.disposables.push(
      d.experiments.onDidChange((e) => {
        if (e.out === this.out) this.schedule();
      }),
      { dispose: () => clearTimeout(this.timer) },
    );
  }

  /** The view now (tests read it). */
  view(): ExperimentView {
    return experimentView(this.out, this.d.experiments.get(this.out), this.cache);
  }

  private schedule(): void {
    if (!this.ready || this.timer) return;
    const wait = Math.max(0, 1000 / UPDATES_PER_SECOND - (Date.now() - this.lastSent));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
  }

  private send(): void {
    this.lastSent = Date.now();
    const view = this.view();
    this.panel.title = `Experiment: ${view.name}`;
    void this.post({ kind: 'experiment/data', view });
  }

  protected onMessage(m: ExperimentWebviewMessage): void | Promise<void> {
    switch (m.kind) {
      case 'panel/ready':
        this.ready = true;
        this.send();
        return;
      case 'panel/error':
        this.d.log.appendLine(`experiment panel: ${m.message}`);
        return;
      case 'experiment/action':
        return this.act(m.action, m.runIds);
      default:
        return assertNever(m);
    }
  }

  private rows(ids: readonly string[]): ResultRow[] {
    const rows = this.view().rows;
    return ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is ResultRow => r !== undefined);
  }

  /** The library's model of a finished run (registered on first use, for a CLI's folder). */
  private model(row: ResultRow): ModelEntry {
    const live = this.d.experiments.get(this.out);
    const entry = this.d.experiments.modelOf(this.out, row.id) ?? this.d.experiments.registerModel({ out: this.out, name: live?.name ?? this.view().name }, row);
    if (!entry) throw new Error(`run ${row.id} has no checkpoint to open${row.diverged !== null ? ` (it diverged at step ${row.diverged} before its first save)` : ''}`);
    return entry;
  }

  /** What the page's buttons ask for (its checked message), also for the tests: do `action` with these runs. */
  async act(action: ExperimentAction, ids: string[]): Promise<void> {
    const live = this.d.experiments.get(this.out);
    switch (action) {
      case 'run':
        if (!live) throw new Error('this folder was not started from an experiment file here: open its .rnnlab.json and use Run Experiment');
        await vscode.commands.executeCommand('rnnLab.runExperiment', vscode.Uri.file(live.file));
        return;
      case 'stop':
        await this.d.experiments.stop(this.out);
        return;
      case 'report': {
        const report = path.join(this.out, REPORT_FILE);
        if (!fs.existsSync(report)) throw new Error('no report.html yet: it is written when the first run finishes');
        await vscode.env.openExternal(vscode.Uri.file(report));
        return;
      }
      case 'csv':
        return this.exportCsv(ids);
      default:
        break;
    }
    const rows = this.rows(ids);
    if (rows.length === 0) throw new Error('select one or more finished runs in the table first');
    switch (action) {
      case 'loss':
        for (const r of rows.slice(0, 4)) await vscode.commands.executeCommand('rnnLab.showLoss', this.model(r));
        return;
      case 'completions':
        await vscode.commands.executeCommand('rnnLab.setCompletionModel', this.model(rows[0]!).id);
        return;
      case 'hidden':
        return this.showHidden(rows[0]!, live);
      default:
        return assertNever(action);
    }
  }

  /**
   * Opens the experiment's text and the Hidden States view tracing it with
   * the run's model. Only the view follows the run: the text's completion
   * model stays what it was.
   */
  private async showHidden(row: ResultRow, live: LiveExperiment | undefined): Promise<void> {
    const entry = this.model(row);
    const text = live ? this.firstTextFile(live.file) : undefined;
    if (text) await vscode.window.showTextDocument(vscode.Uri.file(text), { viewColumn: vscode.ViewColumn.One, preview: true });
    await vscode.commands.executeCommand('rnnLab.showHiddenStates', entry.id);
  }

  /** The experiment's first text file (the file was checked when it started; an edit since may have broken it: then none). */
  private firstTextFile(file: string): string | undefined {
    try {
      const spec = parseExperiment(fs.readFileSync(file, 'utf8'), { families: FAMILY_NAMES });
      return spec.text[0] ? path.resolve(path.dirname(file), spec.text[0]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The table as CSV, in the page's order (all rows when none is given). */
  private async exportCsv(ids: string[]): Promise<void> {
    const all = this.view().rows;
    const rows = ids.length > 0 ? this.rows(ids) : all;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(this.out, 'runs.csv')),
      filters: { CSV: ['csv'] },
      saveLabel: 'Export Table',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(resultsCsv(rows)));
  }
}

/** One panel per output folder; a reload reopens each from the folder its page kept. */
export class ExperimentPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ExperimentPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: ExperimentPanelDeps) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(EXPERIMENT_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const out = (state as { out?: unknown } | undefined)?.out;
          if (typeof out !== 'string' || !fs.existsSync(out)) {
            panel.dispose();
            return;
          }
          this.adopt(panel, out);
        },
      }),
    );
  }

  show(out: string): ExperimentPanel {
    const open = this.panels.get(out);
    if (open) {
      open.panel.reveal(undefined, false);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(EXPERIMENT_VIEW_TYPE, `Experiment: ${path.basename(out)}`, vscode.ViewColumn.Beside, panelOptions(this.deps.extensionUri));
    return this.adopt(panel, out);
  }

  get(out: string): ExperimentPanel | undefined {
    return this.panels.get(out);
  }

  private adopt(panel: vscode.WebviewPanel, out: string): ExperimentPanel {
    const p = new ExperimentPanel(panel, this.deps, out);
    this.panels.set(out, p);
    p.onDidDispose(() => {
      if (this.panels.get(out) === p) this.panels.delete(out);
    });
    return p;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
