import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InferTraceResult } from '../../shared/protocol';
import type { HiddenHostMessage, HiddenQuantity, HiddenStatusMessage, HiddenWebviewMessage } from '../../shared/webviewProtocol';
import type { RnnCompletionProvider } from '../completions';
import type { InferenceService } from '../inference';
import type { ModelLibrary } from '../library';
import type { TrainingManager } from '../training';
import { makeNonce, renderPanelHtml } from './html';
import {
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
 * The Hidden states view in the RNN Lab sidebar: follows the active editor,
 * traces the selection (or the lines around the cursor) through the model
 * that completes the file, in the inference worker, and shows the result.
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
  private lastStatus: HiddenStatusMessage | undefined;
  private decorated: vscode.TextEditor | undefined;
  private readonly decorationTypes = new Map<number, vscode.TextEditorDecorationType>();
  private readonly traceEmitter = new vscode.EventEmitter<{ seq: number; modelId: string; chars: number }>();
  /** Fires after a trace was posted to the view (tests wait for it). */
  readonly onDidTrace = this.traceEmitter.event;
  /** Messages posted to the view, newest last (tests read them; capped). */
  readonly postedKinds: string[] = [];

  constructor(private readonly d: HiddenStatesDeps) {
    this.disposables.push(
      this.traceEmitter,
      vscode.window.onDidChangeActiveTextEditor(() => {
        this.clearDecorations();
        this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document && e.contentChanges.length) {
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
    this.viewDisposables.push(
      webview.onDidReceiveMessage((raw: unknown) => {
        const checked = checkHiddenWebviewMessage(raw);
        if (!checked.ok) {
          this.d.log.appendLine(checked.error);
          return;
        }
        try {
          this.onMessage(checked.message);
        } catch (e) {
          this.d.log.appendLine(`hidden states: ${(e as Error).message}`);
        }
      }),
      view.onDidChangeVisibility(() => {
        if (view.visible && this.dirty) this.schedule();
        if (!view.visible) this.clearDecorations();
      }),
      view.onDidDispose(() => {
        if (this.view === view) {
          this.view = undefined;
          this.ready = false;
          this.clearDecorations();
        }
      }),
    );
  }

  /** Whether the page has loaded and asked for data (tests read it). */
  get pageReady(): boolean {
    return this.ready;
  }

  /** The current trace's model and length (tests read it). */
  get currentTrace(): { seq: number; modelId: string; chars: number; documentUri: string } | undefined {
    const c = this.current;
    return c && { seq: c.seq, modelId: c.modelId, chars: c.trace.chars.length, documentUri: c.document.uri.toString() };
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
    }
  }

  private post(message: HiddenHostMessage): Thenable<boolean> {
    if (!this.view) return Promise.resolve(false);
    this.postedKinds.push(message.kind);
    if (this.postedKinds.length > 200) this.postedKinds.splice(0, 100);
    return this.view.webview.postMessage(message);
  }

  private status(state: HiddenStatusMessage['state'], message: string): void {
    const s: HiddenStatusMessage = { kind: 'hidden/status', state, message };
    if (state !== 'loading') this.current = undefined;
    this.lastStatus = s;
    void this.post(s);
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
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme === 'output') {
      this.status('noEditor', 'Open a text file: the view traces its selection, or the lines around the cursor.');
      return;
    }
    const document = editor.document;
    const modelId = this.d.completions.modelFor(document);
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
    this.lastStatus = undefined;
    await this.post(
      traceMessage(trace, seq, {
        modelId,
        modelName: entry.name,
        source: path.basename(document.uri.path) || document.uri.toString(),
        firstLine: document.positionAt(start).line + 1,
        totalChars,
      }),
    );
    this.traceEmitter.fire({ seq, modelId, chars: trace.chars.length });
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

  /** Number of ranges decorated now (tests read it). */
  get decoratedEditor(): vscode.TextEditor | undefined {
    return this.decorated;
  }

  private clearDecorations(): void {
    const e = this.decorated;
    this.decorated = undefined;
    if (!e) return;
    for (const t of this.decorationTypes.values()) e.setDecorations(t, []);
  }

  /** The status shown now, if any (tests read it). */
  get shownStatus(): HiddenStatusMessage | undefined {
    return this.lastStatus;
  }

  dispose(): void {
    this.clearDecorations();
    for (const t of this.decorationTypes.values()) t.dispose();
    this.decorationTypes.clear();
    for (const x of this.viewDisposables.splice(0)) x.dispose();
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}
