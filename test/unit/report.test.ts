/**
 * `rnn-lab report`: runs the built CLI on a freshly trained tiny model and
 * checks the HTML is ONE self-contained file (no external resources, the
 * data inlined), then opens it in Chromium with every network request
 * refused: no errors, the loss chart and the gradient flow drawn.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createModel, DEFAULT_TRAIN, encodeCheckpoint, splitTokens, Trainer, tsKernels, Vocab } from '../../src/engine';

const root = path.resolve(__dirname, '..', '..');
const CLI = path.join(root, 'dist', 'cli.js');
const CHROMIUM = process.env.RNN_LAB_CHROMIUM ?? '/usr/lib/chromium/chromium';
const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
/** XML namespace names are identifiers, not resources: the only URLs a page may mention. */
// Page globals for the functions run in Chromium (the root tsconfig has no DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any, document: any;
const NAMESPACES = /^https?:\/\/www\.w3\.org\/(2000\/svg|1999\/xhtml|1999\/xlink|1998\/Math\/MathML|XML\/1998\/namespace|2000\/xmlns\/?)$/;

let dir = '';
before(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  dir = mkdtempSync(path.join(tmpdir(), 'rnn-lab-report-'));
  const vocab = Vocab.fromText(TEXT);
  const { train } = splitTokens(vocab.encode(TEXT).tokens, 0.1);
  const cfg = { ...DEFAULT_TRAIN, batch: 3, seq: 20, lr: 1e-2 };
  const { model, rng } = createModel({ cell: 'rnn', activation: 'tanh', hidden: 12, layers: 2 }, vocab, 1);
  const trainer = new Trainer(model, cfg, train, tsKernels, rng);
  const progress = [];
  for (let i = 0; i < 30; i++) {
    const r = trainer.step();
    progress.push({ kind: 'train/progress', runId: 'x', step: r.step, epoch: r.epoch, epochProgress: r.epochProgress, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, charsPerSec: 1000, charsSeen: trainer.state.charsSeen });
  }
  writeFileSync(path.join(dir, 'model.safetensors'), encodeCheckpoint(model, cfg, trainer, { name: 'cats-rnn' }));
  writeFileSync(path.join(dir, 'text.txt'), TEXT);
  writeFileSync(path.join(dir, 'history.json'), JSON.stringify({ progress, validation: [{ kind: 'train/validation', runId: 'x', step: 30, loss: 2.5, bpc: 3.6 }], gradflow: [] }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function runReport(args: string[]): { out: string; html: string } {
  const out = execFileSync(process.execPath, [CLI, 'report', path.join(dir, 'model.safetensors'), ...args], { encoding: 'utf8' });
  const file = args[args.indexOf('--out') + 1]!;
  return { out, html: readFileSync(file, 'utf8') };
}

describe('rnn-lab report', () => {
  it('writes one self-contained HTML file: bundles, CSS and data inlined, nothing loaded from outside', () => {
    const file = path.join(dir, 'report.html');
    const { out, html } = runReport(['--text', path.join(dir, 'text.txt'), '--history', path.join(dir, 'history.json'), '--out', file]);
    assert.match(out, /wrote .*report\.html/);
    // The two panels, their bundles and CSS inlined.
    assert.match(html, /<iframe id="loss-frame"/);
    assert.match(html, /<iframe id="gradflow-frame"/);
    assert.ok(html.includes('gradflow/init') && html.includes('loss/data'), 'the panel messages are inlined');
    assert.ok(html.includes(readFileSync(path.join(root, 'media/panel.css'), 'utf8').slice(0, 200).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'panel.css inlined');
    // No external resource of any kind: no src/href to a URL, no CSS url() or @import, no external scripts.
    assert.doesNotMatch(html, /\b(src|href|action|poster)\s*=\s*(&quot;|["'])?\s*(https?:)?\/\//i);
    assert.doesNotMatch(html, /url\(\s*(&quot;|["'])?\s*(https?:)?\/\//i);
    assert.doesNotMatch(html, /@import/i);
    assert.doesNotMatch(html, /<script[^>]*\ssrc=/i);
    assert.doesNotMatch(html, /<link[^>]*stylesheet/i);
    // Any http(s) URL text left is an XML namespace or inside a comment/help string of a bundled library, never loaded.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'&<>)\\]+/g)].map((m) => m[0]);
    const loaded = urls.filter((u) => !NAMESPACES.test(u) && !/chartjs\.org|github\.com|developer\.mozilla\.org|vscode-elements\.github\.io/.test(u));
    assert.deepEqual(loaded, []);
    // The data: the loss now, the model, the gradient-flow window.
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    assert.equal(data.model.name, 'cats-rnn');
    assert.equal(data.model.cell, 'rnn');
    assert.equal(data.model.step, 30);
    assert.ok(data.loss.nats > 0 && data.loss.nats < 5);
    assert.ok(TEXT.includes(data.window));
    assert.match(html, /30 training points from history\.json/);
  });

  it('without --history or --text: the loss computed now, a window of generated text', () => {
    const file = path.join(dir, 'plain.html');
    const { html } = runReport(['--out', file]);
    assert.match(html, /no --history given/);
    assert.match(html, /Loss on generated text/);
  });

  it('opens in Chromium with the network refused: no errors, the loss chart and the gradient flow drawn', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, async () => {
    const file = path.join(dir, 'report.html');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (!url.startsWith('file:')) requests.push(url);
        return url.startsWith('file:') ? route.continue() : route.abort();
      });
      await page.goto(pathToFileURL(file).href);


      const frames = page.frames().filter((f) => f !== page.mainFrame());
      assert.equal(frames.length, 2);
      const [lossFrame, gradFrame] = frames;
      await gradFrame!.waitForFunction(() => document.querySelectorAll('#net circle.node-h').length > 0, undefined, { timeout: 15_000 });
      const counts = await gradFrame!.evaluate(() => ({
        h: document.querySelectorAll('#net circle.node-h').length,
        bars: document.querySelectorAll('#bars rect.bar').length,
        decay: document.querySelectorAll('#decay polyline.decay-line').length,
      }));
      assert.equal(counts.h, 2 * 48, 'h nodes for 2 layers × 48 steps');
      assert.equal(counts.bars, 48);
      assert.equal(counts.decay, 1);
      await lossFrame!.waitForFunction(() => (window as unknown as { __rnnLab?: { lossChart: { data: { datasets: unknown[] } } } }).__rnnLab?.lossChart.data.datasets.length, undefined, { timeout: 15_000 });
      const points = await lossFrame!.evaluate(() => (window as unknown as { __rnnLab: { lossChart: { data: { datasets: { data: unknown[] }[] } } } }).__rnnLab.lossChart.data.datasets[0]!.data.length);
      assert.equal(points, 30, 'the 30 training points of the history');
      await page.screenshot({ path: path.join(root, 'test-results', 'report.png'), fullPage: true });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'no network request');
    } finally {
      await browser.close();
    }
  });
});
