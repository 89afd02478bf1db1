/**
 * What the gradient-flow panel knows: the snapshots the host sent per model,
 * the models it may compare, and the user's view options (saved with
 * vscode.setState). Pure (no DOM): host messages and user actions change it,
 * and each returns the messages the page must send back to the host.
 */
import type { GradFlowHostMessage, GradFlowModelInfo, GradFlowPanelState, GradFlowSnapshot, GradFlowWebviewMessage } from '../../src/shared/webviewProtocol';
import { assertNever } from '../common/assertNever';

export interface GradFlowView {
  modelId: string;
  compare: string | null;
  /** The layer shown in the bars and the stack; -1 (or out of range) means the top layer. */
  layer: number;
  /** The error e_t followed back; null is the whole window's E. */
  errorAt: number | null;
  /** Index into the primary model's snapshots; null follows the newest. */
  snapshot: number | null;
}

export class GradFlowState {
  readonly view: GradFlowView;
  models: GradFlowModelInfo[] = [];
  /** Snapshots per model id, oldest first. */
  readonly data = new Map<string, GradFlowSnapshot[]>();
  /** The output o_t that holds the tab stop when no error is selected (ArrowLeft/ArrowRight move it). */
  netCursor = 0;

  constructor(saved: Partial<GradFlowPanelState> = {}) {
    this.view = {
      modelId: saved.modelId ?? '',
      compare: typeof saved.compare === 'string' ? saved.compare : null,
      layer: typeof saved.layer === 'number' ? saved.layer : -1,
      errorAt: typeof saved.errorAt === 'number' ? saved.errorAt : null,
      snapshot: typeof saved.snapshot === 'number' ? saved.snapshot : null,
    };
  }

  /** What vscode.setState keeps across reloads. */
  persisted(): GradFlowPanelState {
    return { ...this.view };
  }

  primary(): GradFlowSnapshot[] {
    return this.data.get(this.view.modelId) ?? [];
  }

  /** The snapshot shown and its index, or null before the first one. */
  current(): { s: GradFlowSnapshot; index: number } | null {
    const list = this.primary();
    if (!list.length) return null;
    const index = this.view.snapshot === null ? list.length - 1 : Math.min(Math.max(this.view.snapshot, 0), list.length - 1);
    return { s: list[index]!, index };
  }

  layerOf(s: GradFlowSnapshot): number {
    const L = s.hGradNorm.length;
    return this.view.layer < 0 || this.view.layer >= L ? L - 1 : this.view.layer;
  }

  /** The selected error's step when it lies inside this snapshot's window, else null (the whole E). */
  errorIn(s: GradFlowSnapshot): number | null {
    return this.view.errorAt !== null && this.view.errorAt < s.T ? this.view.errorAt : null;
  }

  /** The latest snapshot of the compared model, if any. */
  compared(): GradFlowSnapshot | undefined {
    return this.view.compare ? this.data.get(this.view.compare)?.at(-1) : undefined;
  }

  receive(m: GradFlowHostMessage): GradFlowWebviewMessage[] {
    const out: GradFlowWebviewMessage[] = [];
    switch (m.kind) {
      case 'gradflow/init':
        this.models = m.models;
        if (this.view.modelId !== m.primary) {
          this.view.snapshot = null;
          this.view.errorAt = null;
        }
        this.view.modelId = m.primary;
        this.view.compare = m.compare ?? this.view.compare;
        // A reloaded page remembers a comparison the host has forgotten: ask for its data again.
        if (this.view.compare && this.view.compare !== m.compare) out.push({ kind: 'gradflow/compare', modelId: this.view.compare });
        break;
      case 'gradflow/models':
        this.models = m.models;
        break;
      case 'gradflow/data': {
        const list = m.reset ? [] : (this.data.get(m.modelId) ?? []);
        list.push(...m.snapshots);
        this.data.set(m.modelId, list);
        break;
      }
      case 'gradflow/stepThroughResult':
        // The step-through section (stepThrough.ts) keeps its own.
        break;
      default:
        return assertNever(m);
    }
    return out;
  }

  /** The slider: the last position follows the newest snapshot. */
  scrubTo(index: number): void {
    this.view.snapshot = index >= this.primary().length - 1 ? null : index;
  }

  selectLayer(layer: number): void {
    this.view.layer = layer;
  }

  /** Returns the request for the compared model's data, or null when nothing changed. */
  compareWith(modelId: string | null): GradFlowWebviewMessage | null {
    if (modelId === this.view.compare) return null;
    this.view.compare = modelId;
    return { kind: 'gradflow/compare', modelId };
  }

  wholeWindow(): void {
    this.view.errorAt = null;
  }

  /** A click on o_t: follow its error, or go back to the whole E when it was already followed. */
  toggleError(t: number): void {
    this.netCursor = t;
    this.view.errorAt = this.view.errorAt === t ? null : t;
  }

  /** The keyboard on o_t: Arrow keys, Home and End select an error; returns the step moved to, or null outside the window. */
  moveError(from: number, key: string): number | null {
    const T = this.current()?.s.T ?? 0;
    const next = key === 'ArrowLeft' ? from - 1 : key === 'ArrowRight' ? from + 1 : key === 'Home' ? 0 : key === 'End' ? T - 1 : null;
    if (next === null || next < 0 || next >= T) return null;
    this.netCursor = next;
    this.view.errorAt = next;
    return next;
  }
}
