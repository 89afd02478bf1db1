/**
 * Draws the loss panel from its state: the markup once, two chart.js charts
 * (loss; learning rate and throughput), the table of runs and the status line.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import {
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import { readTheme, withAlpha, type Theme } from '../common/theme';
import { compact, smooth } from './series';
import type { LossState } from './state';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation);

/** What each dataset shows, kept on the dataset so tests (and tooltips) can tell them apart. */
interface Tag {
  modelId: string;
  series: 'raw' | 'smoothed' | 'validation' | 'lr' | 'throughput';
}
type Dataset = ChartDataset<'line', { x: number; y: number | null }[]> & { rnnLab: Tag };
export type LossChart = Chart<'line', { x: number; y: number | null }[]>;

type ValueElement = HTMLElement & { value: string };

/** The elements the controls listen on. */
export interface LossElements {
  unitsSel: ValueElement;
  xSel: ValueElement;
  ySel: ValueElement;
  smoothingInput: HTMLInputElement;
  smoothingOut: HTMLOutputElement;
  rawBox: HTMLElement & { checked: boolean };
  compareSel: HTMLElement & { value: string[] };
  tabs: HTMLElement & { selectedIndex: number };
  exportPng: HTMLElement;
  exportCsv: HTMLElement;
}

export interface LossDrawing {
  readonly elements: LossElements;
  readonly lossChart: LossChart;
  readonly rateChart: LossChart;
  /** Redraws the charts, the table and the status now. */
  draw(): void;
  /** Rebuilds the "Compare with" choices from the state's models. */
  renderCompareOptions(): void;
  /** The chart of the open tab as a PNG data URL. */
  pngDataUrl(): string;
  theme(): Theme;
  setTheme(theme: Theme): void;
}

