import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HiddenPageToHost, HiddenQuantity, HiddenStatusMessage, HiddenWebviewMessage, HostToHiddenPage } from '../../shared/hiddenStatesProtocol';
import type { InferTraceResult } from '../../shared/inferenceProtocol';
import { assertNever, type Rpc } from '../../shared/rpc';
import type { RnnCompletionProvider } from '../completions';
import type { InferenceService } from '../inference';
import type { ModelLibrary } from '../library';
import type { TrainingManager } from '../training';
import { makeNonce, renderPanelHtml } from './html';
import {
  attentionMessage,
  capText,
  charOffsets,
  CONTEXT_LINES,
  DECORATION_LEVELS,
  levelRuns,
  matrixMessage,
  neuronLevels,
  traceMessage,
} from '../../shared/panels/hiddenStatesData';
import { panelResourceRoots, type PanelDeps } from './panelBase';
import { panelChannel } from './panelChannel';
import { checkHiddenWebviewMessage } from './validate';

export const HIDDEN_VIEW_ID = 'rnnLab.hiddenStates';

/** Wait this long after the last selection / editor / model change before tracing. */
const DEBOUNCE_MS = 250;

const BODY = `  <main id="app" class="panel hidden-view" aria-busy="true">
    <p class="placeholder">Loading the hidden states…</p>
  </main>`;

export interface HiddenStatesDeps extends PanelDeps {
  library: ModelLibrary;
  training: TrainingManager;
  inference: InferenceService;
  completions: RnnCompletionProvider;
}

/** What the current trace was taken of, so a picked neuron can be drawn back into the editor. */
interface Current {
  seq: number;
  modelId: string;
  document: vscode.TextDocument;
  version: number;
  /** Document offset of the first traced character. */
  start: number;
  offsets: Int32Array;
  trace: InferTraceResult;
}

/**
 * The Hidden states view in the RNN Lab sidebar: follows the active editor
 * (while a webview panel has focus, the text editor last active and still shown),
 * traces the selection (or the lines around the cursor) through the model
 * that completes the file — or the model the view was shown for
 * (`showModel`) — in the inference worker, and shows the result.
 * A neuron picked in the view colours the editor text by its activation.
 */
