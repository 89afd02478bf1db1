/**
 * The Experiment panel's view of an output folder: live from the editor's
 * experiment while it runs, or read from the folder (results.jsonl and each
 * run's history — the CLI's folders too). Curves are thinned as report.html
 * thins them, so the panel and the report draw the same points. No `vscode`:
 * the tests build views with it.
 */
import * as path from 'node:path';

import { experimentDisplayName, thin, type CurvePoint, type ResultRow } from '../../shared/experiment';
import { readResultRows, readRunHistory } from '../../shared/experiment/outputDir';
import type { PlannedRunInfo } from '../../shared/experimentProtocol';
import type { ExperimentState, ExperimentView } from '../../shared/experimentPanelProtocol';

/** Points per curve sent to the page (report.html keeps as many). */
const CURVE_POINTS = 400;

/** What the view needs of a live experiment (experiments.ts's LiveExperiment). */
export interface LiveView {
  name: string;
  state: ExperimentState;
  reason: string | undefined;
  planned: PlannedRunInfo[];
  rows: ResultRow[];
  running: string | null;
  live: ExperimentView['live'];
  liveCurve: CurvePoint[];
}

/** Curves of finished runs read once per run length (a resumed run's history grows). */
export type HistoryCache = Map<string, { steps: number; points: CurvePoint[] }>;

/** The panel's view of an output folder: live from the manager, or read from disk. Exported for the tests. */
export function experimentView(out: string, live: LiveView | undefined, cache: HistoryCache = new Map()): ExperimentView {
  const rows = live ? live.rows : readResultRows(out);
  const curves: Record<string, CurvePoint[]> = {};
  for (const r of rows) {
    const hit = cache.get(r.id);
    if (hit && hit.steps === r.steps) {
      curves[r.id] = hit.points;
      continue;
    }
    const h = readRunHistory(out, r.id);
    const points = thin((h?.steps ?? []).map((p) => ({ step: p.step, loss: p.loss, charsSeen: p.charsSeen, seconds: p.seconds })), CURVE_POINTS);
    cache.set(r.id, { steps: r.steps, points });
    curves[r.id] = points;
  }
  if (live?.running) curves[live.running] = thin(live.liveCurve, CURVE_POINTS);
  return {
    name: live?.name ?? experimentDisplayName('', path.basename(out).replace(/\.runs$/, '')),
    out,
    state: live ? live.state : 'results',
    ...(live?.reason ? { reason: live.reason } : {}),
    planned: live?.planned.length ? live.planned : rows.map((r) => ({ id: r.id, origin: r.origin, varied: r.varied, params: r.params })),
    rows,
    running: live?.running ?? null,
    live: live?.live ?? null,
    curves,
  };
}

