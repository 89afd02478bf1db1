import * as vscode from 'vscode';
import type { ModelEntry, ModelLibrary } from './library';
import type { TrainingManager } from './training';
import { formatCount } from './presets';

const STATE_ICONS: Record<ModelEntry['state'], string> = {
  queued: 'watch',
  training: 'sync~spin',
  paused: 'debug-pause',
  done: 'pass',
  stopped: 'debug-stop',
  failed: 'error',
};

/** An experiment's runs in the tree, under one item named after it. */
export interface ExperimentGroup {
  kind: 'experiment';
  /** The experiment's output folder (its identity). */
  out: string;
  name: string;
}

type Node = ModelEntry | ExperimentGroup;

function isGroup(n: Node): n is ExperimentGroup {
  return (n as ExperimentGroup).kind === 'experiment';
}

/** The Models tree: one item per model, with its state, size and progress; an experiment's models under the experiment. */
export class ModelsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastRefresh = 0;
  private pendingRefresh: NodeJS.Timeout | undefined;

  constructor(
    private readonly library: ModelLibrary,
    private readonly training: TrainingManager,
    private readonly completionModel: () => string | undefined,
  ) {
    this.subscriptions.push(library.onDidChange(() => this.refresh()), training.onDidChange(() => this.refresh()));
  }

  /** At most four redraws a second, however fast a run reports. */
  refresh(): void {
    const wait = 250 - (Date.now() - this.lastRefresh);
    if (wait <= 0) {
      this.lastRefresh = Date.now();
      this.emitter.fire(undefined);
    } else if (!this.pendingRefresh) {
      this.pendingRefresh = setTimeout(() => {
        this.pendingRefresh = undefined;
        this.refresh();
      }, wait);
    }
  }

  getChildren(element?: Node): Node[] {
    const models = [...this.library.list()].sort((a, b) => b.created - a.created);
    if (element) return isGroup(element) ? models.filter((m) => m.experiment?.out === element.out) : [];
    const out: Node[] = [];
    const groups = new Set<string>();
    for (const m of models) {
      if (!m.experiment) out.push(m);
      else if (!groups.has(m.experiment.out)) {
        groups.add(m.experiment.out);
        out.push({ kind: 'experiment', out: m.experiment.out, name: m.experiment.name });
      }
    }
    return out;
  }

  getParent(element: Node): Node | undefined {
    if (isGroup(element) || !element.experiment) return undefined;
    return { kind: 'experiment', out: element.experiment.out, name: element.experiment.name };
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return isGroup(node) ? this.groupItem(node) : this.modelItem(node);
  }

  private groupItem(g: ExperimentGroup): vscode.TreeItem {
    const item = new vscode.TreeItem(g.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `experiment:${g.out}`;
    const runs = this.library.list().filter((m) => m.experiment?.out === g.out);
    const best = runs.map((m) => m.bestValBpc).filter((b): b is number => b !== null).sort((a, b) => a - b)[0];
    item.description = `experiment · ${runs.length} run${runs.length === 1 ? '' : 's'}${best !== undefined ? ` · best ${best.toFixed(3)} bpc` : ''}`;
    item.tooltip = `${g.name}: results in ${g.out}`;
    item.iconPath = new vscode.ThemeIcon('beaker');
    item.contextValue = 'experiment';
    item.command = { command: 'rnnLab.showExperiment', title: 'Show Experiment Results', arguments: [vscode.Uri.file(g.out)] };
    return item;
  }

  private modelItem(m: ModelEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.None);
    item.id = m.id;
    const live = this.training.live(m.id);
    const step = live?.progress?.step ?? m.steps;
    const loss = live?.progress?.loss ?? m.lastLoss;
    const shape = `${m.cell.toUpperCase()} ${m.hidden}×${m.layers}`;
    // Default names already say the shape; don't say it twice.
    const parts = [...(m.name.includes(shape) ? [] : [shape]), `${formatCount(m.params)} params`, `step ${step}`];
    if (loss !== null && loss !== undefined) parts.push(`loss ${loss.toFixed(3)}`);
    if (m.bestValBpc !== null) parts.push(`val ${m.bestValBpc.toFixed(3)} bpc`);
    item.description = `${m.state}${this.completionModel() === m.id ? ' · completions' : ''} · ${parts.join(' · ')}`;
    const sources = m.sources.map((s) => vscode.Uri.parse(s).fsPath || s);
    item.tooltip = new vscode.MarkdownString(
      [
        `**${m.name}** — ${m.state}${m.reason ? `: ${m.reason}` : ''}`,
        `Trained on: ${sources.map((s) => `\`${s}\``).join(', ') || '(imported)'}`,
        `${m.cell.toUpperCase()}, hidden ${m.hidden}, ${m.layers} layer(s), vocabulary ${m.vocabSize}, ${m.params.toLocaleString('en-US')} parameters`,
        `Steps: ${step}${m.bestValLoss !== null ? ` · best validation ${m.bestValLoss.toFixed(4)} nats (${m.bestValBpc!.toFixed(3)} bpc)` : ''}`,
        // The index is a file on disk: show only a plain description, never markup.
        ...(typeof m.kernels === 'string' && /^[\w (),.+-]{1,80}$/.test(m.kernels) ? [`Kernels: ${m.kernels}`] : []),
      ].join('\n\n'),
    );
    item.iconPath = new vscode.ThemeIcon(STATE_ICONS[m.state], m.state === 'failed' ? new vscode.ThemeColor('errorForeground') : undefined);
    // contextValue drives which inline actions the menus show.
    const canResume = (m.state === 'paused' || m.state === 'stopped' || m.state === 'done' || m.state === 'failed') && m.hasCheckpoint && !!m.settings;
    item.contextValue = [
      'model',
      m.state,
      m.hasCheckpoint ? 'hasCheckpoint' : '',
      canResume ? 'canResume' : '',
      m.state === 'training' || m.state === 'queued' ? 'running' : '',
    ].filter(Boolean).join(' ');
    item.command = { command: 'rnnLab.openModel', title: 'Open', arguments: [m] };
    return item;
  }

  dispose(): void {
    if (this.pendingRefresh) clearTimeout(this.pendingRefresh);
    for (const s of this.subscriptions) s.dispose();
    this.emitter.dispose();
  }
}
