import * as vscode from 'vscode';
import { UserError } from '../engine/errors';
import { parameterCount } from '../engine/memory';
import { FAMILY_INFO, infoOf, takesSetting } from '../engine/models/catalog';
import { resolveRun } from '../engine/run/resolve';
import { extensionNames } from '../engine/run/settings';
import { COMPLETION_MODEL_KEY } from './completions';
import type { InferenceService } from './inference';
import type { LossPanels } from './panels/lossPanel';
import type { GradientFlowPanels } from './panels/gradientFlowPanel';
import type { ModelEntry, ModelLibrary, RunSettings } from './library';
import { projectFolderIn, writePytorchProject } from './exportPytorch';
import { describeEstimate, presets } from './presets';
import { readHostLimits, readRunSettings } from './settings';
import { formatRate } from './statusBar';
import { displayName, distinctChars, MANY_DISTINCT_CHARS, readTrainingText } from './sourceText';
import type { TrainingManager } from './training';
import type { Observers } from './observers';

/** Largest checkpoint the import command reads. */
const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

export interface CommandContext {
  library: ModelLibrary;
  training: TrainingManager;
  inference: InferenceService;
  state: vscode.Memento;
  log: vscode.OutputChannel;
  /** Told of every error message shown to the user. */
  observers: Observers;
  /** The loss chart panels (rnnLab.showLoss). */
  lossPanels?: LossPanels;
  /** The gradient-flow panels (rnnLab.showGradientFlow). */
  gradFlowPanels?: GradientFlowPanels;
}

/**
 * Options for running `rnnLab.train` without its quick pick (keybindings,
 * other extensions, tests): `preset` is tiny, small, medium or settings.
 */
export interface TrainOptions {
  /** tiny, small, medium, gru, a block family's name (its preset), or settings. */
  preset?: string;
  name?: string;
}

type ModelArg = ModelEntry | string | undefined;

/** Registers every command; each failure a user can cause becomes a message, never an exception. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const guarded = (id: string, fn: (...args: never[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        showError(ctx, e);
        return undefined;
      }
    });
  return [
    guarded('rnnLab.train', (uri?: vscode.Uri, uris?: vscode.Uri[], options?: TrainOptions) => trainCommand(ctx, uri, uris, options)),
    guarded('rnnLab.pause', async (m?: ModelArg) => ctx.training.pause((await pickModel(ctx, m, 'training'))!.id)),
    guarded('rnnLab.resume', (m?: ModelArg) => resumeCommand(ctx, m)),
    guarded('rnnLab.stop', async (m?: ModelArg) => {
      const entry = await pickModel(ctx, m, 'running');
      if (entry) await ctx.training.stop(entry.id);
    }),
    guarded('rnnLab.openModel', (m?: ModelArg) => openModelCommand(ctx, m)),
    guarded('rnnLab.showLoss', async (m?: ModelArg) => {
      const entry = await pickModel(ctx, m, 'any');
      if (entry && ctx.lossPanels) ctx.lossPanels.show(entry);
    }),
    guarded('rnnLab.showGradientFlow', async (m?: ModelArg) => {
      const entry = await pickModel(ctx, m, 'any');
      if (entry && ctx.gradFlowPanels) ctx.gradFlowPanels.show(entry);
    }),
    guarded('rnnLab.generate', (m?: ModelArg) => generateCommand(ctx, m)),
    guarded('rnnLab.renameModel', (m?: ModelArg) => renameCommand(ctx, m)),
    guarded('rnnLab.exportModel', (m?: ModelArg, target?: vscode.Uri) => exportCommand(ctx, m, target)),
    guarded('rnnLab.exportPytorchProject', (m?: ModelArg, target?: vscode.Uri) => exportPytorchCommand(ctx, m, target)),
    guarded('rnnLab.importModel', (source?: vscode.Uri) => importCommand(ctx, source)),
    guarded('rnnLab.deleteModel', (m?: ModelArg, confirmed?: boolean) => deleteCommand(ctx, m, confirmed)),
    guarded('rnnLab.setCompletionModel', async (m?: ModelArg) => {
      const entry = await pickModel(ctx, m, 'checkpoint');
      if (!entry) return;
      await ctx.state.update(COMPLETION_MODEL_KEY, entry.id);
      ctx.library.update(entry.id, {});
      void vscode.window.showInformationMessage(`RNN Lab: "${entry.name}" now completes text in files without a model of their own.`);
    }),
  ];
}

function showError(ctx: CommandContext, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  ctx.log.appendLine(`error: ${message}`);
  ctx.observers.errorShown(message);
  if (/^rnnLab\.[\w.]+ must/.test(message)) {
    // Not awaited: the command is over; the button only matters if the user clicks it.
    void vscode.window.showErrorMessage(`RNN Lab: ${message}`, 'Open Settings').then((action) => {
      if (action) void vscode.commands.executeCommand('workbench.action.openSettings', message.split(' ')[0]);
    });
    return;
  }
  const known = e instanceof UserError;
  void vscode.window.showErrorMessage(`RNN Lab: ${message}${known ? '' : ' (see the RNN Lab output for details)'}`);
}

/** Resolves a command's model argument, or asks. `need` filters what the command can act on. */
async function pickModel(ctx: CommandContext, arg: ModelArg, need: 'any' | 'training' | 'running' | 'checkpoint' | 'resumable'): Promise<ModelEntry | undefined> {
  if (typeof arg === 'string') return ctx.library.get(arg) ?? failNoModel();
  if (arg && typeof arg === 'object' && 'id' in arg) return ctx.library.get(arg.id) ?? failNoModel();
  const fits = (m: ModelEntry): boolean => {
    switch (need) {
      case 'any': return true;
      case 'training': return m.state === 'training';
      case 'running': return m.state === 'training' || m.state === 'queued' || m.state === 'paused';
      case 'checkpoint': return m.hasCheckpoint;
      case 'resumable': return m.hasCheckpoint && !!m.settings && m.state !== 'training' && m.state !== 'queued';
    }
  };
  const candidates = ctx.library.list().filter(fits);
  if (candidates.length === 0) {
    throw new UserError(need === 'training' || need === 'running' ? 'no model is training right now' : 'there is no model for this yet: train one first (right-click a text file → RNN Lab: Train Model on This File)');
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((m) => ({ label: m.name, description: `${m.state} · step ${m.steps}`, m })),
    { placeHolder: 'Choose a model' },
  );
  return picked?.m;
}

