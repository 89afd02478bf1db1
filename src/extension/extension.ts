import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { COMPLETION_MODEL_KEY, RnnCompletionProvider } from './completions';
import { InferenceService } from './inference';
import { ModelLibrary } from './library';
import { ModelsTreeProvider } from './modelsView';
import { HiddenStates } from './panels/hiddenStates';
import { LossPanels } from './panels/lossPanel';
import { GradientFlowPanels } from './panels/gradientFlowPanel';
import { readHostLimits } from './settings';
import { CompletionsStatusBar } from './completionsStatus';
import { TrainingStatusBar } from './statusBar';
import { TrainingManager } from './training';
import { openWalkthroughOnFirstInstall, registerWalkthrough } from './walkthrough';
import { Observers, type RnnLabObserver } from './observers';
import { registerExperimentCommands } from './experimentCommands';
import { ExperimentManager } from './experiments';
import { ExperimentPanels } from './panels/experimentPanel';

let training: TrainingManager | undefined;
let experiments: ExperimentManager | undefined;

/** What tests (and other extensions) can reach through `getExtension(...).exports`. */
export interface RnnLabApi {
  library: ModelLibrary;
  training: TrainingManager;
  inference: InferenceService;
  completions: RnnCompletionProvider;
  /** Watch the messages shown to the user and what the panels exchange; dispose to stop. */
  observe(observer: RnnLabObserver): vscode.Disposable;
  /** The loss chart panels. */
  lossPanels: LossPanels;
  /** Hidden States: the side bar's view and its editor panel. */
  hiddenStates: HiddenStates;
  /** The gradient-flow panels. */
  gradFlowPanels: GradientFlowPanels;
  /** Experiments started in the editor, and their panels. */
  experiments: ExperimentManager;
  experimentPanels: ExperimentPanels;
  /** The completions status-bar item (what it shows). */
  completionsStatus: CompletionsStatusBar;
}

export function activate(context: vscode.ExtensionContext): RnnLabApi {
  const log = vscode.window.createOutputChannel('RNN Lab');
  const library = new ModelLibrary(context.globalStorageUri.fsPath);
  const dist = path.join(context.extensionPath, 'dist');
  training = new TrainingManager(library, path.join(dist, 'trainer-worker.js'), readHostLimitsSafe(log), log);
  const inference = new InferenceService(library, path.join(dist, 'inference-worker.js'), log);
  const completions = new RnnCompletionProvider(library, inference, context.globalState, log);
  const observers = new Observers();
  const panelDeps = { extensionUri: context.extensionUri, log, observers, library, training };
  const lossPanels = new LossPanels(panelDeps);
  const gradFlowPanels = new GradientFlowPanels({ ...panelDeps, inference });
  const hiddenStates = new HiddenStates({ ...panelDeps, inference, completions });
  const completionsStatus = new CompletionsStatusBar(completions, library);
  const tree = new ModelsTreeProvider(library, training, () => context.globalState.get<string>(COMPLETION_MODEL_KEY));
  experiments = new ExperimentManager(training, library, path.join(dist, 'experiment-worker.js'), readHostLimitsSafe(log), context.workspaceState, log, observers);
  const experimentPanels = new ExperimentPanels({ ...panelDeps, experiments });

  context.subscriptions.push(
    log,
    training,
    inference,
    tree,
    new TrainingStatusBar(training, library),
    completionsStatus,
    lossPanels,
    hiddenStates,
    gradFlowPanels,
    training.onDidSaveCheckpoint((id) => inference.invalidate(id)),
    vscode.window.registerTreeDataProvider('rnnLab.models', tree),
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, completions),
    ...registerCommands({ library, training, inference, state: context.globalState, log, observers, lossPanels, gradFlowPanels }),
    experiments,
    experimentPanels,
    ...registerExperimentCommands({ experiments, panels: experimentPanels, log, observers }),
    ...registerWalkthrough({ context, library }),
  );
  // Experiments that were training when the window closed or reloaded continue (in Restricted Mode, see restore).
  experiments.restore();
  void openWalkthroughOnFirstInstall(context).catch((e: unknown) => log.appendLine(`walkthrough: ${(e as Error).message}`));
  const manager = experiments;
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => manager.restore()));
  return { library, training, inference, completions, observe: (o) => observers.add(o), lossPanels, gradFlowPanels, hiddenStates, experiments, experimentPanels, completionsStatus };
}


/** Limits are read at each use so a settings change applies to the next run; a bad value falls back with a note. */
function readHostLimitsSafe(log: vscode.OutputChannel) {
  return () => {
    try {
      return readHostLimits();
    } catch (e) {
      log.appendLine(`${(e as Error).message}; using the defaults`);
      void vscode.window.showWarningMessage(`RNN Lab: ${(e as Error).message}; using the default instead.`);
      return { checkpointSeconds: 30, maxMemoryBytes: 2048 * 1024 * 1024, maxConcurrentRuns: 1, threads: 0 };
    }
  };
}

/** Asks running trainers for a last checkpoint, then stops the threads. */
export async function deactivate(): Promise<void> {
  await Promise.all([training?.shutdown(), experiments?.shutdown()]);
  experiments = undefined;
  training = undefined;
}
