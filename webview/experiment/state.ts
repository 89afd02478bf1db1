/**
 * What the Experiment panel knows and shows, as pure functions of the host's
 * view and the user's choices (sort, curve axis, selection): the table's
 * columns and rows, and the chart series — shaped by the same functions as
 * the CLI's report.html (src/shared/experiment/report.ts), so both show the
 * same runs, colours and points.
 */
import { lossCurves, runColors, validationDots, type CurveAxis, type DotAxis, type Series } from '../../src/shared/experiment/charts';
import { rankRows, variedSettingNames, type ResultRow } from '../../src/shared/experiment/results';
import type { ExperimentHostMessage, ExperimentPanelState, ExperimentView, RunRowState } from '../../src/shared/experimentPanelProtocol';

export interface Column {
  key: string;
  label: string;
  /** Numbers right-aligned. */
  numeric: boolean;
}

export type Cell = string | number | null;

export interface TableRow {
  id: string;
  state: RunRowState;
  /** Values by column key (sort on these; the drawing formats them). */
  values: Record<string, Cell>;
  color: string;
  /** Finished with a result row (selectable for the model actions). */
  finished: boolean;
}

const FIXED: Column[] = [
  { key: 'state', label: 'state', numeric: false },
  { key: 'valBpc', label: 'val bpc', numeric: true },
  { key: 'params', label: 'params', numeric: true },
  { key: 'steps', label: 'steps', numeric: true },
  { key: 'charsPerSec', label: 'chars/s', numeric: true },
  { key: 'seconds', label: 'time (s)', numeric: true },
  { key: 'rung', label: 'rung', numeric: true },
];

export const DEFAULT_STATE: ExperimentPanelState = { sortKey: 'valBpc', sortDescending: false, axis: 'step', selected: [] };

export class ExperimentPanelModel {
  view: ExperimentView | null = null;
  sortKey: string;
  sortDescending: boolean;
  axis: CurveAxis;
  readonly selected: Set<string>;

  constructor(saved: Partial<ExperimentPanelState & { out: string }> = {}) {
    this.sortKey = typeof saved.sortKey === 'string' ? saved.sortKey : DEFAULT_STATE.sortKey;
    this.sortDescending = saved.sortDescending === true;
    this.axis = saved.axis === 'chars' || saved.axis === 'seconds' ? saved.axis : 'step';
    this.selected = new Set(Array.isArray(saved.selected) ? saved.selected.filter((s): s is string => typeof s === 'string') : []);
  }

  receive(m: ExperimentHostMessage): 'view' {
    this.view = m.view;
    const known = new Set(m.view.rows.map((r) => r.id));
    for (const id of [...this.selected]) if (!known.has(id)) this.selected.delete(id);
    return 'view';
  }

  persisted(): ExperimentPanelState & { out?: string } {
    return { sortKey: this.sortKey, sortDescending: this.sortDescending, axis: this.axis, selected: [...this.selected], ...(this.view ? { out: this.view.out } : {}) };
  }

  /** Clicking a header: sort by it, or flip the order when it already is. */
  sortBy(key: string): void {
    if (this.sortKey === key) this.sortDescending = !this.sortDescending;
    else [this.sortKey, this.sortDescending] = [key, false];
  }

  toggle(id: string): void {
    if (this.selected.has(id)) this.selected.delete(id);
    else if (this.view?.rows.some((r) => r.id === id)) this.selected.add(id);
  }

  /** Finished rows best first (the report's order), then the runs still to come in plan order. */
  private ordered(): string[] {
    const v = this.view;
    if (!v) return [];
    const ranked = rankRows(v.rows).map((r) => r.id);
    const rest = v.planned.map((p) => p.id).filter((id) => !ranked.includes(id));
    return [...ranked, ...rest];
  }

  colors(): Map<string, string> {
    return runColors(this.ordered());
  }

  /** The settings that set runs apart: those that differ between finished rows, and those the plan varies. */
  variedNames(): string[] {
    const v = this.view;
    if (!v) return [];
    const names = variedSettingNames(v.rows);
    for (const p of v.planned) for (const k of Object.keys(p.varied)) if (k !== 'seed' && !names.includes(k)) names.push(k);
    return names;
  }

  columns(): Column[] {
    return [{ key: 'run', label: 'run', numeric: false }, ...this.variedNames().map((k) => ({ key: `s.${k}`, label: k, numeric: false })), ...FIXED];
  }

  rows(): TableRow[] {
    const v = this.view;
    if (!v) return [];
    const colors = this.colors();
    const varied = this.variedNames();
    const byId = new Map<string, ResultRow>(v.rows.map((r) => [r.id, r]));
    const out = this.ordered().map((id): TableRow => {
      const r = byId.get(id);
      const plan = v.planned.find((p) => p.id === id);
      const settings = (r?.settings ?? plan?.varied ?? {}) as Record<string, unknown>;
      const live = v.live?.runId === id ? v.live : null;
      const values: Record<string, Cell> = { run: id };
      for (const k of varied) {
        const x = settings[k];
        values[`s.${k}`] = typeof x === 'number' || typeof x === 'string' ? x : x === undefined ? null : JSON.stringify(x);
      }
      values.state = r ? rowState(r) : v.running === id ? 'training' : 'planned';
      values.valBpc = r?.valBpc ?? null;
      values.params = r?.params ?? plan?.params ?? null;
      values.steps = r?.steps ?? live?.step ?? null;
      values.charsPerSec = r?.charsPerSec ?? (live ? Math.round(live.charsPerSec) : null);
      values.seconds = r?.seconds ?? live?.seconds ?? null;
      values.rung = r?.stoppedAt ?? null;
      return { id, state: values.state as RunRowState, values, color: colors.get(id)!, finished: r !== undefined };
    });
    const key = this.sortKey;
    const dir = this.sortDescending ? -1 : 1;
    // Stable: ties keep the best-first order. Empty cells sort last either way.
    return out
      .map((row, i) => ({ row, i }))
      .sort((a, b) => {
        const x = a.row.values[key] ?? null;
        const y = b.row.values[key] ?? null;
        if (x === null || y === null) return x === y ? a.i - b.i : x === null ? 1 : -1;
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en', { numeric: true });
        return c * dir || a.i - b.i;
      })
      .map((x) => x.row);
  }

  /** The training-loss curves against the chosen axis, every run with points. */
  curveSeries(): Series[] {
    const v = this.view;
    if (!v) return [];
    const ids = this.ordered().filter((id) => (v.curves[id]?.length ?? 0) > 0);
    return lossCurves(ids, v.curves, this.axis, this.colors());
  }

  dotSeries(axis: DotAxis): Series[] {
    const v = this.view;
    return v ? validationDots(rankRows(v.rows), axis, this.colors()) : [];
  }

  /** The ids in the table's order that an action applies to: the selection, in table order. */
  selectedInOrder(): string[] {
    return this.rows().filter((r) => this.selected.has(r.id)).map((r) => r.id);
  }
}

export function rowState(r: ResultRow): RunRowState {
  if (r.diverged !== null) return 'diverged';
  return r.stoppedAt !== null ? 'halted' : 'done';
}