function failNoModel(): never {
  throw new UserError('that model no longer exists');
}

async function trainCommand(ctx: CommandContext, uri?: vscode.Uri, uris?: vscode.Uri[], options: TrainOptions = {}): Promise<ModelEntry | undefined> {
  // A keybinding passes its args object first.
  if (uri && !(uri instanceof vscode.Uri)) {
    options = uri as TrainOptions;
    uri = undefined;
  }
  const targets = uris && uris.length > 0 ? uris : uri ? [uri] : vscode.window.activeTextEditor ? [vscode.window.activeTextEditor.document.uri] : [];
  if (targets.length === 0) throw new UserError('open or select a text file to train on');
  // Measured in the inference worker while the files are read; without it the estimates leave out the times.
  const gflops = options.preset ? undefined : ctx.inference.machineGflops().catch((e: unknown) => {
    ctx.log.appendLine(`no time estimates: ${(e as Error).message}`);
    return undefined;
  });
  const texts: string[] = [];
  for (const t of targets) texts.push(await readTrainingText(t));
  const text = texts.join('\n');
  const vocabSize = distinctChars(text);
  if (vocabSize > MANY_DISTINCT_CHARS && !options.preset) {
    const go = await vscode.window.showWarningMessage(
      `RNN Lab: this text has ${vocabSize.toLocaleString('en-US')} distinct characters, so every model of it has a very large input and output layer. Train anyway?`,
      { modal: true },
      'Train Anyway',
    );
    if (!go) return undefined;
  }
  const settings = options.preset ? presetSettings(options.preset, targets[0]) : await choosePreset(text.length, vocabSize, targets[0], gflops ?? Promise.resolve(undefined));
  if (!settings) return undefined;
  const label = targets.length === 1 ? displayName(targets[0]!) : `${displayName(targets[0]!)} +${targets.length - 1}`;
  const name = options.name ?? `${label} · ${infoOf(settings.model.cell).title} ${settings.model.hidden}×${settings.model.layers}`;
  const entry = ctx.training.start(name, targets, text, settings);
  const queued = ctx.training.live(entry.id)?.state === 'queued' && ctx.training.activeRuns().filter((r) => r.state === 'training').length > 0;
  if (queued) {
    void vscode.window.showInformationMessage(`RNN Lab: "${name}" is queued and starts when the current run ends (setting rnnLab.training.maxConcurrentRuns).`);
  }
  showRunProgress(ctx, entry);
  return entry;
}

