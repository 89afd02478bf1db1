import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HiddenHandoff, HiddenQuantity, HiddenStatusMessage, HiddenTraceMessage, HiddenViewState, HiddenWebviewMessage, HostToHiddenPage } from '../../shared/hiddenStatesProtocol';
import type { InferTraceResult } from '../../shared/inferenceProtocol';
import { assertNever } from '../../shared/rpc';
import type { RnnCompletionProvider } from '../completions';
import type { InferenceService } from '../inference';
import type { ModelLibrary } from '../library';
import type { TrainingManager } from '../training';
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
import type { PanelDeps } from './panelBase';
import type { HiddenPageListener, HiddenStatesPage } from './hiddenStatesPage';

/** Wait this long after the last selection / editor / model change before tracing. */
const DEBOUNCE_MS = 250;

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
  /** What was sent of it, for a page that joins later. */
  message: HiddenTraceMessage;
}

/**
 * The host of the hidden-states page, for every place it is shown (the side
 * bar's view and the editor panel): follows the active editor (while a
 * webview has focus, the text editor last active and still shown), traces
 * the selection (or the lines around the cursor) through the model that
 * completes the file — or the model the page was shown for (`showModel`) —
 * in the inference worker, and sends the trace to each
 * page; each page's requests (a matrix, an attention row) are answered to
 * that page. A neuron picked in either page colours the editor text by its
 * activation.
 */
export class HiddenStatesTracer implements HiddenPageListener, vscode.Disposable {
  private readonly pages = new Set<HiddenStatesPage>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private dirty = true;
  private current: Current | undefined;
  private lastStatus: HiddenStatusMessage | undefined;
  /** The options of the page last changed, and the neuron last picked: what a new page starts from. */
  private lastView: HiddenViewState | undefined;
  private lastPick: { layer: number; quantity: HiddenQuantity; neuron: number | null } | undefined;
  private decorated: vscode.TextEditor | undefined;
  /** The editor traced: the active one, or while a webview or panel has focus, the one last active and still visible. */
  private followed: vscode.TextEditor | undefined = followable(vscode.window.activeTextEditor);
  private readonly decorationTypes = new Map<number, vscode.TextEditorDecorationType>();
  /** The model asked for by `showModel`; undefined: the model that completes the traced file. */
  private shown: string | undefined;

  constructor(
    private readonly d: HiddenStatesDeps,
    /** Opens (or reveals) the page in an editor column: what the page's Open in Editor button asks for. */
    private readonly openInEditor: () => void,
  ) {
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

  /** A page starts being served; returns what removes it again. */
  attach(page: HiddenStatesPage): vscode.Disposable {
    this.pages.add(page);
    return {
      dispose: () => {
        this.pages.delete(page);
        page.dispose();
        if (!this.anyVisible()) this.clearDecorations();
      },
    };
  }

  /** A host's page was shown or hidden. */
  visibilityChanged(): void {
    if (this.anyVisible()) {
      if (this.dirty) this.schedule();
    } else this.clearDecorations();
  }

  /** The options and pick a page opened now starts from (none before any page reported its options). */
  handoff(): HiddenHandoff | undefined {
    const view = this.lastView;
    if (!view) return undefined;
    const p = this.lastPick;
    const samePlace = p !== undefined && p.layer === (view.layer ?? 0) && p.quantity === (view.quantity ?? 'h');
    return { view, picked: samePlace ? p.neuron : null };
  }

  onPageMessage(page: HiddenStatesPage, m: HiddenWebviewMessage): void {
    switch (m.kind) {
      case 'panel/ready':
        // A new page (first load, a reload, shown again): the current trace if it is still what would be traced.
        if (!this.dirty && this.current) void page.post(this.current.message);
        else if (!this.dirty && this.lastStatus) void page.post(this.lastStatus);
        else this.schedule(0);
        return;
      case 'panel/error':
        this.d.log.appendLine(`hidden states ${page.host}: ${m.message}`);
        return;
      case 'hidden/select': {
        const c = this.current;
        if (!c) return;
        const msg = matrixMessage(c.trace, c.seq, m.layer, m.quantity);
        if (msg) void page.post(msg);
        else this.d.log.appendLine(`hidden states ${page.host}: the model has no ${m.quantity} in layer ${m.layer}`);
        return;
      }
      case 'hidden/pick':
        this.lastPick = { layer: m.layer, quantity: m.quantity, neuron: m.neuron };
        if (m.neuron === null) this.clearDecorations();
        else this.decorate(m.layer, m.quantity, m.neuron);
        return;
      case 'hidden/attend': {
        const c = this.current;
        if (!c) return;
        const msg = attentionMessage(c.trace, c.seq, m.t);
        if (msg) void page.post(msg);
        else this.d.log.appendLine(`hidden states ${page.host}: the trace has no attention at position ${m.t}`);
        return;
      }
      case 'hidden/view':
        this.lastView = m.view;
        return;
      case 'hidden/openInEditor':
        this.openInEditor();
        return;
      default:
        assertNever(m);
    }
  }

  private anyVisible(): boolean {
    for (const p of this.pages) if (p.visible) return true;
    return false;
  }

  /** Sends to every loaded page (a hidden one gets it again when it is shown and says ready). */
  private broadcast(message: HostToHiddenPage['notifications']): Promise<unknown> {
    return Promise.all([...this.pages].filter((p) => p.ready).map((p) => p.post(message)));
  }

  private status(state: HiddenStatusMessage['state'], message: string): void {
    const s: HiddenStatusMessage = { kind: 'hidden/status', state, message };
    if (state !== 'loading') {
      this.current = undefined;
      this.lastStatus = s;
    }
    void this.broadcast(s);
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
   * completes the traced file again). Only these pages change: which model
   * completes text is the user's separate choice.
   */
  showModel(modelId: string | undefined): void {
    if (this.shown === modelId) return;
    this.shown = modelId;
    this.clearDecorations();
    this.schedule(0);
  }

  /** The model the pages trace `document` with. */
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

  /** Traces the text of the editor to trace now (when a page is loaded and shown). */
  async refresh(): Promise<void> {
    if (![...this.pages].some((p) => p.ready && p.visible)) return;
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
    const message = traceMessage(trace, seq, {
      modelId,
      modelName: entry.name,
      source: path.basename(document.uri.path) || document.uri.toString(),
      firstLine: document.positionAt(start).line + 1,
      totalChars,
    });
    this.current = { seq, modelId, document, version: document.version, start, offsets: charOffsets(trace.chars), trace, message };
    this.lastStatus = undefined;
    await this.broadcast(message);
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
    for (const p of this.pages) p.dispose();
    this.pages.clear();
    for (const x of this.disposables.splice(0)) x.dispose();
  }
}

/** A text editor the view can trace (not the output panel's). */
function followable(editor: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  return editor && editor.document.uri.scheme !== 'output' ? editor : undefined;
}
