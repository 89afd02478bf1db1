/**
 * `rnn-lab report` of the block models: a gpt's report inlines its attention
 * (every position's weights, answered by the stub as the host answers
 * `hidden/attend`) and its gradient flow on the residual stream; a minGRU's
 * shows its mixer state and blocks. Runs the built CLI on freshly trained tiny
 * models and opens the reports in Chromium with the network refused.
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
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

let dir = '';
const models: Record<string, Model> = {};

function trainTo(file: string, config: Parameters<typeof createModel>[0]): Model {
  const vocab = Vocab.fromText(TEXT);
  const { train } = splitTokens(vocab.encode(TEXT).tokens, 0.1);
  const cfg = { ...DEFAULT_TRAIN, batch: 3, seq: 20, lr: 1e-2, optimizer: 'adam' as const };
  const { model, rng } = createModel(config, vocab, 1);
  const trainer = new Trainer(model, cfg, train, tsKernels, rng);
  for (let i = 0; i < 20; i++) trainer.step();
  writeFileSync(path.join(dir, file), encodeCheckpoint(model, cfg, trainer, { name: `cats-${config.cell}` }));
  return model;
}

before(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  dir = mkdtempSync(path.join(tmpdir(), 'rnn-lab-report-blocks-'));
  writeFileSync(path.join(dir, 'text.txt'), TEXT);
  models.gpt = trainTo('gpt.safetensors', { cell: 'gpt', activation: 'tanh', hidden: 16, layers: 2, heads: 2, context: 40 });
  models.mingru = trainTo('mingru.safetensors', { cell: 'mingru', activation: 'tanh', hidden: 16, layers: 2 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function report(name: string): { file: string; html: string; data: any } {
  const file = path.join(dir, `${name}.html`);
  execFileSync(process.execPath, [CLI, 'report', path.join(dir, `${name}.safetensors`), '--text', path.join(dir, 'text.txt'), '--out', file], { encoding: 'utf8' });
  const html = readFileSync(file, 'utf8');
  const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!);
  return { file, html, data };
}

async function open<T>(file: string, fn: (frames: { hidden: any; grad: any }) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(file).href);
    const hidden = await (await page.$('#hidden-frame'))!.contentFrame();
    const grad = await (await page.$('#gradflow-frame'))!.contentFrame();
    const out = await fn({ hidden, grad });
    assert.deepEqual(errors, []);
    return out;
  } finally {
    await browser.close();
  }
}

describe('rnn-lab report of the block models', () => {
  it('a gpt: the attention of every position and the gradient flow on the residual stream are inlined and drawn', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, async () => {
    const { file, html, data } = report('gpt');
    assert.equal(data.hidden.attentionHeads, 2);
    assert.equal(data.hidden.chars, 40, 'the hidden states of one context');
    assert.deepEqual(data.gradflow, { network: 'blocks', taps: ['block 1: residual stream x', 'block 2: residual stream x'] });
    assert.ok(html.includes('hidden/attend') && html.includes('hidden/attention'), 'the stub answers hidden/attend from inlined rows');
    const trace = traceHiddenStates(models.gpt!, TEXT.slice(0, 40), tsKernels);
    const T = trace.chars.length;
    await open(file, async ({ hidden, grad }) => {
      await hidden.waitForFunction(() => document.querySelectorAll('#att-top tr').length > 0, undefined, { timeout: 15_000 });
      const top = await hidden.evaluate(() => [...document.querySelectorAll('#att-top tr')].map((tr: any) => [...tr.querySelectorAll('td')].map((td: any) => Number(td.dataset.s))));
      assert.equal(top.length, 4, 'a row per layer and head');
      top.forEach((row: number[], r: number) => {
        const w = Array.from(trace.attention!.weights[Math.floor(r / 2)]![r % 2]!.subarray((T - 1) * T, T * T));
        // The strongest position (4 significant digits inlined: compare weights, not ties).
        assert.ok(Math.abs(w[row[0]!]! - Math.max(...w)) < 1e-3, `row ${r}: ${row[0]} is among the strongest (${w[row[0]!]} vs ${Math.max(...w)})`);
      });
      // Another position, by keyboard: the stub answers from the inlined rows.
      await hidden.focus('#att-grid');
      await hidden.press('#att-grid', 'Home');
      await hidden.waitForFunction(() => /at position 0:/.test(document.getElementById('att-title').textContent) && document.querySelectorAll('#att-top tr td').length === 4, undefined, { timeout: 5_000 });
      await grad.waitForFunction(() => document.querySelectorAll('#net circle.node-h').length > 0, undefined, { timeout: 15_000 });
      const rows = await grad.evaluate(() => [...document.querySelectorAll('#net > text')].map((t: any) => t.textContent));
      assert.deepEqual(rows, ['tok', 'x1', 'x2', 'o']);
      assert.match(await grad.evaluate(() => document.getElementById('net-title').textContent), /residual stream entering each block/);
    });
  });

  it('a minGRU: its mixer state and gates in the hidden states, no attention, blocks in the gradient flow', { skip: !existsSync(CHROMIUM) && 'no Chromium' }, async () => {
    const { file, data } = report('mingru');
    assert.equal(data.hidden.attentionHeads, 0);
    assert.deepEqual(data.hidden.quantities, ['h', 'x', 'z', 'g']);
    assert.equal(data.gradflow.network, 'blocks');
    await open(file, async ({ hidden, grad }) => {
      await hidden.waitForFunction(() => document.getElementById('map')?.hidden === false, undefined, { timeout: 15_000 });
      assert.equal(await hidden.evaluate(() => document.getElementById('attention').hidden), true);
      await grad.waitForFunction(() => document.querySelectorAll('#net circle.node-h').length > 0, undefined, { timeout: 15_000 });
      assert.deepEqual(await grad.evaluate(() => [...document.querySelectorAll('#layer vscode-option')].map((o: any) => o.textContent)), ['block 1', 'block 2 (top)']);
    });
  });
});