/**
 * A cancellable notification while the run trains; cancelling stops the run
 * (its checkpoint is kept). The notification closes when the run ends; the
 * outcome is then a message of its own, which the user may leave open.
 */
function showRunProgress(ctx: CommandContext, entry: ModelEntry): void {
  const training = vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `RNN Lab: training ${entry.name}`, cancellable: true },
    async (progress, token) => {
      let lastStep = 0;
      const max = entry.settings?.maxSteps ?? 0;
      const sub = ctx.training.onDidChange((run) => {
        if (run.modelId !== entry.id || !run.progress) return;
        const p = run.progress;
        const increment = max > 0 ? ((p.step - lastStep) / max) * 100 : undefined;
        lastStep = p.step;
        progress.report({ message: `step ${p.step}${max ? `/${max}` : ''} · loss ${p.loss.toFixed(3)} · ${formatRate(p.charsPerSec)} chars/s`, increment });
      });
      const cancel = token.onCancellationRequested(() => void ctx.training.stop(entry.id));
      try {
        await ctx.training.whenEnded(entry.id);
      } finally {
        sub.dispose();
        cancel.dispose();
      }
    },
  );
  void training.then(() => announceRunEnd(ctx, entry.id));
}

/** Says how a run ended: an error with the output at hand, or the result with Generate Text. */
async function announceRunEnd(ctx: CommandContext, modelId: string): Promise<void> {
  const final = ctx.library.get(modelId);
  if (final?.state === 'failed') {
    const message = `training "${final.name}" failed: ${final.reason ?? 'unknown reason'}`;
    ctx.observers.errorShown(message);
    const action = await vscode.window.showErrorMessage(`RNN Lab: ${message}`, 'Show Output');
    if (action) ctx.log.show();
  } else if (final) {
    const bpc = final.bestValBpc !== null ? `, validation ${final.bestValBpc.toFixed(3)} bits/char` : '';
    const action = await vscode.window.showInformationMessage(`RNN Lab: "${final.name}" ${final.state} at step ${final.steps}${bpc}.`, 'Generate Text');
    if (action) await vscode.commands.executeCommand('rnnLab.generate', final.id);
  }
}

function presetSettings(preset: NonNullable<TrainOptions['preset']>, scope: vscode.Uri | undefined): RunSettings {
  if (preset === 'settings') return readRunSettings(scope);
  const found = presets().find((p) => p.id === preset);
  if (!found) throw new UserError(`unknown preset ${JSON.stringify(preset)}: use tiny, small, medium, gru, a block family's name or settings`);
  return found.settings;
}

/** rnnLab.training.threads, or 0 (automatic) where it is out of range: the run itself will say so. */
function threadsSetting(): number {
  try {
    return readHostLimits().threads;
  } catch {
    return 0;
  }
}

type PresetItem = vscode.QuickPickItem & { settings?: RunSettings; custom?: boolean };

/**
 * The presets quick pick. It opens at once; the time estimates join the rows
 * when the machine's speed is measured (a cold worker on a busy machine can take
 * seconds, and the user should not wait on them to choose).
 */
