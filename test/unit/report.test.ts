/**
 * `rnn-lab report`: runs the built CLI on a freshly trained tiny model and
 * checks the HTML is ONE self-contained file (no external resources, the
 * data inlined), then opens it in Chromium with every network request
 * refused: no errors, the loss chart, the hidden-state heatmap and the gradient flow drawn.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createModel, DEFAULT_TRAIN, encodeCheckpoint, splitTokens, traceHiddenStates, Trainer, tsKernels, Vocab, type Model } from '../../src/engine';

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
let trained: Model;
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
  trained = model;
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
    assert.match(html, /<iframe id="hidden-frame"/);
    assert.ok(html.includes('hidden/trace') && html.includes('hidden/select'), 'the hidden states and the stub that answers hidden/select are inlined');
    assert.ok(html.length < 3_000_000, `a reasonable size (${html.length} bytes)`);
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
    const loaded = urls.filter((u) => !NAMESPACES.test(u) && !/chartjs\.org|github\.com|developer\.mozilla\.org|vscode-elements\.github\.io|wikibooks\.org|tex\.stackexchange\.com/.test(u));
    assert.deepEqual(loaded, []);
    // The data: the loss now, the model, the gradient-flow window.
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    assert.equal(data.model.name, 'cats-rnn');
    assert.equal(data.model.cell, 'rnn');
    assert.equal(data.model.step, 30);
    assert.ok(data.loss.nats > 0 && data.loss.nats < 5);
    assert.ok(TEXT.includes(data.window));
    assert.equal(data.hidden.text, TEXT.slice(0, 400), 'the hidden states of the first 400 characters of --text');
    assert.equal(data.hidden.layers, 2);
    assert.deepEqual(data.hidden.quantities, ['h']);
    assert.match(html, /30 training points from history\.json/);
  });

  it("of a CLI run: the loss curve is the run's history, read from beside the checkpoint", () => {
    const run = mkdtempSync(path.join(dir, 'cli-'));
    writeFileSync(path.join(run, 'text.txt'), TEXT);
    execFileSync(process.execPath, [CLI, 'train', 'text.txt', '--hidden', '8', '--layers', '1', '--seq', '10', '--batch', '2', '--steps', '40',
      '--validate-every', '20', '--json', '--out', 'm.safetensors'], { cwd: run, encoding: 'utf8' });
    const lines = readFileSync(path.join(run, 'm.history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
    const steps = lines.filter((l) => l.kind === 'step');
    assert.equal(steps.at(-1)!.step, 40);
    const file = path.join(run, 'r.html');
    const out = execFileSync(process.execPath, [CLI, 'report', path.join(run, 'm.safetensors'), '--out', file], { encoding: 'utf8' });
    assert.match(out, /wrote/);
    const html = readFileSync(file, 'utf8');
    assert.match(html, new RegExp(`${steps.length} training points from m\\.history\\.jsonl`));
    assert.doesNotMatch(html, /no --history given/);
  });

  it("of an experiment's run: the same history format beside its checkpoint, the same curve", () => {
    const exp = mkdtempSync(path.join(dir, 'experiment-'));
    writeFileSync(path.join(exp, 'text.txt'), TEXT);
    writeFileSync(path.join(exp, 'e.rnnlab.json'), JSON.stringify({ text: 'text.txt', budget: { steps: 30 }, base: { hidden: 8, layers: 1, seq: 10, batch: 2 }, valEvery: 10, halving: { rungs: 2, keep: 0.5 }, grid: { lr: [0.003, 0.01] } }));
    execFileSync(process.execPath, [CLI, 'experiment', 'e.rnnlab.json', '--out', 'out', '--json'], { cwd: exp, encoding: 'utf8' });
    const rows = readFileSync(path.join(exp, 'out', 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; checkpoint: string; history: string; stoppedAt: number | null });
    const survivor = rows.find((r) => r.stoppedAt === null)!;
    assert.equal(survivor.history, `${survivor.id}.history.jsonl`);
    const records = readFileSync(path.join(exp, 'out', survivor.history), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number; startStep?: number });
    assert.deepEqual(records.filter((r) => r.kind === 'session').map((r) => r.startStep), [0, 15], 'one history over both rungs');
    assert.deepEqual(records.filter((r) => r.kind === 'val').map((r) => r.step), [10, 15, 20, 30]);
    const steps = records.filter((r) => r.kind === 'step');
    assert.equal(steps.at(-1)!.step, 30);
    const file = path.join(exp, 'r.html');
    execFileSync(process.execPath, [CLI, 'report', path.join(exp, 'out', survivor.checkpoint), '--out', file], { encoding: 'utf8' });
    const html = readFileSync(file, 'utf8');
    assert.match(html, new RegExp(`${steps.length} training points from ${survivor.id.replace(/\./g, '\\.')}\\.history\\.jsonl`));
  });

  it('without --history or --text: the loss computed now, a window of generated text', () => {
    const file = path.join(dir, 'plain.html');
    const { html } = runReport(['--out', file]);
    assert.match(html, /no --history given/);
    assert.match(html, /Loss on generated text/);
    assert.match(html, /<iframe id="hidden-frame"/);
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
    assert.ok(data.hidden.chars > 0 && data.hidden.chars <= 400, `hidden states of the generated sample (${data.hidden.chars} characters)`);
  });

  it('opens in Chromium with the network refused: no errors, the loss chart, the hidden-state heatmap (stub answers = traceHiddenStates) and the gradient flow drawn', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, async () => {
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
      assert.equal(frames.length, 3);
      const lossFrame = await (await page.$('#loss-frame'))!.contentFrame();
      const gradFrame = await (await page.$('#gradflow-frame'))!.contentFrame();
      const hiddenFrame = (await (await page.$('#hidden-frame'))!.contentFrame())!;
      await gradFrame!.waitForFunction(() => document.querySelectorAll('#net circle.node-h').length > 0, undefined, { timeout: 15_000 });
      const counts = await gradFrame!.evaluate(() => ({
        h: document.querySelectorAll('#net circle.node-h').length,
        bars: document.querySelectorAll('#bars rect.bar').length,
        decay: document.querySelectorAll('#decay polyline.decay-line').length,
      }));
      assert.equal(counts.h, 2 * 48, 'h nodes for 2 layers × 48 steps');
      assert.equal(counts.bars, 48);
      assert.equal(counts.decay, 1);
      // The loss panel (the shipped bundle has no test hook): its status line, its table of runs, and the curve's pixels.
      await lossFrame!.waitForFunction(() => /^step 30 · /.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 15_000 });
      const loss = await lossFrame!.evaluate(() => {
        const c = document.getElementById('loss-chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let curve = 0; // pixels of the smoothed curve, drawn in --vscode-charts-blue (#1a85ff)
        for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - 0x1a) < 24 && Math.abs(d[i + 1] - 0x85) < 24 && Math.abs(d[i + 2] - 0xff) < 24) curve++;
        const rows = [...document.querySelectorAll('#runs tbody tr')].map((tr: any) => [...tr.cells].map((td: any) => td.textContent));
        return { curve, rows };
      });
      assert.ok(loss.curve > 200, `the loss curve is drawn (${loss.curve} pixels)`);
      assert.equal(loss.rows.length, 1);
      assert.deepEqual([loss.rows[0][1], loss.rows[0][8], loss.rows[0][10]], ['cats-rnn', '30', '2.500'], 'model, steps of the history, best validation loss');

      // The hidden states: the heatmap of the first 400 characters, answered by the stub from inlined data.
      const sample = TEXT.slice(0, 400);
      const trace = traceHiddenStates(trained, sample, tsKernels);
      const H = trace.hidden;
      await hiddenFrame.waitForFunction(() => document.getElementById('map')?.hidden === false, undefined, { timeout: 15_000 });
      // The neuron of each row, read as a screen reader does: the heatmap's label follows the keyboard cursor.
      await hiddenFrame.focus('#heatmap');
      const labels: string[] = [await hiddenFrame.getAttribute('#heatmap', 'aria-label') ?? ''];
      for (let r = 1; r < 12; r++) {
        await hiddenFrame.press('#heatmap', 'ArrowDown');
        labels.push(await hiddenFrame.getAttribute('#heatmap', 'aria-label') ?? '');
      }
      await hiddenFrame.evaluate(() => document.getElementById('heatmap').blur());
      const rowsShown = labels.map((l, r) => {
        const m = /^Neuron (\d+), row (\d+) of (\d+)/.exec(l);
        assert.ok(m && Number(m[2]) === r + 1, `row ${r + 1} label: ${l}`);
        return { neuron: Number(m[1]), of: Number(m[3]) };
      });
      const cells = [[0, 0], [1, 5], [5, 17], [11, 30]] as const;
      // One readback of the whole canvas (Chromium warns about repeated ones).
      const drawn = await hiddenFrame.evaluate((p) => {
        const c = document.getElementById('heatmap');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let colored = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245) colored++;
        // Cell sizes from the layout: the track is one cell per character, the heatmap one row per neuron shown.
        const cw = parseFloat(document.getElementById('track').style.width) / 400;
        const rh = parseFloat(c.style.height) / p.rows;
        const pixels = p.cells.map(([r, t]: readonly number[]) => {
          const i = (Math.floor(r! * rh + rh / 2) * c.width + Math.floor(t! * cw + cw / 2)) * 4;
          return [d[i], d[i + 1], d[i + 2]];
        });
        // The scale's ends, without the usage hint that follows them.
        const lg = document.getElementById('legend').cloneNode(true);
        lg.querySelector('.hs-hint')?.remove();
        const legend = /^(\S+)\s+(\S+)/.exec(lg.textContent);
        return { colored, pixels, total: d.length / 4, hi: legend?.[2], info: document.getElementById('info').textContent };
      }, { cells, rows: rowsShown[0]!.of });
      assert.equal(rowsShown[0]!.of, H, 'a row per neuron');
      assert.ok(drawn.colored > drawn.total * 0.3, `the heatmap is drawn (${drawn.colored} of ${drawn.total} pixels not background)`);
      assert.match(drawn.info, /cats-rnn · text\.txt, line 1 · 400 characters · layer 1 of 2/);
      // A pixel has the colour of the engine's value: white at 0, charts-blue (#1a85ff) above, charts-red (#e51400) below.
      const l0 = trace.layers[0]!.h;
      const max = Math.max(...Array.from(l0, Math.abs));
      assert.equal(drawn.hi, String(+max.toPrecision(3)), 'the legend (and the colour scale) ends at the largest |h|');
      const pixels = drawn.pixels;
      cells.forEach(([r, t], k) => {
        const v = l0[t * H + rowsShown[r]!.neuron]!;
        const x = Math.max(-1, Math.min(1, v / max));
        const to = x >= 0 ? [0x1a, 0x85, 0xff] : [0xe5, 0x14, 0x00];
        const want = to.map((c) => Math.round(255 + (c - 255) * Math.abs(x)));
        const got = pixels[k]!;
        assert.ok(got.every((c, i) => Math.abs(c - want[i]!) <= 3), `pixel (row ${r}, char ${t}) = ${got}, expected ${want} for h = ${v}`);
      });
      // Switching the layer asks the stub (hidden/select), which answers with layer 2's values of traceHiddenStates.
      await hiddenFrame.evaluate(() => {
        window.__got = [];
        window.addEventListener('message', (e: any) => window.__got.push(e.data));
        const sel = document.getElementById('layer');
        sel.value = '1';
        sel.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await hiddenFrame.waitForFunction(() => window.__got.some((m: any) => m.kind === 'hidden/matrix'), undefined, { timeout: 5000 });
      for (const layer of [1, 0]) {
        if (layer === 0) {
          await hiddenFrame.evaluate(() => {
            window.__got = [];
            const sel = document.getElementById('layer');
            sel.value = '0';
            sel.dispatchEvent(new Event('change', { bubbles: true }));
          });
          await hiddenFrame.waitForFunction(() => window.__got.some((m: any) => m.kind === 'hidden/matrix'), undefined, { timeout: 5000 });
        }
        const answer = await hiddenFrame.evaluate(() => window.__got.find((m: any) => m.kind === 'hidden/matrix'));
        assert.equal(answer.layer, layer);
        assert.equal(answer.quantity, 'h');
        const engine = trace.layers[layer]!.h;
        assert.equal(answer.values.length, engine.length);
        answer.values.forEach((v: number, i: number) => assert.ok(Math.abs(v - engine[i]!) <= 6e-4 * Math.abs(engine[i]!) + 1e-7, `layer ${layer} value ${i}: ${v} vs ${engine[i]}`));
        assert.ok(answer.values.every((v: number) => String(Math.abs(v)).replace(/^0\.0*|\.|e.*$/g, '').length <= 4), 'rounded to 4 significant digits');
      }
      await page.screenshot({ path: path.join(root, 'test-results', 'report.png'), fullPage: true });
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [], 'no network request');
    } finally {
      await browser.close();
    }
  });
});
