import * as vscode from 'vscode';
import type { ModelLibrary } from './library';
import type { LiveRun, TrainingManager } from './training';

/** One status bar item for the run that reported last: step, loss and speed; a click opens it. */
export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rnnLab.training', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;
  private lastDraw = 0;

  constructor(private readonly training: TrainingManager, private readonly library: ModelLibrary) {
    this.item.name = 'RNN Lab Training';
    this.subscription = training.onDidChange((run) => this.update(run));
  }

  private update(run: LiveRun): void {
    const now = Date.now();
    const ended = run.state === 'done' || run.state === 'stopped' || run.state === 'failed';
    // Redraw at most 5 times a second, except for state changes.
    if (!ended && run.state !== 'paused' && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const active = this.training.activeRuns();
    const shown = active.find((r) => r.modelId === run.modelId) ?? active[0];
    if (!shown) {
      this.item.hide();
      return;
    }
    const name = this.library.get(shown.modelId)?.name ?? 'model';
    const p = shown.progress;
    const icon = shown.state === 'paused' ? '$(debug-pause)' : shown.state === 'queued' ? '$(watch)' : '$(sync~spin)';
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    this.item.text = p
      ? `${icon} ${name}: step ${p.step} · loss ${p.loss.toFixed(3)} · ${formatRate(p.charsPerSec)} chars/s${more}`
      : `${icon} ${name}: ${shown.state}${more}`;
    this.item.tooltip = `RNN Lab — ${name} is ${shown.state}. Click to open the run.`;
    this.item.command = { command: 'rnnLab.openModel', title: 'Open run', arguments: [shown.modelId] };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

export function formatRate(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}