export function mountLoss(app: HTMLElement, state: LossState): LossDrawing {
  let theme: Theme = readTheme();

  app.innerHTML = `
    <div class="toolbar" role="toolbar" aria-label="Chart options">
      <label class="field">Units
        <vscode-single-select id="units" aria-label="Loss units">
          <vscode-option value="nats">nats/char</vscode-option>
          <vscode-option value="bits">bits/char</vscode-option>
        </vscode-single-select>
      </label>
      <label class="field">X axis
        <vscode-single-select id="x" aria-label="X axis">
          <vscode-option value="step">steps</vscode-option>
          <vscode-option value="epoch">epochs</vscode-option>
          <vscode-option value="chars">characters seen</vscode-option>
        </vscode-single-select>
      </label>
      <label class="field">Y scale
        <vscode-single-select id="yscale" aria-label="Y scale">
          <vscode-option value="linear">linear</vscode-option>
          <vscode-option value="logarithmic">log</vscode-option>
        </vscode-single-select>
      </label>
      <label class="field smoothing">Smoothing
        <input id="smoothing" type="range" min="0" max="0.99" step="0.01" aria-label="Smoothing">
        <output id="smoothing-value" for="smoothing"></output>
      </label>
      <vscode-checkbox id="raw" label="Raw loss" title="Show the unsmoothed training loss"></vscode-checkbox>
      <span class="spacer"></span>
      <vscode-button id="export-png" secondary title="Save the chart as a PNG image">Export PNG</vscode-button>
      <vscode-button id="export-csv" secondary title="Save the data as CSV">Export CSV</vscode-button>
    </div>
    <div class="toolbar compare-row">
      <label class="field compare">Compare with
        <vscode-multi-select id="compare" aria-label="Models to overlay" placeholder="other models…"></vscode-multi-select>
      </label>
      <span id="status" class="status" role="status"></span>
    </div>
    <vscode-tabs id="tabs">
      <vscode-tab-header slot="header">Loss</vscode-tab-header>
      <vscode-tab-panel>
        <div class="chart-box"><canvas id="loss-chart" role="img" aria-label="Loss over training"></canvas>
          <p id="empty" class="empty" hidden>No training data yet: the chart fills in as the model trains.</p></div>
      </vscode-tab-panel>
      <vscode-tab-header slot="header">Learning rate &amp; throughput</vscode-tab-header>
      <vscode-tab-panel>
        <div class="chart-box"><canvas id="rate-chart" role="img" aria-label="Learning rate and characters per second"></canvas></div>
      </vscode-tab-panel>
    </vscode-tabs>
    <table id="runs" class="runs" aria-label="Runs shown">
      <thead><tr><th></th><th>Model</th><th>Cell</th><th>Size</th><th>Params</th><th>Optimizer</th><th>lr</th><th>Batch×seq</th><th>Steps</th><th>Train loss</th><th>Best val</th><th>State</th></tr></thead>
      <tbody></tbody>
    </table>`;
  app.removeAttribute('aria-busy');

  const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
  const unitsSel = $<ValueElement>('units');
  const xSel = $<ValueElement>('x');
  const ySel = $<ValueElement>('yscale');
  const smoothingInput = $<HTMLInputElement>('smoothing');
  const smoothingOut = $<HTMLOutputElement>('smoothing-value');
  const rawBox = $<HTMLElement & { checked: boolean }>('raw');
  const compareSel = $<HTMLElement & { value: string[] }>('compare');
  const tabs = $<HTMLElement & { selectedIndex: number }>('tabs');

  unitsSel.value = state.view.units;
  xSel.value = state.view.x;
  ySel.value = state.view.yScale;
  smoothingInput.value = String(state.view.smoothing);
  smoothingOut.textContent = state.view.smoothing.toFixed(2);
  rawBox.checked = state.view.showRaw;
  tabs.selectedIndex = state.view.tab;

  // ------------------------------------------------------------------ charts

  /** Fills the canvas with the editor background first, so an exported PNG is readable on its own. */
  const background: Plugin<'line'> = {
    id: 'rnnLabBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };

  function axisTitle(text: string) {
    return { display: true, text, color: theme.muted };
  }

  function xTitle(): string {
    return state.view.x === 'step' ? 'step' : state.view.x === 'epoch' ? 'epoch' : 'characters seen';
  }

  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false as const,
    normalized: true,
    parsing: false as const,
    interaction: { mode: 'nearest' as const, axis: 'x' as const, intersect: false },
  };

  const lossChart = new Chart<'line', { x: number; y: number | null }[]>($<HTMLCanvasElement>('loss-chart'), {
    type: 'line',
    data: { datasets: [] },
    plugins: [background],
    options: {
      ...common,
      scales: {
        x: { type: 'linear', title: axisTitle(xTitle()), ticks: { callback: (v) => compact(Number(v)) } },
        y: { type: state.view.yScale, title: axisTitle(''), ticks: { callback: (v) => +Number(v).toPrecision(3) } },
      },
      plugins: {
        decimation: { enabled: true, algorithm: 'lttb', samples: 1500, threshold: 3000 },
        legend: { labels: { boxWidth: 14, boxHeight: 2, filter: (item, data) => !(data.datasets[item.datasetIndex!] as Dataset).hidden } },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${typeof c.parsed.y === 'number' ? c.parsed.y.toFixed(4) : '—'}` } },
      },
    },
  });

  const rateChart = new Chart<'line', { x: number; y: number | null }[]>($<HTMLCanvasElement>('rate-chart'), {
    type: 'line',
    data: { datasets: [] },
    plugins: [background],
    options: {
      ...common,
      scales: {
        x: { type: 'linear', title: axisTitle(xTitle()), ticks: { callback: (v) => compact(Number(v)) } },
        lr: { type: 'linear', position: 'left', grace: '10%', title: axisTitle('learning rate'), ticks: { callback: (v) => Number(v).toExponential(1) } },
        throughput: { type: 'linear', position: 'right', beginAtZero: true, title: axisTitle('characters / second'), grid: { drawOnChartArea: false }, ticks: { callback: (v) => compact(Number(v)) } },
      },
      plugins: { decimation: { enabled: true, algorithm: 'lttb', samples: 1500, threshold: 3000 }, legend: { labels: { boxWidth: 14, boxHeight: 2 } } },
    },
  });

  // ------------------------------------------------------------------ drawing

  function colorOf(index: number): string {
    return theme.palette[index % theme.palette.length]!;
  }

  function points(xs: readonly number[], ys: readonly (number | null)[]): { x: number; y: number | null }[] {
    const out = new Array<{ x: number; y: number | null }>(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = { x: xs[i]!, y: ys[i] ?? null };
    return out;
  }

  function lossDatasets(): Dataset[] {
    const width = theme.kind.startsWith('high-contrast') ? 3 : 2;
    const out: Dataset[] = [];
    state.shown().forEach((id, k) => {
      const run = state.runs.get(id);
      if (!run) return;
      const color = colorOf(k);
      const name = state.nameOf(id);
      const xs = state.xsOf(run);
      const raw = run.progress.loss.map((v) => state.toUnits(v));
      out.push({
        label: `${name} · train`,
        data: points(xs, raw),
        borderColor: withAlpha(color, 0.3),
        backgroundColor: withAlpha(color, 0.3),
        borderWidth: 1,
        pointRadius: 0,
        hidden: !state.view.showRaw,
        rnnLab: { modelId: id, series: 'raw' },
      });
      out.push({
        label: `${name} · train (smoothed)`,
        data: points(xs, smooth(raw, state.view.smoothing)),
        borderColor: color,
        backgroundColor: color,
        borderWidth: width,
        pointRadius: 0,
        rnnLab: { modelId: id, series: 'smoothed' },
      });
      out.push({
        label: `${name} · validation`,
        data: points(state.validationXs(run), run.validation.loss.map((v) => state.toUnits(v))),
        borderColor: color,
        backgroundColor: theme.background,
        borderWidth: width,
        borderDash: [6, 4],
        pointRadius: 3.5,
        pointBorderWidth: 2,
        pointStyle: 'rectRot',
        rnnLab: { modelId: id, series: 'validation' },
      });
    });
    return out;
  }

  function rateDatasets(): Dataset[] {
    const out: Dataset[] = [];
    state.shown().forEach((id, k) => {
      const run = state.runs.get(id);
      if (!run) return;
      const color = colorOf(k);
      const xs = state.xsOf(run);
      out.push({ label: `${state.nameOf(id)} · learning rate`, data: points(xs, run.progress.lr), yAxisID: 'lr', borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0, rnnLab: { modelId: id, series: 'lr' } });
      out.push({
        label: `${state.nameOf(id)} · chars/s`,
        data: points(xs, smooth(run.progress.charsPerSec, 0.6)),
        yAxisID: 'throughput',
        borderColor: withAlpha(color, 0.7),
        backgroundColor: withAlpha(color, 0.7),
        borderWidth: 1.5,
        borderDash: [3, 3],
        pointRadius: 0,
        rnnLab: { modelId: id, series: 'throughput' },
      });
    });
    return out;
  }

  function styleScales(chart: Chart<'line', { x: number; y: number | null }[]>): void {
    chart.options.color = theme.foreground;
    chart.options.font = { family: theme.fontFamily, size: Math.max(11, theme.fontSize - 1) };
    for (const scale of Object.values(chart.options.scales ?? {})) {
      if (!scale) continue;
      scale.ticks = { ...scale.ticks, color: theme.foreground };
      const grid = (scale.grid ?? {}) as { color?: string };
      scale.grid = { ...scale.grid, color: withAlpha(theme.grid, 0.5) } as typeof scale.grid;
      void grid;
      scale.border = { ...scale.border, color: theme.grid };
      const title = (scale as { title?: { text?: string } }).title;
      if (title) (scale as { title: object }).title = { ...title, color: theme.muted };
    }
    const tooltip = chart.options.plugins?.tooltip;
    if (tooltip) {
      tooltip.backgroundColor = withAlpha(theme.background, 0.95);
      tooltip.titleColor = theme.foreground;
      tooltip.bodyColor = theme.foreground;
      tooltip.borderColor = theme.grid;
      tooltip.borderWidth = 1;
    }
  }

  function draw(): void {
    const lx = lossChart.options.scales!.x!;
    const ly = lossChart.options.scales!.y!;
    lx.type = 'linear';
    (lx as { title: object }).title = axisTitle(xTitle());
    ly.type = state.view.yScale;
    (ly as { title: object }).title = axisTitle(state.view.units === 'bits' ? 'loss (bits per character)' : 'loss (nats per character)');
    (rateChart.options.scales!.x as { title: object }).title = axisTitle(xTitle());
    styleScales(lossChart);
    styleScales(rateChart);
    lossChart.data.datasets = lossDatasets();
    rateChart.data.datasets = rateDatasets();
    lossChart.update('none');
    rateChart.update('none');
    const primary = state.runs.get(state.view.modelId);
    $('empty').hidden = !!primary && primary.progress.step.length > 0;
    renderTable();
    renderStatus();
  }

  function fmt(v: number | null | undefined, digits = 3): string {
    return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
  }

  function lastFinite(a: readonly (number | null)[]): number | null {
    for (let i = a.length - 1; i >= 0; i--) if (a[i] !== null && Number.isFinite(a[i])) return a[i]!;
    return null;
  }

  function renderTable(): void {
    const body = document.querySelector('#runs tbody')!;
    body.replaceChildren();
    state.shown().forEach((id, k) => {
      const m = state.models.find((x) => x.id === id);
      const run = state.runs.get(id);
      const tr = document.createElement('tr');
      tr.dataset.modelId = id;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = colorOf(k);
      const cells: (string | Node)[] = [
        swatch,
        m?.name ?? id,
        m?.cell.toUpperCase() ?? '',
        m ? `${m.hidden}×${m.layers}` : '',
        m ? compact(m.params) : '',
        m?.optimizer ?? '—',
        m?.lr !== undefined ? String(m.lr) : '—',
        m?.batch !== undefined ? `${m.batch}×${m.seq}` : '—',
        String(run?.progress.step.at(-1) ?? m?.steps ?? 0),
        fmt(state.toUnits(run ? lastFinite(smooth(run.progress.loss, state.view.smoothing)) : null)),
        fmt(state.toUnits(run && run.validation.loss.length ? Math.min(...run.validation.loss.filter((v): v is number => v !== null)) : (m?.bestValLoss ?? null))),
        m?.state ?? '',
      ];
      for (const c of cells) {
        const td = document.createElement('td');
        td.append(c);
        tr.append(td);
      }
      body.append(tr);
    });
  }

  function renderStatus(): void {
    const run = state.runs.get(state.view.modelId);
    const status = $('status');
    if (!run || run.progress.step.length === 0) {
      status.textContent = '';
      return;
    }
    const n = run.progress.step.length - 1;
    const unit = state.view.units === 'bits' ? 'bits/char' : 'nats/char';
    const parts = [`step ${run.progress.step[n]}`, `loss ${fmt(state.toUnits(lastFinite(smooth(run.progress.loss, state.view.smoothing))))} ${unit}`];
    const v = lastFinite(run.validation.loss);
    if (v !== null) parts.push(`validation ${fmt(state.toUnits(v))}`);
    const speed = run.progress.charsPerSec[n];
    if (speed !== null && speed !== undefined) parts.push(`${compact(speed)} chars/s`);
    status.textContent = parts.join(' · ');
  }

  function renderCompareOptions(): void {
    const others = state.others();
    compareSel.replaceChildren(
      ...others.map((m) => {
        const o = document.createElement('vscode-option') as HTMLElement & { value: string };
        o.setAttribute('value', m.id);
        o.textContent = `${m.name} (${m.cell.toUpperCase()} ${m.hidden}×${m.layers})`;
        return o;
      }),
    );
    compareSel.value = state.view.compare.filter((id) => others.some((m) => m.id === id));
    compareSel.toggleAttribute('disabled', others.length === 0);
    // vscode-elements restores the tab index the select had when first disabled (-1 before it upgraded): keep it a tab stop.
    if (others.length > 0 && compareSel.tabIndex < 0) compareSel.tabIndex = 0;
  }

  function pngDataUrl(): string {
    return (state.view.tab === 1 ? rateChart : lossChart).toBase64Image('image/png', 1);
  }

  return {
    elements: { unitsSel, xSel, ySel, smoothingInput, smoothingOut, rawBox, compareSel, tabs, exportPng: $('export-png'), exportCsv: $('export-csv') },
    lossChart,
    rateChart,
    draw,
    renderCompareOptions,
    pngDataUrl,
    theme: () => theme,
    setTheme: (t) => {
      theme = t;
    },
  };
}
