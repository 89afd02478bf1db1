/**
 * The loss panel: training loss (raw and smoothed), validation loss, learning
 * rate and throughput of one model, with other models overlaid. A passive
 * view: the host sends the data, this page keeps only what it draws and the
 * user's view options (vscode.setState, which also restores the panel after a
 * window reload).
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
import type {
  LossHostMessage,
  LossModelInfo,
  LossPanelState,
  LossSeriesChunk,
  LossValidationChunk,
  LossWebviewMessage,
} from '../../src/shared/webviewProtocol';
import { connect } from '../common/host';
import { readTheme, watchTheme, withAlpha, type Theme } from '../common/theme';
import { checkHostMessage } from './checks';
import { compact, csvRow, interpolate, LN2, smooth } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation);

type Units = 'nats' | 'bits';
type XAxis = 'step' | 'epoch' | 'chars';
type YScale = 'linear' | 'logarithmic';

interface Run {
  progress: LossSeriesChunk;
  validation: LossValidationChunk;
}

/** What each dataset shows, kept on the dataset so tests (and tooltips) can tell them apart. */
interface Tag {
  modelId: string;
  series: 'raw' | 'smoothed' | 'validation' | 'lr' | 'throughput';
}
type Dataset = ChartDataset<'line', { x: number; y: number | null }[]> & { rnnLab: Tag };

const host = connect<LossHostMessage, LossWebviewMessage, LossPanelState>(checkHostMessage);
const saved = host.getState() ?? {};

const view = {
  modelId: saved.modelId ?? '',
  compare: saved.compare ?? [],
  units: (saved.units === 'bits' ? 'bits' : 'nats') as Units,
  x: (saved.x === 'epoch' || saved.x === 'chars' ? saved.x : 'step') as XAxis,
  yScale: (saved.yScale === 'logarithmic' ? 'logarithmic' : 'linear') as YScale,
  smoothing: typeof saved.smoothing === 'number' ? Math.min(Math.max(saved.smoothing, 0), 0.99) : 0.6,
  showRaw: saved.showRaw ?? true,
  tab: saved.tab === 1 ? 1 : 0,
};
let models: LossModelInfo[] = [];
const runs = new Map<string, Run>();
let theme: Theme = readTheme();

// ------------------------------------------------------------------ markup

const app = document.getElementById('app')!;
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
type ValueElement = HTMLElement & { value: string };
const unitsSel = $<ValueElement>('units');
const xSel = $<ValueElement>('x');
const ySel = $<ValueElement>('yscale');
const smoothingInput = $<HTMLInputElement>('smoothing');
const smoothingOut = $<HTMLOutputElement>('smoothing-value');
const rawBox = $<HTMLElement & { checked: boolean }>('raw');
const compareSel = $<HTMLElement & { value: string[] }>('compare');
const tabs = $<HTMLElement & { selectedIndex: number }>('tabs');

unitsSel.value = view.units;
xSel.value = view.x;
ySel.value = view.yScale;
smoothingInput.value = String(view.smoothing);
smoothingOut.textContent = view.smoothing.toFixed(2);
rawBox.checked = view.showRaw;
tabs.selectedIndex = view.tab;

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
  return view.x === 'step' ? 'step' : view.x === 'epoch' ? 'epoch' : 'characters seen';
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
      y: { type: view.yScale, title: axisTitle(''), ticks: { callback: (v) => +Number(v).toPrecision(3) } },
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

function shown(): string[] {
  return [view.modelId, ...view.compare.filter((id) => id !== view.modelId)].filter((id) => runs.has(id) || id === view.modelId);
}

function nameOf(id: string): string {
  return models.find((m) => m.id === id)?.name ?? id.slice(0, 8);
}

function colorOf(index: number): string {
  return theme.palette[index % theme.palette.length]!;
}

function xsOf(run: Run): number[] {
  return view.x === 'step' ? run.progress.step : view.x === 'epoch' ? run.progress.epoch : run.progress.chars;
}

function validationXs(run: Run): number[] {
  if (view.x === 'step') return run.validation.step;
  const ys = view.x === 'epoch' ? run.progress.epoch : run.progress.chars;
  return run.validation.step.map((s) => interpolate(run.progress.step, ys, s));
}

const toUnits = (v: number | null): number | null => (v === null ? null : view.units === 'bits' ? v / LN2 : v);

function points(xs: readonly number[], ys: readonly (number | null)[]): { x: number; y: number | null }[] {
  const out = new Array<{ x: number; y: number | null }>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = { x: xs[i]!, y: ys[i] ?? null };
  return out;
}