async function choosePreset(chars: number, vocabSize: number, scope: vscode.Uri | undefined, gflops: Promise<number[] | undefined>): Promise<RunSettings | undefined> {
  let mine: RunSettings | undefined;
  let mineError: string | undefined;
  try {
    mine = readRunSettings(scope);
  } catch (e) {
    mineError = (e as Error).message;
  }
  const threads = threadsSetting();
  const rows = (speed: number[] | undefined): PresetItem[] => [
    ...presets().map((p) => ({ label: p.label, description: p.detail, detail: describeEstimate(p.settings, vocabSize, chars, speed, threads), settings: p.settings })),
    { label: 'Custom…', description: 'choose the cell, size and length of the run', custom: true },
    {
      label: 'Use My Settings',
      description: mine ? `${infoOf(mine.model.cell).title} ${mine.model.hidden}×${mine.model.layers} from rnnLab.* settings` : `invalid: ${mineError}`,
      ...(mine ? { detail: describeEstimate(mine, vocabSize, chars, speed, threads), settings: mine } : {}),
    },
  ];
  const pick = vscode.window.createQuickPick<PresetItem>();
  pick.placeholder = 'How large a model?';
  pick.matchOnDescription = true;
  pick.items = rows(undefined);
  let open = true;
  let measured: number[] | undefined;
  void gflops.then((speed) => {
    measured = speed;
    if (!open || speed === undefined) return;
    const active = pick.activeItems[0]?.label;
    pick.items = rows(speed);
    const again = pick.items.find((i) => i.label === active);
    if (again) pick.activeItems = [again];
  });
  const picked = await new Promise<PresetItem | undefined>((resolve) => {
    pick.onDidAccept(() => resolve(pick.selectedItems[0] ?? pick.activeItems[0]));
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  open = false;
  pick.dispose();
  if (!picked) return undefined;
  if (picked.label === 'Use My Settings' && !mine) throw new UserError(mineError!);
  if (!picked.custom) return picked.settings;
  return customSettings(mine ?? presets()[1]!.settings, vocabSize, chars, () => measured);
}

/** `gflops` reads the machine's speed when the settings are chosen (undefined while it is still measured). */
async function customSettings(base: RunSettings, vocabSize: number, chars: number, gflops: () => number[] | undefined): Promise<RunSettings | undefined> {
  // The current family first, then the registry's order.
  const families = Object.values(FAMILY_INFO).sort((a, b) => Number(b.name === base.model.cell) - Number(a.name === base.model.cell));
  const cell = await vscode.window.showQuickPick(
    families.map((f) => ({ label: f.name, description: f.description })),
    { placeHolder: 'Model family' },
  );
  if (!cell) return undefined;
  const askInt = async (prompt: string, value: number, min: number, max: number): Promise<number | undefined> => {
    const v = await vscode.window.showInputBox({
      prompt,
      value: String(value),
      validateInput: (s) => (/^\d+$/.test(s.trim()) && +s >= min && +s <= max ? undefined : `a whole number from ${min} to ${max}`),
    });
    return v === undefined ? undefined : Number(v);
  };
  const hidden = await askInt('Hidden units per layer', base.model.hidden, 1, 4096);
  if (hidden === undefined) return undefined;
  const layers = await askInt('Layers', base.model.layers, 1, 4);
  if (layers === undefined) return undefined;
  const cellType = cell.label as RunSettings['model']['cell'];
  // The family's own settings beyond width and depth (gpt's heads and context).
  const own: Record<string, number> = {};
  const current = base.model as unknown as Record<string, unknown>;
  for (const s of infoOf(cellType).settings) {
    if ('choices' in s) continue;
    const derived = s.default === undefined;
    const start = typeof current[s.name] === 'number' && base.model.cell === cellType ? (current[s.name] as number) : (s.default ?? 0);
    const v = await askInt(`${s.help}${derived ? ' (0 = its default)' : ''}`, derived ? 0 : start, derived ? 0 : s.min, s.max);
    if (v === undefined) return undefined;
    if (!(derived && v === 0)) own[s.name] = v;
  }
  const steps = await askInt('Training steps (0 = until stopped)', base.maxSteps, 0, 1e9);
  if (steps === undefined) return undefined;
  // relu/sigmoid belong to the families with an activation setting (the vanilla RNN); the others use tanh (the resolver refuses anything else).
  const activation = takesSetting(cellType, 'activation') ? base.model.activation : 'tanh';
  // Resolved as the settings would be: the family's checks, its window-derived settings and (a family with a
  // training recipe) its defaults in place of the base's training settings.
  const recipe = infoOf(cellType).trainDefaults !== undefined;
  const r = resolveRun(
    { cell: cellType, activation, hidden, layers, ...own, seq: base.train.seq, batch: base.train.batch, maxSteps: steps },
    null,
    extensionNames,
  );
  const settings: RunSettings = { ...base, model: r.model, train: recipe ? r.train : base.train, maxSteps: steps };
  const params = parameterCount({ ...settings.model, vocabSize });
  void vscode.window.setStatusBarMessage(`RNN Lab: ${describeEstimate(settings, vocabSize, chars, gflops(), threadsSetting())} (${params} parameters)`, 5000);
  return settings;
}

async function resumeCommand(ctx: CommandContext, arg: ModelArg): Promise<void> {
  const live = typeof arg === 'string' ? ctx.training.live(arg) : arg ? ctx.training.live(arg.id) : undefined;
  if (live?.state === 'paused') {
    ctx.training.resume(live.modelId, '');
    return;
  }
  const entry = await pickModel(ctx, arg, 'resumable');
  if (!entry) return;
  const sources = entry.sources.map((s) => vscode.Uri.parse(s));
  const texts: string[] = [];
  for (const s of sources) texts.push(await readTrainingText(s));
  ctx.training.resume(entry.id, texts.join('\n'));
  showRunProgress(ctx, entry);
}

async function openModelCommand(ctx: CommandContext, arg: ModelArg): Promise<void> {
  const entry = await pickModel(ctx, arg, 'any');
  if (!entry) return;
  const live = ctx.training.live(entry.id);
  const actions: { label: string; command: string }[] = [
    { label: '$(graph-line) Show Loss Chart', command: 'rnnLab.showLoss' },
    { label: '$(pulse) Show Gradient Flow', command: 'rnnLab.showGradientFlow' },
  ];
  if (live?.state === 'training') actions.push({ label: '$(debug-pause) Pause', command: 'rnnLab.pause' });
  if (live) actions.push({ label: '$(debug-stop) Stop', command: 'rnnLab.stop' });
  if (!live?.state || live.state === 'paused') {
    if (entry.hasCheckpoint && entry.settings) actions.push({ label: '$(debug-start) Resume Training', command: 'rnnLab.resume' });
  }
  if (entry.hasCheckpoint) {
    actions.push(
      { label: '$(sparkle) Generate Text', command: 'rnnLab.generate' },
      { label: '$(lightbulb) Use for Completions', command: 'rnnLab.setCompletionModel' },
      { label: '$(export) Export…', command: 'rnnLab.exportModel' },
    );
  }
  actions.push({ label: '$(edit) Rename…', command: 'rnnLab.renameModel' }, { label: '$(trash) Delete…', command: 'rnnLab.deleteModel' });
  const picked = await vscode.window.showQuickPick(actions, {
    placeHolder: `${entry.name} — ${entry.state}${entry.reason ? ` (${entry.reason})` : ''}, step ${live?.progress?.step ?? entry.steps}`,
  });
  if (picked) await vscode.commands.executeCommand(picked.command, entry.id);
}

async function generateCommand(ctx: CommandContext, arg: ModelArg): Promise<vscode.TextDocument | undefined> {
  const editor = vscode.window.activeTextEditor;
  const entry =
    arg === undefined && editor
      ? ctx.library.newestFor(editor.document.uri.toString()) ?? (await pickModel(ctx, arg, 'checkpoint'))
      : await pickModel(ctx, arg, 'checkpoint');
  if (!entry) return undefined;
  const prime = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const c = vscode.workspace.getConfiguration('rnnLab.generate');
  const doc = await vscode.workspace.openTextDocument({ content: prime, language: 'plaintext' });
  const view = await vscode.window.showTextDocument(doc, { preview: false });
  // Chunks are appended in order; edits are chained so none overtakes another.
  let chain = Promise.resolve();
  const append = (text: string): void => {
    chain = chain.then(async () => {
      const end = doc.lineAt(doc.lineCount - 1).range.end;
      await view.edit((b) => b.insert(end, text), { undoStopBefore: false, undoStopAfter: false });
    });
  };
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `RNN Lab: generating with ${entry.name}`, cancellable: true },
    async (_p, token) => {
      await ctx.inference.sample(
        entry.id,
        prime,
        {
          length: c.get<number>('length', 500),
          temperature: c.get<number>('temperature', 0.8),
          topK: 0,
          topP: c.get<number>('topP', 0.95),
          seed: Math.floor(Math.random() * 2 ** 31),
        },
        append,
        token,
      );
      await chain;
    },
  );
  return doc;
}

