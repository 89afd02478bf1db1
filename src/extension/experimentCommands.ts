/**
 * The editor's experiment commands: New Experiment… (a starter
 * `*.rnnlab.json` beside a text file), Run / Stop / Show Experiment, and the
 * CodeLens on experiment files that offers them (in Restricted Mode, Run
 * asks first: experimentTrust.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { EXPERIMENT_SUFFIX, experimentFileName, experimentOutputDir, starterExperimentText } from '../shared/experiment';
import { experimentFolderOf } from '../shared/experiment/outputDir';
import type { ExperimentManager, StartOptions } from './experiments';
import { MANAGE_TRUST, MANAGE_TRUST_COMMAND } from './experimentTrust';
import type { Observers } from './observers';
import type { ExperimentPanels } from './panels/experimentPanel';

export interface ExperimentCommandContext {
  experiments: ExperimentManager;
  panels: ExperimentPanels;
  log: vscode.OutputChannel;
  observers: Observers;
}

/** The file a command was run on: its argument, else the active editor's. */
function targetUri(uri: unknown): vscode.Uri | undefined {
  if (uri instanceof vscode.Uri) return uri;
  if (typeof uri === 'string') return vscode.Uri.file(uri);
  return vscode.window.activeTextEditor?.document.uri;
}

function isExperimentFile(uri: vscode.Uri): boolean {
  return uri.path.endsWith(EXPERIMENT_SUFFIX);
}

export function registerExperimentCommands(ctx: ExperimentCommandContext): vscode.Disposable[] {
  const guarded = (id: string, fn: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        ctx.log.appendLine(`error: ${message}`);
        ctx.observers.errorShown(message);
        void vscode.window.showErrorMessage(`RNN Lab: ${message}`);
        return undefined;
      }
    });
  const lenses = new ExperimentCodeLens(ctx.experiments);
  return [
    guarded('rnnLab.newExperiment', (uri?: unknown) => newExperiment(targetUri(uri))),
    guarded('rnnLab.runExperiment', (uri?: unknown, options?: StartOptions) => runExperiment(ctx, targetUri(uri), options)),
    // The same command under the title menus show in Restricted Mode (it asks first there).
    guarded('rnnLab.runExperimentRestricted', (uri?: unknown, options?: StartOptions) => runExperiment(ctx, targetUri(uri), options)),
    guarded('rnnLab.stopExperiment', async (uri?: unknown) => {
      const target = targetUri(uri);
      if (!target) throw new Error('open an experiment file (*.rnnlab.json) first');
      await ctx.experiments.stop(isExperimentFile(target) ? experimentOutputDir(target.fsPath) : target.fsPath);
    }),
    guarded('rnnLab.showExperiment', (uri?: unknown) => showExperiment(ctx, targetUri(uri))),
    vscode.languages.registerCodeLensProvider({ pattern: `**/*${EXPERIMENT_SUFFIX}` }, lenses),
    lenses,
  ];
}

/** Writes `<name>.rnnlab.json` beside the text file and opens it; never overwrites. */
async function newExperiment(uri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  if (!uri || uri.scheme !== 'file') throw new Error('New Experiment needs a text file saved on disk: right-click one in the Explorer');
  if (isExperimentFile(uri)) throw new Error('this is an experiment file already: use Run Experiment');
  const text = uri.fsPath;
  const file = path.join(path.dirname(text), experimentFileName(path.basename(text)));
  if (fs.existsSync(file)) throw new Error(`${path.basename(file)} already exists beside ${path.basename(text)}: open it, or rename it to start another`);
  fs.writeFileSync(file, starterExperimentText(path.basename(text)), { flag: 'wx' });
  const target = vscode.Uri.file(file);
  await vscode.window.showTextDocument(target);
  return target;
}

/** Saves the file if it has edits, checks and queues it, and opens its panel; returns the output folder. */
async function runExperiment(ctx: ExperimentCommandContext, uri: vscode.Uri | undefined, options?: StartOptions): Promise<string | undefined> {
  if (!uri || !isExperimentFile(uri)) throw new Error('Run Experiment needs an experiment file (*.rnnlab.json): create one with New Experiment… on a text file');
  if (uri.scheme !== 'file') throw new Error('Run Experiment needs an experiment file saved on disk');
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
  const exp = await ctx.experiments.start(uri.fsPath, options ?? {});
  if (!exp) return undefined;
  ctx.panels.show(exp.out);
  return exp.out;
}

/** Opens the panel of an experiment file, or of an output folder (the CLI's too: the folder, its results.jsonl or report.html). */
function showExperiment(ctx: ExperimentCommandContext, uri: vscode.Uri | undefined): string {
  if (!uri) throw new Error('choose an experiment file or an experiment\'s output folder');
  const out = isExperimentFile(uri) ? experimentOutputDir(uri.fsPath) : experimentFolderOf(uri.fsPath);
  if (!out || (!fs.existsSync(out) && !ctx.experiments.get(out))) {
    throw new Error(`${path.basename(uri.fsPath)} has no experiment results yet: run it first (its results go to ${path.basename(experimentOutputDir(uri.fsPath))})`);
  }
  ctx.panels.show(out);
  return out;
}

/** ▶ Run Experiment (or the progress and Stop) at the top of every `*.rnnlab.json`. */
class ExperimentCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly subscription: vscode.Disposable;
  private lastState = new Map<string, string>();

  constructor(private readonly experiments: ExperimentManager) {
    // Lenses change with the state and the count of finished runs, not with every step; and when the workspace is trusted.
    this.subscription = vscode.Disposable.from(
      experiments.onDidChange((e) => {
        const key = `${e.state}:${e.rows.length}:${e.running ?? ''}`;
        if (this.lastState.get(e.out) === key) return;
        this.lastState.set(e.out, key);
        this.emitter.fire();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.emitter.fire()),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const uri = document.uri;
    const exp = this.experiments.forFile(uri.fsPath);
    const lens = (title: string, command: string, tooltip: string): vscode.CodeLens => new vscode.CodeLens(top, { title, command, tooltip, arguments: [uri] });
    if (exp && (exp.state === 'running' || exp.state === 'queued')) {
      const planned = exp.planned.length;
      return [
        lens(exp.state === 'queued' ? '$(watch) Queued' : `$(sync~spin) Running: ${exp.rows.length}/${planned || '?'} runs finished`, 'rnnLab.showExperiment', 'Show the Experiment panel'),
        lens('$(debug-stop) Stop', 'rnnLab.stopExperiment', 'Stop after the current step (the run is checkpointed; Run Experiment continues it)'),
      ];
    }
    const lenses = vscode.workspace.isTrusted
      ? [lens('▶ Run Experiment', 'rnnLab.runExperiment', 'Train every run of this experiment (finished runs in its output folder are kept)')]
      : [
          lens(
            '$(shield) Run Experiment (Restricted Mode: asks first)…',
            'rnnLab.runExperimentRestricted',
            'This workspace is not trusted: its experiment file sizes the models, runs and budget, so RNN Lab shows what it would train and write and asks before it starts',
          ),
          new vscode.CodeLens(top, { title: `$(workspace-untrusted) ${MANAGE_TRUST}`, command: MANAGE_TRUST_COMMAND, tooltip: 'Trust this workspace to run its experiments without asking' }),
        ];
    if (uri.scheme === 'file' && fs.existsSync(experimentOutputDir(uri.fsPath))) lenses.push(lens('$(graph) Show Results', 'rnnLab.showExperiment', 'Open the Experiment panel'));
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
