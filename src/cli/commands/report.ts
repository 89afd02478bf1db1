/**
 * `rnn-lab report <checkpoint> [--text file] [--history history.json] [--out report.html]`:
 * ONE self-contained HTML file (no network: the built webview bundles, their
 * CSS and the data are inlined) with the loss curve (from --history, else the
 * model's loss on the text computed now), the hidden states of the first
 * ~400 characters of the text, and the gradient-flow panel for a window of
 * the text. Each panel runs in an iframe (srcdoc) with a stub of the webview
 * API that answers its `panel/ready` with the data, and the hidden view's
 * `hidden/select` with the precomputed matrix of that layer and quantity
 * (every layer and quantity is inlined) and, for a model with attention, its
 * `hidden/attend` with the precomputed weights of that position (every
 * position is inlined), exactly as the extension host would.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { DataError, evaluateStream, familyOf, sample, traceHiddenStates, tsKernels } from '../../engine';
import { gradFlowWindow, round4 } from '../../engine/gradflowSnapshot';
import { attentionMessage, matrixMessage, quantitiesOf, traceMessage } from '../../shared/panels/hiddenStatesData';
import { historyPathFor, parseHistory } from '../../shared/history';
import type { InferTraceResult } from '../../shared/protocol';
import type { GradFlowSnapshot, HiddenAttentionMessage, HiddenMatrixMessage } from '../../shared/webviewProtocol';
import { loadCheckpoint } from '../checkpointFile';
import { encodeMarkingUnknown } from '../corpus';
import { quotePath, readTextHead, writeFileAtomic } from '../files';
import { EXIT_OK, type Output } from '../output';

const WINDOW = 48;
const MAX_EVAL_CHARS = 100_000;
/** Characters of the text whose hidden states the report shows. */
export const HIDDEN_SAMPLE_CHARS = 400;
/** At most this many hidden-state values in the report (all layers and quantities, ~7 bytes each): fewer characters for big models. */
export const HIDDEN_MAX_VALUES = 600_000;
/** Significant digits of the inlined hidden states (the heatmap cannot show more). */
const HIDDEN_DIGITS = 4;

/** VS Code's Light Modern colours, as the panels read them. */
const THEME: Record<string, string> = {
  '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#616161',
  '--vscode-editor-background': '#ffffff',
  '--vscode-widget-border': '#e5e5e5',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-button-background': '#005fb8',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-dropdown-background': '#ffffff',
  '--vscode-dropdown-foreground': '#3b3b3b',
  '--vscode-dropdown-border': '#cecece',
  '--vscode-settings-dropdownBackground': '#ffffff',
  '--vscode-settings-dropdownForeground': '#3b3b3b',
  '--vscode-settings-dropdownBorder': '#cecece',
  '--vscode-settings-dropdownListBorder': '#c8c8c8',
  '--vscode-settings-checkboxBackground': '#f8f8f8',
  '--vscode-settings-checkboxBorder': '#cecece',
  '--vscode-settings-checkboxForeground': '#3b3b3b',
  '--vscode-input-background': '#ffffff',
  '--vscode-input-foreground': '#3b3b3b',
  '--vscode-input-border': '#cecece',
  '--vscode-input-placeholderForeground': '#767676',
  '--vscode-settings-textInputBackground': '#ffffff',
  '--vscode-settings-textInputBorder': '#cecece',
  '--vscode-settings-textInputForeground': '#3b3b3b',
  '--vscode-editor-font-family': 'ui-monospace, "Droid Sans Mono", monospace',
  '--vscode-checkbox-background': '#f8f8f8',
  '--vscode-checkbox-border': '#cecece',
  '--vscode-list-activeSelectionBackground': '#e8e8e8',
  '--vscode-list-hoverBackground': '#f2f2f2',
  '--vscode-panelTitle-activeBorder': '#005fb8',
  '--vscode-panelTitle-activeForeground': '#3b3b3b',
  '--vscode-panelTitle-inactiveForeground': '#616161',
  '--vscode-charts-foreground': '#616161',
  '--vscode-charts-lines': '#61616180',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-yellow': '#bf8803',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
};

interface ReportOptions {
  text?: string;
  history?: string;
  out?: string;
}

export function addReportCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  program
    .command('report')
    .description('write one self-contained HTML report of a model (loss curve, hidden states, attention for a gpt, gradient flow) that opens in any browser offline')
    .argument('<checkpoint>', 'a model saved by rnn-lab')
    .option('--text <file>', 'text for the validation loss, the hidden states (its first 400 characters) and the gradient-flow window (default: text the model generates)')
    .option('--history <file>', 'the run\'s history for the loss curve (default: <checkpoint>.history.jsonl beside it, as train writes it; a history.json of 0.1.0 also works)')
    .option('--out <file>', 'where to write the report', 'report.html')
    .option('--json', 'print {"out","bytes"} as JSON')
    .action(async (checkpoint: string, opts: ReportOptions & { json?: boolean }) => {
      await run(Boolean(opts.json), async (out) => report(checkpoint, opts, out));
    });
}