async function renameCommand(ctx: CommandContext, arg: ModelArg): Promise<void> {
  const entry = await pickModel(ctx, arg, 'any');
  if (!entry) return;
  const name = await vscode.window.showInputBox({
    prompt: 'New name',
    value: entry.name,
    validateInput: (s) => (s.trim().length === 0 ? 'the name cannot be empty' : s.length > 200 ? 'at most 200 characters' : undefined),
  });
  if (name) ctx.library.update(entry.id, { name: name.trim() });
}

async function exportCommand(ctx: CommandContext, arg: ModelArg, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const entry = await pickModel(ctx, arg, 'checkpoint');
  if (!entry) return undefined;
  if (!entry.hasCheckpoint) throw new UserError(`"${entry.name}" has no saved checkpoint yet`);
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  const safeName = entry.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  const uri =
    target ??
    (await vscode.window.showSaveDialog({
      ...(base ? { defaultUri: vscode.Uri.joinPath(base, `${safeName}.safetensors`) } : {}),
      filters: { 'safetensors (PyTorch state_dict)': ['safetensors'] },
    }));
  if (!uri) return undefined;
  // Writing to a FIFO would block, and a device or folder of that name is not a file to replace.
  const existing = await vscode.workspace.fs.stat(uri).then((st) => st, () => null);
  if (existing && !(existing.type & vscode.FileType.File)) {
    throw new UserError(`cannot export to ${uri.fsPath || uri.toString()}: it exists and is not a regular file; choose another name`);
  }
  await vscode.workspace.fs.writeFile(uri, ctx.library.readCheckpoint(entry.id));
  if (!target) void vscode.window.showInformationMessage(`RNN Lab: exported "${entry.name}" to ${uri.fsPath || uri.toString()}. Load it in PyTorch with load_state_dict (see the README).`);
  return uri;
}

