/**
 * Draws the Experiment panel from its model: the header and actions, the
 * runs table, and the charts as the report draws them (svgChart of
 * src/shared/experiment/report.ts), recoloured by the theme's CSS.
 */
import { CURVE_CHARTS, DOT_CHARTS, escapeHtml, svgChart } from '../../src/shared/experiment/charts';
import type { ExperimentAction } from '../../src/shared/experimentPanelProtocol';
import type { Cell, Column, ExperimentPanelModel } from './state';

export interface ExperimentDrawing {
  readonly root: HTMLElement;
  draw(): void;
}

const ACTIONS: { action: ExperimentAction; label: string; needsSelection: boolean; title: string }[] = [
  { action: 'loss', label: 'Loss Charts', needsSelection: true, title: 'Open the loss chart of each selected run (up to 4)' },
  { action: 'hidden', label: 'Hidden States', needsSelection: true, title: 'Show the first selected run\'s hidden states on the experiment\'s text' },
  { action: 'completions', label: 'Use for Completions', needsSelection: true, title: 'Complete text with the first selected run' },
  { action: 'csv', label: 'Export CSV', needsSelection: false, title: 'Save the table (the selected runs, or all) as CSV' },
  { action: 'report', label: 'report.html', needsSelection: false, title: 'Open the experiment\'s report.html' },
];

export function formatCell(c: Column, v: Cell): string {
  if (v === null) return '–';
  if (typeof v === 'string') return v;
  if (c.key === 'valBpc') return v.toFixed(4);
  if (c.key === 'seconds') return v.toFixed(1);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(+v.toPrecision(5));
}

export function mountExperiment(root: HTMLElement, model: ExperimentPanelModel): ExperimentDrawing {
  root.removeAttribute('aria-busy');
  root.innerHTML = `
    <header class="exp-head"><h2 class="exp-title"></h2><span class="status exp-status" role="status"></span></header>
    <div class="toolbar exp-actions">
      ${ACTIONS.map((a) => `<button type="button" data-action="${a.action}" data-needs-selection="${a.needsSelection}" title="${escapeHtml(a.title)}">${escapeHtml(a.label)}</button>`).join('')}
      <span class="spacer"></span>
      <button type="button" data-action="run" class="exp-run">Run</button>
      <button type="button" data-action="stop" class="exp-stop">Stop</button>
    </div>
    <div class="exp-table-box"><table class="runs exp-runs"><thead></thead><tbody></tbody></table></div>
    <div class="toolbar"><label class="field">Loss against
      <select class="exp-axis"><option value="step">steps</option><option value="chars">characters</option><option value="seconds">training time</option></select></label></div>
    <div class="exp-charts">
      <div class="exp-chart exp-curves"></div>
      <div class="exp-chart exp-dots-params"></div>
      <div class="exp-chart exp-dots-seconds"></div>
    </div>`;
  const q = <T extends Element>(sel: string): T => root.querySelector<T>(sel)!;
  const title = q<HTMLElement>('.exp-title');
  const status = q<HTMLElement>('.exp-status');
  const thead = q<HTMLTableSectionElement>('thead');
  const tbody = q<HTMLTableSectionElement>('tbody');
  const axis = q<HTMLSelectElement>('.exp-axis');

  const draw = (): void => {
    const v = model.view;
    if (!v) return;
    title.textContent = `Experiment: ${v.name}`;
    const finished = v.rows.length;
    const live = v.live ? ` · ${v.live.runId} at step ${v.live.step}, loss ${v.live.loss.toFixed(3)}` : '';
    status.textContent = `${v.state === 'results' ? 'results' : v.state} · ${finished} of ${v.planned.length} runs finished${live}${v.reason ? ` · ${v.reason}` : ''}`;
    root.dataset.state = v.state;
    q<HTMLButtonElement>('.exp-run').hidden = !(v.state === 'stopped' || v.state === 'failed');
    q<HTMLButtonElement>('.exp-stop').hidden = !(v.state === 'running' || v.state === 'queued');
    for (const b of root.querySelectorAll<HTMLButtonElement>('.exp-actions button[data-needs-selection="true"]')) b.disabled = model.selected.size === 0;

    const cols = model.columns();
    thead.innerHTML = `<tr><th class="sel"></th>${cols
      .map((c) => {
        const sorted = model.sortKey === c.key ? (model.sortDescending ? ' ▼' : ' ▲') : '';
        const aria = model.sortKey === c.key ? (model.sortDescending ? 'descending' : 'ascending') : 'none';
        return `<th data-sort="${escapeHtml(c.key)}" aria-sort="${aria}" class="${c.numeric ? 'num' : ''}" tabindex="0">${escapeHtml(c.label)}${sorted}</th>`;
      })
      .join('')}</tr>`;
    tbody.innerHTML = model
      .rows()
      .map((r) => {
        const box = r.finished ? `<input type="checkbox" data-run="${escapeHtml(r.id)}" aria-label="select ${escapeHtml(r.id)}"${model.selected.has(r.id) ? ' checked' : ''}>` : '';
        const cells = cols.map((c) => {
          const text = escapeHtml(formatCell(c, r.values[c.key] ?? null));
          if (c.key === 'run') return `<td><span class="swatch" data-color="${r.color}"></span>${text}</td>`;
          return `<td class="${c.numeric ? 'num' : ''}${c.key === 'state' ? ` state-${r.state}` : ''}">${text}</td>`;
        });
        return `<tr data-id="${escapeHtml(r.id)}" class="${model.selected.has(r.id) ? 'selected' : ''}"><td class="sel">${box}</td>${cells.join('')}</tr>`;
      })
      .join('');
    // Set through the CSSOM: the page's CSP allows no inline style attributes.
    for (const sw of tbody.querySelectorAll<HTMLElement>('.swatch')) sw.style.background = sw.dataset.color ?? '';
    axis.value = model.axis;
    q<HTMLElement>('.exp-curves').innerHTML = svgChart(model.curveSeries(), CURVE_CHARTS[model.axis]);
    q<HTMLElement>('.exp-dots-params').innerHTML = svgChart(model.dotSeries('params'), DOT_CHARTS.params);
    q<HTMLElement>('.exp-dots-seconds').innerHTML = svgChart(model.dotSeries('seconds'), DOT_CHARTS.seconds);
  };
  return { root, draw };
}
