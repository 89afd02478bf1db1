/**
 * `report.html` of an experiment: one self-contained page (no script, no
 * network) with the runs table best first, mean ± std over seeds, the
 * training-loss curves against steps, characters and training time, and
 * validation loss against parameters and against time, as inline SVG.
 * Pure: rows and histories in, HTML out.
 */
import type { RunHistory } from '../history';
import { CURVE_CHARTS, DOT_CHARTS, escapeHtml, lossCurves, runColors, svgChart, validationDots, type CurveAxis, type CurvePoint, type DotAxis } from './charts';
import { rankRows, seedGroups, variedSettingNames, type ResultRow } from './results';

export * from './charts';

export interface ReportInput {
  name: string;
  rows: readonly ResultRow[];
  histories: Readonly<Record<string, RunHistory>>;
  /** Runs planned in all (rows may be fewer while the experiment is still going). */
  planned: number;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(+v.toPrecision(5));
  return escapeHtml(typeof v === 'object' ? JSON.stringify(v) : String(v as string | boolean | bigint));
}

const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",Ubuntu,sans-serif;margin:16px 24px;color:#3b3b3b;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin:22px 0 6px}table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #e5e5e5;text-align:right;white-space:nowrap}th{background:#f3f3f3}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #e5e5e5;border-radius:4px;max-width:100%;height:auto}
.chart .title{font-size:13px;font-weight:600;fill:#3b3b3b}.chart .tick{font-size:10px;fill:#616161}.chart .axis{font-size:11px;fill:#616161}
.chart .grid{stroke:#eee}.chart .frame{fill:none;stroke:#ccc}.chart .empty{fill:#999}.muted{color:#616161}`;

/** Curves from histories: the step records of each run. */
export function historyCurves(histories: Readonly<Record<string, RunHistory>>): Record<string, CurvePoint[]> {
  return Object.fromEntries(Object.entries(histories).map(([id, h]) => [id, h.steps]));
}

export function experimentReportHtml(input: ReportInput): string {
  const ranked = rankRows(input.rows);
  const color = runColors(ranked.map((r) => r.id));
  const varied = variedSettingNames(input.rows);
  const title = `RNN Lab experiment${input.name ? `: ${input.name}` : ''}`;

  const head = ['#', 'run', ...varied, 'seed', 'params', 'steps', 'time (s)', 'chars/s', 'val loss', 'val bpc', 'stopped'];
  const body = ranked.map((r, i) => {
    const s = r.settings as unknown as Record<string, unknown>;
    const cells = [String(i + 1), `<i style="display:inline-block;width:10px;height:10px;background:${color.get(r.id)}"></i> ${escapeHtml(r.id)}`, ...varied.map((k) => cell(s[k])), cell(r.seed), cell(r.params), cell(r.steps), r.seconds.toFixed(2), cell(Math.round(r.charsPerSec)), cell(r.valLoss), cell(r.valBpc), r.diverged !== null ? `diverged at step ${r.diverged}` : cell(r.stoppedAt)];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const groups = seedGroups(input.rows);
  const multiSeed = groups.some((g) => g.n > 1);
  const groupTable = multiSeed
    ? `<h2>Mean ± std over seeds</h2><table><tr><th>runs</th><th>seeds</th><th>params</th><th>val bpc</th><th>time (s)</th></tr>${groups
        .map((g) => `<tr><td>${escapeHtml(g.key)}</td><td>${g.seeds.join(', ')}</td><td>${cell(g.params)}</td><td>${Number.isFinite(g.meanBpc) ? `${g.meanBpc.toFixed(4)} ± ${g.stdBpc.toFixed(4)}` : '–'}</td><td>${g.meanSeconds.toFixed(2)}</td></tr>`)
        .join('')}</table>`
    : '';

  const ids = ranked.map((r) => r.id);
  const curves = historyCurves(input.histories);
  const curve = (axis: CurveAxis): string => svgChart(lossCurves(ids, curves, axis, color), CURVE_CHARTS[axis]);
  const dots = (axis: DotAxis): string => svgChart(validationDots(ranked, axis, color), DOT_CHARTS[axis]);
  const legend = `<p class="legend">${ranked.map((r) => `<span><i style="background:${color.get(r.id)}"></i>${escapeHtml(r.id)}</span>`).join('')}</p>`;

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">${input.rows.length} of ${input.planned} run${input.planned === 1 ? '' : 's'} finished. Validation loss in nats per character on the held-out tail of the text (the same split for every run); bpc = bits per character.</p>
<h2>Runs, best first</h2>
<table id="runs"><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${body.join('')}</table>
${groupTable}
<h2>Training loss</h2>${legend}
<div class="charts">
${curve('step')}
${curve('chars')}
${curve('seconds')}
</div>
<h2>Validation loss</h2>
<div class="charts">
${dots('params')}
${dots('seconds')}
</div>
</body></html>
`;
}