function lossDatasets(): Dataset[] {
  const width = theme.kind.startsWith('high-contrast') ? 3 : 2;
  const out: Dataset[] = [];
  shown().forEach((id, k) => {
    const run = runs.get(id);
    if (!run) return;
    const color = colorOf(k);
    const name = nameOf(id);
    const xs = xsOf(run);
    const raw = run.progress.loss.map(toUnits);
    out.push({
      label: `${name} · train`,
      data: points(xs, raw),
      borderColor: withAlpha(color, 0.3),
      backgroundColor: withAlpha(color, 0.3),
      borderWidth: 1,
      pointRadius: 0,
      hidden: !view.showRaw,
      rnnLab: { modelId: id, series: 'raw' },
    });
    out.push({
      label: `${name} · train (smoothed)`,
      data: points(xs, smooth(raw, view.smoothing)),
      borderColor: color,
      backgroundColor: color,
      borderWidth: width,
      pointRadius: 0,
      rnnLab: { modelId: id, series: 'smoothed' },
    });
    out.push({
      label: `${name} · validation`,
      data: points(validationXs(run), run.validation.loss.map(toUnits)),
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
  shown().forEach((id, k) => {
    const run = runs.get(id);
    if (!run) return;
    const color = colorOf(k);
    const xs = xsOf(run);
    out.push({ label: `${nameOf(id)} · learning rate`, data: points(xs, run.progress.lr), yAxisID: 'lr', borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0, rnnLab: { modelId: id, series: 'lr' } });
    out.push({
      label: `${nameOf(id)} · chars/s`,
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
  ly.type = view.yScale;
  (ly as { title: object }).title = axisTitle(view.units === 'bits' ? 'loss (bits per character)' : 'loss (nats per character)');
  (rateChart.options.scales!.x as { title: object }).title = axisTitle(xTitle());
  styleScales(lossChart);
  styleScales(rateChart);
  lossChart.data.datasets = lossDatasets();
  rateChart.data.datasets = rateDatasets();
  lossChart.update('none');
  rateChart.update('none');
  const primary = runs.get(view.modelId);
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
  shown().forEach((id, k) => {
    const m = models.find((x) => x.id === id);
    const run = runs.get(id);
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
      fmt(toUnits(run ? lastFinite(smooth(run.progress.loss, view.smoothing)) : null)),
      fmt(toUnits(run && run.validation.loss.length ? Math.min(...run.validation.loss.filter((v): v is number => v !== null)) : (m?.bestValLoss ?? null))),
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
  const run = runs.get(view.modelId);
  const status = $('status');
  if (!run || run.progress.step.length === 0) {
    status.textContent = '';
    return;
  }
  const n = run.progress.step.length - 1;
  const unit = view.units === 'bits' ? 'bits/char' : 'nats/char';
  const parts = [`step ${run.progress.step[n]}`, `loss ${fmt(toUnits(lastFinite(smooth(run.progress.loss, view.smoothing))))} ${unit}`];
  const v = lastFinite(run.validation.loss);
  if (v !== null) parts.push(`validation ${fmt(toUnits(v))}`);
  const speed = run.progress.charsPerSec[n];
  if (speed !== null && speed !== undefined) parts.push(`${compact(speed)} chars/s`);
  status.textContent = parts.join(' · ');
}

/** Redraws at most once per frame however many messages arrive. */
let frame = 0;
function scheduleDraw(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    draw();
  });
}

// ------------------------------------------------------------------ state and controls

function saveState(): void {
  host.setState({ ...view });
}

function renderCompareOptions(): void {
  const others = models.filter((m) => m.id !== view.modelId);
  compareSel.replaceChildren(
    ...others.map((m) => {
      const o = document.createElement('vscode-option') as HTMLElement & { value: string };
      o.setAttribute('value', m.id);
      o.textContent = `${m.name} (${m.cell.toUpperCase()} ${m.hidden}×${m.layers})`;
      return o;
    }),
  );
  compareSel.value = view.compare.filter((id) => others.some((m) => m.id === id));
  compareSel.toggleAttribute('disabled', others.length === 0);
  // vscode-elements restores the tab index the select had when first disabled (-1 before it upgraded): keep it a tab stop.
  if (others.length > 0 && compareSel.tabIndex < 0) compareSel.tabIndex = 0;
}

unitsSel.addEventListener('change', () => {
  view.units = unitsSel.value === 'bits' ? 'bits' : 'nats';
  saveState();
  draw();
});
xSel.addEventListener('change', () => {
  view.x = xSel.value === 'epoch' || xSel.value === 'chars' ? xSel.value : 'step';
  saveState();
  draw();
});
ySel.addEventListener('change', () => {
  view.yScale = ySel.value === 'logarithmic' ? 'logarithmic' : 'linear';
  saveState();
  draw();
});
smoothingInput.addEventListener('input', () => {
  view.smoothing = Math.min(Math.max(Number(smoothingInput.value) || 0, 0), 0.99);
  smoothingOut.textContent = view.smoothing.toFixed(2);
  saveState();
  scheduleDraw();
});
rawBox.addEventListener('change', () => {
  view.showRaw = rawBox.checked;
  saveState();
  draw();
});
compareSel.addEventListener('change', () => {
  view.compare = [...compareSel.value].filter((id) => id !== view.modelId);
  saveState();
  host.post({ kind: 'loss/compare', modelIds: view.compare });
});
tabs.addEventListener('vsc-tabs-select', () => {
  view.tab = tabs.selectedIndex === 1 ? 1 : 0;
  saveState();
});

function safeName(): string {
  return (nameOf(view.modelId).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model').slice(0, 80);
}

function pngDataUrl(): string {
  return (view.tab === 1 ? rateChart : lossChart).toBase64Image('image/png', 1);
}

/** The data of every shown run, one row per point, loss in both units. */
function csv(): string {
  const rows = [csvRow(['model', 'model_id', 'series', 'step', 'epoch', 'chars_seen', 'loss_nats', 'loss_bits', 'smoothed_nats', 'lr', 'chars_per_sec'])];
  for (const id of shown()) {
    const run = runs.get(id);
    if (!run) continue;
    const p = run.progress;
    const sm = smooth(p.loss, view.smoothing);
    for (let i = 0; i < p.step.length; i++) {
      const l = p.loss[i] ?? null;
      rows.push(csvRow([nameOf(id), id, 'train', p.step[i]!, +p.epoch[i]!.toFixed(6), p.chars[i]!, l, l === null ? null : l / LN2, sm[i] ?? null, p.lr[i] ?? null, p.charsPerSec[i] ?? null]));
    }
    const ve = view.x === 'epoch' ? validationXs(run) : run.validation.step.map((s) => interpolate(p.step, p.epoch, s));
    const vc = run.validation.step.map((s) => Math.round(interpolate(p.step, p.chars, s)));
    for (let i = 0; i < run.validation.step.length; i++) {
      const l = run.validation.loss[i] ?? null;
      rows.push(csvRow([nameOf(id), id, 'validation', run.validation.step[i]!, +ve[i]!.toFixed(6), vc[i]!, l, l === null ? null : l / LN2, null, null, null]));
    }
  }
  return rows.join('\n') + '\n';
}

$('export-png').addEventListener('click', () => {
  host.post({ kind: 'panel/export', format: 'png', fileName: `loss-${safeName()}.png`, data: pngDataUrl() });
});
$('export-csv').addEventListener('click', () => {
  host.post({ kind: 'panel/export', format: 'csv', fileName: `loss-${safeName()}.csv`, data: csv() });
});

// ------------------------------------------------------------------ messages from the host

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

host.onMessage((m) => {
  switch (m.kind) {
    case 'loss/init':
      models = m.models;
      view.modelId = m.primary;
      view.compare = m.compare;
      runs.clear();
      saveState();
      renderCompareOptions();
      scheduleDraw();
      break;
    case 'loss/models':
      models = m.models;
      renderCompareOptions();
      scheduleDraw();
      break;
    case 'loss/data': {
      if (m.modelId !== view.modelId && !view.compare.includes(m.modelId)) break;
      let run = runs.get(m.modelId);
      if (!run || m.reset) {
        run = { progress: { step: [], epoch: [], chars: [], loss: [], lr: [], charsPerSec: [] }, validation: { step: [], loss: [] } };
        runs.set(m.modelId, run);
      }
      append(run, m.progress, m.validation);
      scheduleDraw();
      break;
    }
    case 'loss/remove':
      runs.delete(m.modelId);
      view.compare = view.compare.filter((id) => id !== m.modelId);
      renderCompareOptions();
      saveState();
      scheduleDraw();
      break;
  }
});

watchTheme((t) => {
  theme = t;
  draw();
});

// Hooks for the Chromium tests (test/webview): what is drawn, without reaching into closures.
(window as unknown as { __rnnLab: unknown }).__rnnLab = {
  lossChart,
  rateChart,
  view,
  runs,
  errors: host.errors,
  csv,
  pngDataUrl,
  drawNow: () => {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    draw();
  },
  theme: () => theme,
};

draw();
host.post({ kind: 'panel/ready' });
