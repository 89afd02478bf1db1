/**
 * What the loss panel knows: the runs the host sent (progress and validation
 * series per model), the models it may compare, and the user's view options
 * (saved with vscode.setState). Pure (no DOM): host messages and user actions
 * change it; the drawing reads it.
 */
import type { LossHostMessage, LossModelInfo, LossPanelState, LossSeriesChunk, LossValidationChunk } from '../../src/shared/webviewProtocol';
import { assertNever } from '../common/assertNever';
import { csvRow, interpolate, LN2, smooth } from './series';

export type Units = 'nats' | 'bits';
export type XAxis = 'step' | 'epoch' | 'chars';
export type YScale = 'linear' | 'logarithmic';

export interface Run {
  progress: LossSeriesChunk;
  validation: LossValidationChunk;
}

export interface LossView {
  modelId: string;
  compare: string[];
  units: Units;
  x: XAxis;
  yScale: YScale;
  smoothing: number;
  showRaw: boolean;
  /** 0: the loss chart, 1: learning rate and throughput. */
  tab: 0 | 1;
}

/** What a host message changed: nothing shown, the data, or the list of models too (the compare choices). */
export type LossChange = 'ignored' | 'data' | 'models';

const clampSmoothing = (v: number): number => Math.min(Math.max(v, 0), 0.99);

export class LossState {
  readonly view: LossView;
  models: LossModelInfo[] = [];
  readonly runs = new Map<string, Run>();

  constructor(saved: Partial<LossPanelState> = {}) {
    this.view = {
      modelId: saved.modelId ?? '',
      compare: saved.compare ?? [],
      units: saved.units === 'bits' ? 'bits' : 'nats',
      x: saved.x === 'epoch' || saved.x === 'chars' ? saved.x : 'step',
      yScale: saved.yScale === 'logarithmic' ? 'logarithmic' : 'linear',
      smoothing: typeof saved.smoothing === 'number' ? clampSmoothing(saved.smoothing) : 0.6,
      showRaw: saved.showRaw ?? true,
      tab: saved.tab === 1 ? 1 : 0,
    };
  }

  /** What vscode.setState keeps across reloads. */
  persisted(): LossPanelState {
    return { ...this.view };
  }

  receive(m: LossHostMessage): LossChange {
    switch (m.kind) {
      case 'loss/init':
        this.models = m.models;
        this.view.modelId = m.primary;
        this.view.compare = m.compare;
        this.runs.clear();
        return 'models';
      case 'loss/models':
        this.models = m.models;
        return 'models';
      case 'loss/data': {
        if (m.modelId !== this.view.modelId && !this.view.compare.includes(m.modelId)) return 'ignored';
        let run = this.runs.get(m.modelId);
        if (!run || m.reset) {
          run = { progress: { step: [], epoch: [], chars: [], loss: [], lr: [], charsPerSec: [] }, validation: { step: [], loss: [] } };
          this.runs.set(m.modelId, run);
        }
        append(run, m.progress, m.validation);
        return 'data';
      }
      case 'loss/remove':
        this.runs.delete(m.modelId);
        this.view.compare = this.view.compare.filter((id) => id !== m.modelId);
        return 'models';
      default:
        return assertNever(m);
    }
  }

  // ---------------------------------------------------------------- user actions

  setUnits(value: string): void {
    this.view.units = value === 'bits' ? 'bits' : 'nats';
  }

  setX(value: string): void {
    this.view.x = value === 'epoch' || value === 'chars' ? value : 'step';
  }

  setYScale(value: string): void {
    this.view.yScale = value === 'logarithmic' ? 'logarithmic' : 'linear';
  }

  setSmoothing(value: number): void {
    this.view.smoothing = clampSmoothing(value || 0);
  }

  setShowRaw(on: boolean): void {
    this.view.showRaw = on;
  }

  /** The models overlaid on the primary one (never the primary itself). */
  setCompare(ids: readonly string[]): void {
    this.view.compare = ids.filter((id) => id !== this.view.modelId);
  }

  setTab(index: number): void {
    this.view.tab = index === 1 ? 1 : 0;
  }

  // ---------------------------------------------------------------- what is shown

  /** The models drawn, primary first, in the order their colours are given. */
  shown(): string[] {
    return [this.view.modelId, ...this.view.compare.filter((id) => id !== this.view.modelId)].filter((id) => this.runs.has(id) || id === this.view.modelId);
  }

  /** The models the user may overlay on the primary one. */
  others(): LossModelInfo[] {
    return this.models.filter((m) => m.id !== this.view.modelId);
  }

  nameOf(id: string): string {
    return this.models.find((m) => m.id === id)?.name ?? id.slice(0, 8);
  }

  xsOf(run: Run): number[] {
    return this.view.x === 'step' ? run.progress.step : this.view.x === 'epoch' ? run.progress.epoch : run.progress.chars;
  }

  /** Validation points sit at a step; on the epoch or characters axis they are placed by interpolating the progress series. */
  validationXs(run: Run): number[] {
    if (this.view.x === 'step') return run.validation.step;
    const ys = this.view.x === 'epoch' ? run.progress.epoch : run.progress.chars;
    return run.validation.step.map((s) => interpolate(run.progress.step, ys, s));
  }

  /** A loss in nats, in the chosen units. */
  toUnits(v: number | null): number | null {
    return v === null ? null : this.view.units === 'bits' ? v / LN2 : v;
  }

  /** The file name stem of an export: the primary model's name, made safe. */
  safeName(): string {
    return (this.nameOf(this.view.modelId).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model').slice(0, 80);
  }

  /** The data of every shown run, one row per point, loss in both units. */
  csv(): string {
    const rows = [csvRow(['model', 'model_id', 'series', 'step', 'epoch', 'chars_seen', 'loss_nats', 'loss_bits', 'smoothed_nats', 'lr', 'chars_per_sec'])];
    for (const id of this.shown()) {
      const run = this.runs.get(id);
      if (!run) continue;
      const p = run.progress;
      const sm = smooth(p.loss, this.view.smoothing);
      const name = this.nameOf(id);
      for (let i = 0; i < p.step.length; i++) {
        const l = p.loss[i] ?? null;
        rows.push(csvRow([name, id, 'train', p.step[i]!, +p.epoch[i]!.toFixed(6), p.chars[i]!, l, l === null ? null : l / LN2, sm[i] ?? null, p.lr[i] ?? null, p.charsPerSec[i] ?? null]));
      }
      const ve = this.view.x === 'epoch' ? this.validationXs(run) : run.validation.step.map((s) => interpolate(p.step, p.epoch, s));
      const vc = run.validation.step.map((s) => Math.round(interpolate(p.step, p.chars, s)));
      for (let i = 0; i < run.validation.step.length; i++) {
        const l = run.validation.loss[i] ?? null;
        rows.push(csvRow([name, id, 'validation', run.validation.step[i]!, +ve[i]!.toFixed(6), vc[i]!, l, l === null ? null : l / LN2, null, null, null]));
      }
    }
    return rows.join('\n') + '\n';
  }
}

function append(run: Run, p: LossSeriesChunk, v: LossValidationChunk): void {
  for (const k of ['step', 'epoch', 'chars', 'loss', 'lr', 'charsPerSec'] as const) {
    const dst = run.progress[k];
    for (const x of p[k]) dst.push(x);
  }
  for (const k of ['step', 'loss'] as const) {
    const dst = run.validation[k];
    for (const x of v[k]) dst.push(x);
  }
}