export class HiddenStatesViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private viewDisposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private ready = false;
  private dirty = true;
  private current: Current | undefined;
  private decorated: vscode.TextEditor | undefined;
  /** The editor traced: the active one, or while a webview or panel has focus, the one last active and still visible. */
  private followed: vscode.TextEditor | undefined = followable(vscode.window.activeTextEditor);
  private readonly decorationTypes = new Map<number, vscode.TextEditorDecorationType>();
  private rpc: Rpc<HostToHiddenPage, HiddenPageToHost> | undefined;
  /** The model asked for by `showModel`; undefined: the model that completes the traced file. */
  private shown: string | undefined;

  constructor(private readonly d: HiddenStatesDeps) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.follow()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.follow()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === this.followed) this.schedule();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.followed?.document && e.contentChanges.length) {
          this.clearDecorations();
          this.schedule();
        }
      }),
      d.library.onDidChange(() => this.schedule()),
      d.training.onDidSaveCheckpoint((id) => {
        if (!this.current || this.current.modelId === id) this.schedule();
      }),
      { dispose: () => clearTimeout(this.timer) },
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const x of this.viewDisposables.splice(0)) x.dispose();
    this.view = view;
    this.ready = false;
    const webview = view.webview;
    webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: panelResourceRoots(this.d.extensionUri) };
    const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.d.extensionUri, ...p)).toString();
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      title: 'Hidden states',
      scriptUri: uri('dist', 'webview', 'hidden.js'),
      styleUris: [uri('media', 'panel.css'), uri('media', 'hidden.css')],
      body: BODY,
    });
    const rpc = panelChannel<HostToHiddenPage, HiddenPageToHost>(webview, {
      panel: 'hidden',
      modelId: undefined,
      accept: checkHiddenWebviewMessage,
      log: this.d.log,
      observers: this.d.observers,
    });
    rpc.onNotification((message) => {
      try {
        this.onMessage(message);
      } catch (e) {
        this.d.log.appendLine(`hidden states: ${(e as Error).message}`);
      }
    });
    this.rpc = rpc;
    this.viewDisposables.push(
      { dispose: () => rpc.close('the view was closed') },
      view.onDidChangeVisibility(() => {
        if (view.visible && this.dirty) this.schedule();
        if (!view.visible) this.clearDecorations();
      }),
      view.onDidDispose(() => {
        rpc.close('the view was closed');
        if (this.view === view) {
          this.view = undefined;
          this.rpc = undefined;
          this.ready = false;
          this.clearDecorations();
        }
      }),
    );
  }

  private onMessage(m: HiddenWebviewMessage): void {
    switch (m.kind) {
      case 'panel/ready':
        this.ready = true;
        this.dirty = true;
        this.schedule(0);
        return;
      case 'panel/error':
        this.d.log.appendLine(`hidden states view: ${m.message}`);
        return;
      case 'hidden/select': {
        const c = this.current;
        if (!c) return;
        const msg = matrixMessage(c.trace, c.seq, m.layer, m.quantity);
        if (msg) void this.post(msg);
        else this.d.log.appendLine(`hidden states view: the model has no ${m.quantity} in layer ${m.layer}`);
        return;
      }
      case 'hidden/pick':
        if (m.neuron === null) this.clearDecorations();
        else this.decorate(m.layer, m.quantity, m.neuron);
        return;
      case 'hidden/attend': {
        const c = this.current;
        if (!c) return;
        const msg = attentionMessage(c.trace, c.seq, m.t);
        if (msg) void this.post(msg);
        else this.d.log.appendLine(`hidden states view: the trace has no attention at position ${m.t}`);
        return;
      }
      default:
        assertNever(m);
    }
  }

  private post(message: HostToHiddenPage['notifications']): Thenable<boolean> {
    if (!this.rpc) return Promise.resolve(false);
    return this.rpc.notify(message);
  }

  private status(state: HiddenStatusMessage['state'], message: string): void {
    const s: HiddenStatusMessage = { kind: 'hidden/status', state, message };
    if (state !== 'loading') this.current = undefined;
    void this.post(s);
  }

  /**
   * The editor to trace. Focus on a webview panel (the loss chart beside the
   * text, say) leaves no active text editor, but the text is still in view.
   */
  private editorToTrace(): vscode.TextEditor | undefined {
    const active = followable(vscode.window.activeTextEditor);
    if (active) return active;
    const visible = vscode.window.visibleTextEditors.filter((e) => followable(e));
    const last = this.followed;
    return (last && visible.find((e) => e === last || (e.document === last.document && e.viewColumn === last.viewColumn))) ?? visible[0];
  }

  /** Traces again when the editor to trace changes; keeps the trace (and a picked neuron) while it stays the same. */
  private follow(): void {
    const next = this.editorToTrace();
    if (next === this.followed) return;
    this.followed = next;
    this.clearDecorations();
    this.schedule();
  }

  /**
   * Traces with `modelId` from now on (undefined: with the model that
   * completes the traced file again). Only this view changes: which model
   * completes text is the user's separate choice.
   */
  showModel(modelId: string | undefined): void {
    if (this.shown === modelId) return;
    this.shown = modelId;
    this.clearDecorations();
    this.schedule(0);
  }

  /** The model the view traces `document` with. */
  modelFor(document: vscode.TextDocument): string | undefined {
    // A model deleted since it was shown gives way to the file's own.
    if (this.shown && this.d.library.get(this.shown)?.hasCheckpoint) return this.shown;
    return this.d.completions.modelFor(document);
  }

  /** Traces again after DEBOUNCE_MS of quiet (at once with 0). */
  schedule(delay = DEBOUNCE_MS): void {
    this.dirty = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().catch((e: unknown) => this.status('error', `Could not trace: ${(e as Error).message}`));
    }, delay);
  }

  /** Traces the text of the active editor now (when the view is shown). */
  async refresh(): Promise<void> {
    if (!this.view || !this.ready || !this.view.visible) return;
    this.dirty = false;
    const seq = ++this.seq;
    const editor = this.editorToTrace();
    this.followed = editor;
    if (!editor) {
      this.status('noEditor', 'Open a text file: the view traces its selection, or the lines around the cursor.');
      return;
    }
    const document = editor.document;
    const modelId = this.modelFor(document);
    const entry = modelId ? this.d.library.get(modelId) : undefined;
    if (!modelId || !entry?.hasCheckpoint) {
      this.status('noModel', `No model for ${path.basename(document.uri.path)} yet: train one on it ("RNN Lab: Train Model on This File") or choose one with "Use Model for Inline Completions".`);
      return;
    }
    const sel = editor.selection;
    const range = sel.isEmpty
      ? new vscode.Range(
          Math.max(0, sel.active.line - CONTEXT_LINES), 0,
          Math.min(document.lineCount - 1, sel.active.line + CONTEXT_LINES), Number.MAX_SAFE_INTEGER,
        )
      : new vscode.Range(sel.start, sel.end);
    const full = document.getText(document.validateRange(range));
    const start = document.offsetAt(document.validateRange(range).start);
    const { text, totalChars } = capText(full);
    if (text.length === 0) {
      this.status('empty', 'Nothing to trace here: select some text or move the cursor to a line with text.');
      return;
    }
    if (!this.current) this.status('loading', `Tracing ${Math.min(totalChars, [...text].length)} characters with ${entry.name}…`);
    const trace = await this.d.inference.trace(modelId, text);
    if (seq !== this.seq) return; // a newer request is on its way
    this.clearDecorations();
    this.current = { seq, modelId, document, version: document.version, start, offsets: charOffsets(trace.chars), trace };
    await this.post(
      traceMessage(trace, seq, {
        modelId,
        modelName: entry.name,
        source: path.basename(document.uri.path) || document.uri.toString(),
        firstLine: document.positionAt(start).line + 1,
        totalChars,
      }),
    );
  }

  /** Background colours per character of the traced text in the editor, by one neuron's activation. */
  private decorate(layer: number, quantity: HiddenQuantity, neuron: number): void {
    this.clearDecorations();
    const c = this.current;
    if (!c || c.document.version !== c.version) return;
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === c.document);
    if (!editor) return;
    const levels = neuronLevels(c.trace, layer, quantity, neuron);
    if (!levels) return;
    const runs = levelRuns(levels);
    for (const [level, list] of runs) {
      const ranges = list.map(([s, e]) => new vscode.Range(c.document.positionAt(c.start + c.offsets[s]!), c.document.positionAt(c.start + c.offsets[e]!)));
      editor.setDecorations(this.decorationType(level), ranges);
    }
    this.decorated = editor;
  }

  /** One decoration type per colour level, made once: blue above the centre, orange below. */
  private decorationType(level: number): vscode.TextEditorDecorationType {
    let t = this.decorationTypes.get(level);
    if (!t) {
      const alpha = (0.12 + (0.5 * Math.abs(level)) / DECORATION_LEVELS).toFixed(3);
      const rgb = level > 0 ? '55, 148, 255' : '232, 128, 36';
      t = vscode.window.createTextEditorDecorationType({
        backgroundColor: `rgba(${rgb}, ${alpha})`,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
      this.decorationTypes.set(level, t);
    }
    return t;
  }

  private clearDecorations(): void {
    const e = this.decorated;
    this.decorated = undefined;
    if (!e) return;
    for (const t of this.decorationTypes.values()) e.setDecorations(t, []);
  }

  dispose(): void {
    this.clearDecorations();
    for (const t of this.decorationTypes.values()) t.dispose();
    this.decorationTypes.clear();
    for (const x of this.viewDisposables.splice(0)) x.dispose();
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}

/** A text editor the view can trace (not the output panel's). */
function followable(editor: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  return editor && editor.document.uri.scheme !== 'output' ? editor : undefined;
}