async function exportPytorchCommand(ctx: CommandContext, arg: ModelArg, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const entry = await pickModel(ctx, arg, 'checkpoint');
  if (!entry) return undefined;
  if (!entry.hasCheckpoint) throw new UserError(`"${entry.name}" has no saved checkpoint yet`);
  let folder = target;
  if (!folder) {
    const parent = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Export Here',
      title: `Export "${entry.name}" as a PyTorch project (a new folder is made inside the one you pick)`,
      ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {}),
    });
    if (!parent?.[0]) return undefined;
    folder = projectFolderIn(parent[0], entry);
  }
  await writePytorchProject(entry, ctx.library.readCheckpoint(entry.id), folder);
  if (!target) {
    const open = await vscode.window.showInformationMessage(
      `RNN Lab: wrote a PyTorch project for "${entry.name}" to ${folder.fsPath}. Its README says how to train on under torchrun.`,
      'Open README',
    );
    if (open) await vscode.window.showTextDocument(vscode.Uri.joinPath(folder, 'README.md'));
  }
  return folder;
}

async function importCommand(ctx: CommandContext, source?: vscode.Uri): Promise<ModelEntry | undefined> {
  const uri =
    source ??
    (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'safetensors': ['safetensors'] }, openLabel: 'Import Model' }))?.[0];
  if (!uri) return undefined;
  const stat = await vscode.workspace.fs.stat(uri);
  if (stat.size > MAX_IMPORT_BYTES) throw new UserError(`${displayName(uri)} is larger than 1 GiB: not an RNN Lab checkpoint`);
  const bytes = await vscode.workspace.fs.readFile(uri);
  // The file is untrusted: the engine's hostile-file checks run (in the inference worker) before anything is kept.
  let c;
  try {
    c = await ctx.inference.inspectCheckpoint(bytes);
  } catch (e) {
    throw new UserError(`cannot import ${displayName(uri)}: ${(e as Error).message}`);
  }
  const entry = ctx.library.create({
    name: c.name ?? displayName(uri).replace(/\.safetensors$/, ''),
    sources: [],
    cell: c.cell,
    hidden: c.hidden,
    layers: c.layers,
    vocabSize: c.vocabSize,
    params: c.params,
    steps: c.steps,
    lastLoss: null,
    bestValLoss: null,
    bestValBpc: null,
    state: 'done',
    hasCheckpoint: false,
  });
  ctx.library.saveCheckpoint(entry.id, bytes);
  if (!source) void vscode.window.showInformationMessage(`RNN Lab: imported "${entry.name}" (${infoOf(c.cell).title} ${c.hidden}×${c.layers}).`);
  return ctx.library.get(entry.id);
}

async function deleteCommand(ctx: CommandContext, arg: ModelArg, confirmed?: boolean): Promise<void> {
  const entry = await pickModel(ctx, arg, 'any');
  if (!entry) return;
  if (!confirmed) {
    const ok = await vscode.window.showWarningMessage(`Delete the model "${entry.name}" and its checkpoint? This cannot be undone.`, { modal: true }, 'Delete');
    if (ok !== 'Delete') return;
  }
  await ctx.training.stop(entry.id);
  await ctx.inference.unload(entry.id);
  if (ctx.state.get(COMPLETION_MODEL_KEY) === entry.id) await ctx.state.update(COMPLETION_MODEL_KEY, undefined);
  ctx.library.delete(entry.id);
}