/** The dist folder of the running CLI (dist/cli.js), or of the repository when run from source. */
function distDir(): string {
  const here = path.resolve(__dirname);
  for (const d of [here, path.join(here, '..', '..', '..', 'dist')]) if (existsSync(path.join(d, 'webview', 'gradflow.js'))) return d;
  throw new DataError('the webview bundles (dist/webview/*.js) are missing: build with `npm run build` first');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** JSON that is safe inside a <script> element. */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Rounds to `digits` significant digits (short JSON). */
function roundTo(v: number, digits: number): number {
  return Number.isFinite(v) ? +v.toPrecision(digits) : 0;
}

/** What a panel's stub answers besides `panel/ready`: the hidden view's matrices (keyed `layer:quantity`) and attention rows (keyed by position). */
interface StubAnswers {
  matrices?: Record<string, HiddenMatrixMessage>;
  attention?: Record<string, HiddenAttentionMessage>;
}

/**
 * One panel as a standalone document: CSS, a webview-API stub that answers
 * `panel/ready` with `messages`, a `hidden/select` with the matching entry
 * of `matrices` and a `hidden/attend` with the matching entry of
 * `attention`, the bundle.
 */
function panelDoc(title: string, bundle: string, css: string, mainClass: string, state: unknown, messages: unknown[], answers: StubAnswers = {}): string {
  const vars = Object.entries(THEME).map(([k, v]) => `${k}: ${v}`).join('; ');
  const stub = `window.acquireVsCodeApi = () => {
  let state = ${scriptJson(state)};
  const messages = ${scriptJson(messages)};
  const matrices = ${scriptJson(answers.matrices ?? {})};
  const attention = ${scriptJson(answers.attention ?? {})};
  return {
    postMessage(m) {
      if (m && m.kind === 'panel/ready') setTimeout(() => { for (const x of messages) window.postMessage(x, '*'); }, 0);
      if (m && m.kind === 'hidden/select') {
        const x = matrices[m.layer + ':' + m.quantity];
        if (x) setTimeout(() => window.postMessage(x, '*'), 0);
      }
      if (m && m.kind === 'hidden/attend') {
        const x = attention[m.t];
        if (x) setTimeout(() => window.postMessage(x, '*'), 0);
      }
      if (m && m.kind === 'panel/error') console.warn('report panel: ' + m.message);
    },
    getState: () => state,
    setState: (s) => { state = s; },
  };
};`;
  const js = bundle.replace(/<\/(script)/gi, '<\\/$1');
  return `<!DOCTYPE html><html lang="en" style="${escapeAttr(vars)}"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeAttr(title)}</title><style>${css}</style></head>
<body class="vscode-light"><main id="app" class="panel ${mainClass}"></main>
<script>${stub}</script><script>${js}</script></body></html>`;
}

function report(checkpointPath: string, opts: ReportOptions, out: Output): number {
  const ckpt = loadCheckpoint(checkpointPath);
  const { model } = ckpt;
  const dist = distDir();
  const kernels = tsKernels;
  // Only the start is scored (and traced): a large file is not read whole.
  const text = opts.text ? readTextHead(opts.text, 4 * MAX_EVAL_CHARS) : sample(model, kernels, '', { length: 400, temperature: 0.8, topK: 0, topP: 1, seed: 1, stop: [] });
  const name = ckpt.extra?.name || path.basename(checkpointPath).replace(/\.safetensors$/, '');
  const step = ckpt.trainState?.step ?? 0;
  const id = 'model';
  const cfg = model.config;

  // Loss now, on (the start of) the text.
  const { tokens } = encodeMarkingUnknown(model.vocab, [...text].slice(0, MAX_EVAL_CHARS).join(''));
  const ev = evaluateStream(model, tokens, kernels);

  // A window of known characters for the gradient flow.
  const chars = [...text];
  let start = chars.findIndex((_, i) => chars.slice(i, i + WINDOW + 1).length === WINDOW + 1 && chars.slice(i, i + WINDOW + 1).every((c) => model.vocab.has(c)));
  if (start < 0) start = 0;
  const windowText = chars.slice(start, start + WINDOW + 1).filter((c) => model.vocab.has(c)).join('');
  if ([...windowText].length < 3) throw new DataError(`${opts.text ? quotePath(opts.text) : 'the text'} has too few characters the model knows for a gradient-flow window`);
  const w = gradFlowWindow(model, windowText, kernels);
  const gradNorm = round4(Math.hypot(...Object.values(w.windowParamNorms)));
  const now: GradFlowSnapshot = { step, gradNorm, clippedNorm: gradNorm, clipped: false, clip: 0, paramGradNorms: w.windowParamNorms, ...w };

  // History of the run: --history, else the one beside the checkpoint (what `train` writes), if any.
  let progress: { step: number; epoch: number; epochProgress: number; loss: number; lr: number; charsPerSec: number; charsSeen: number }[] = [];
  let validation: { step: number; loss: number }[] = [];
  let snapshots: GradFlowSnapshot[] = [];
  const besideCheckpoint = historyPathFor(checkpointPath);
  const historyFile = opts.history ?? (existsSync(besideCheckpoint) ? besideCheckpoint : null);
  if (historyFile) {
    let text: string;
    try {
      text = readFileSync(historyFile, 'utf8');
    } catch (e) {
      throw new DataError(`cannot read the history ${quotePath(historyFile)}: ${(e as Error).message}`);
    }
    if (text.trimStart().startsWith('{"kind"') || historyFile.endsWith('.jsonl')) {
      const h = parseHistory(text);
      progress = h.steps;
      validation = h.validations;
    } else {
      // The extension's history.json of 0.1.0: { progress, validation, gradflow }.
      let h: { progress?: unknown; validation?: unknown; gradflow?: unknown };
      try {
        h = JSON.parse(text) as typeof h;
      } catch (e) {
        throw new DataError(`${quotePath(historyFile)} is not a readable history: ${(e as Error).message}`);
      }
      if (Array.isArray(h.progress)) progress = h.progress as typeof progress;
      if (Array.isArray(h.validation)) validation = h.validation as typeof validation;
      if (Array.isArray(h.gradflow)) snapshots = h.gradflow as GradFlowSnapshot[];
    }
  }
  const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const lossMessages = [
    { kind: 'loss/init', models: [{ id, name, cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, params: model.params.count, vocabSize: cfg.vocabSize, state: 'done', steps: step, bestValLoss: validation.length ? Math.min(...validation.map((v) => v.loss)) : ev.loss }], primary: id, compare: [] },
    {
      kind: 'loss/data', modelId: id, reset: true,
      progress: { step: progress.map((p) => p.step), epoch: progress.map((p) => p.epoch + p.epochProgress), chars: progress.map((p) => p.charsSeen), loss: progress.map((p) => fin(p.loss)), lr: progress.map((p) => fin(p.lr)), charsPerSec: progress.map((p) => fin(p.charsPerSec)) },
      validation: { step: [...validation.map((v) => v.step), ...(progress.length ? [] : [step])], loss: [...validation.map((v) => fin(v.loss)), ...(progress.length ? [] : [ev.loss])] },
    },
  ];
  // Hidden states of the start of the text: every layer and quantity, precomputed.
  const family = familyOf(cfg.cell);
  const Q = family.quantities(cfg).length;
  // Attention rows for every position: heads·layers·T(T+1)/2 values, kept within the same budget.
  const heads = family.attentionHeads?.(cfg) ?? 0;
  const attendChars = heads > 0 ? Math.floor(Math.sqrt((2 * HIDDEN_MAX_VALUES) / (heads * cfg.layers))) : Infinity;
  const hiddenChars = Math.max(1, Math.min(HIDDEN_SAMPLE_CHARS, attendChars, family.maxWindow?.(cfg) ?? Infinity, Math.floor(HIDDEN_MAX_VALUES / (cfg.hidden * cfg.layers * Q))));
  const hiddenText = chars.slice(0, hiddenChars).join('');
  const hs = traceHiddenStates(model, hiddenText, kernels);
  const hsTrace: InferTraceResult = {
    cell: cfg.cell, hidden: hs.hidden, chars: hs.chars, vocab: [...model.vocab.chars], unknown: hs.unknown,
    layers: hs.layers.map((l) => ({ h: l.h, ...(l.c ? { c: l.c } : {}), gates: l.gates })),
    nextProbs: hs.nextProbs, surprisalBits: hs.surprisalBits,
    ...(hs.attention ? { attention: hs.attention } : {}),
  };
  const hiddenSource = opts.text ? path.basename(opts.text) : 'generated text';
  const hsMsg = traceMessage(hsTrace, 1, { modelId: id, modelName: name, source: hiddenSource, firstLine: 1, totalChars: chars.length });
  hsMsg.topProbs = hsMsg.topProbs.map((p) => roundTo(p, HIDDEN_DIGITS));
  hsMsg.surprisal = hsMsg.surprisal.map((b) => (b === null ? null : roundTo(b, HIDDEN_DIGITS)));
  const hiddenMatrices: Record<string, HiddenMatrixMessage> = {};
  for (let l = 0; l < cfg.layers; l++) {
    for (const q of quantitiesOf(hsTrace)) {
      const m = matrixMessage(hsTrace, 1, l, q);
      if (m) hiddenMatrices[`${l}:${q}`] = { ...m, values: m.values.map((v) => roundTo(v, HIDDEN_DIGITS)) };
    }
  }
  const hiddenAttention: Record<string, HiddenAttentionMessage> = {};
  for (let t = 0; hsTrace.attention && t < hsTrace.chars.length; t++) {
    const a = attentionMessage(hsTrace, 1, t)!;
    hiddenAttention[t] = { ...a, weights: a.weights.map((v) => roundTo(v, HIDDEN_DIGITS)) };
  }
  const gradMessages = [
    { kind: 'gradflow/init', models: [{ id, name, cell: cfg.cell, family: family.title, hidden: cfg.hidden, layers: cfg.layers }], primary: id, compare: null },
    { kind: 'gradflow/data', modelId: id, reset: true, snapshots: [...snapshots, now] },
  ];
  const css = readFileSync(path.join(dist, '..', 'media', 'panel.css'), 'utf8');
  const hiddenCssFile = path.join(dist, '..', 'media', 'hidden.css');
  const hiddenCss = existsSync(hiddenCssFile) ? readFileSync(hiddenCssFile, 'utf8') : '';
  const frames: string[] = [];
  const addFrame = (title: string, bundle: string, cls: string, state: unknown, messages: unknown[], height: number, answers?: StubAnswers, extraCss = ''): void => {
    const file = path.join(dist, 'webview', `${bundle}.js`);
    if (!existsSync(file)) return;
    const doc = panelDoc(title, readFileSync(file, 'utf8'), css + extraCss, cls, state, messages, answers);
    frames.push(`<section><h2>${escapeAttr(title)}</h2><iframe id="${bundle}-frame" title="${escapeAttr(title)}" style="height:${height}px" srcdoc="${escapeAttr(doc)}"></iframe></section>`);
  };
  addFrame('Loss', 'loss', '', { modelId: id }, lossMessages, 620);
  addFrame(`Hidden states of the first ${[...hiddenText].length} characters`, 'hidden', 'hidden-view', {}, [hsMsg], Math.min(1000, 460 + Math.min(cfg.hidden, 64) * 8) + (heads > 0 ? 200 + heads * cfg.layers * 30 : 0), { matrices: hiddenMatrices, attention: hiddenAttention }, `\n${hiddenCss}`);
  addFrame('Gradient flow', 'gradflow', 'gradflow', { modelId: id }, gradMessages, 1100);
  const data = { model: { name, cell: cfg.cell, hidden: cfg.hidden, layers: cfg.layers, vocabSize: cfg.vocabSize, params: model.params.count, step }, loss: { nats: ev.loss, bpc: ev.bpc, chars: ev.chars }, window: windowText, snapshots: snapshots.length + 1, hidden: { text: hiddenText, chars: [...hiddenText].length, layers: cfg.layers, quantities: quantitiesOf(hsTrace), digits: HIDDEN_DIGITS, attentionHeads: heads }, gradflow: { network: w.network, taps: w.taps } };
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-src 'self' about:; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>RNN Lab report: ${escapeAttr(name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:16px 24px;color:#3b3b3b;background:#fff}iframe{width:100%;border:1px solid #e5e5e5;border-radius:4px}h1{font-size:1.4em}h2{font-size:1.1em;margin:18px 0 6px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dt{color:#616161}</style>
</head><body>
<h1>RNN Lab report: ${escapeAttr(name)}</h1>
<dl><dt>Model</dt><dd>${family.label(cfg)} ${cfg.hidden}×${cfg.layers}, ${model.params.count.toLocaleString('en-US')} parameters, vocabulary ${cfg.vocabSize}, step ${step}</dd>
<dt>Loss on ${opts.text ? escapeAttr(path.basename(opts.text)) : 'generated text'}</dt><dd id="loss-now">${ev.loss.toFixed(4)} nats/char (${ev.bpc.toFixed(4)} bits/char) over ${ev.chars} characters</dd>
<dt>Loss curve</dt><dd>${progress.length && historyFile ? `${progress.length} training points from ${escapeAttr(path.basename(historyFile))}` : 'no --history given and none beside the checkpoint: the chart shows the loss computed now'}</dd></dl>
${frames.join('\n')}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
</body></html>
`;
  const target = opts.out ?? 'report.html';
  const bytes = new TextEncoder().encode(html);
  writeFileAtomic(target, bytes);
  if (out.json) out.result({ out: target, bytes: bytes.length });
  else out.info(`wrote ${quotePath(target)} (${(bytes.length / 1024).toFixed(0)} KB): open it in any browser, it needs no network`);
  return EXIT_OK;
}
