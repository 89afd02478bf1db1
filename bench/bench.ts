/**
 * `npm run bench`: training throughput (chars/s, GFLOP/s) for each cell at
 * the sizes users compare us on, and sampling latency. Prints numbers; the
 * test suite never asserts on time.
 *
 *   node dist/bench.js [--only lstm] [--seconds 3] [--json]
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { WorkerClient } from '../src/extension/workerClient';
import { presets } from '../src/extension/presets';
import {
  createModel, DEFAULT_TRAIN, encodeCheckpoint, flopsPerChar, sample, splitTokens, Stepper, Trainer, tsKernels, Vocab,
  Rng, type CellType, type Kernels,
} from '../src/engine';

interface Args { only: string | null; seconds: number; json: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, seconds: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') args.only = argv[++i] ?? null;
    else if (argv[i] === '--seconds') args.seconds = Number(argv[++i]);
    else if (argv[i] === '--json') args.json = true;
  }
  return args;
}

function corpus(): { text: string; source: string } {
  const shared = path.resolve(__dirname, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
  if (existsSync(shared)) return { text: readFileSync(shared, 'utf8'), source: 'tinyshakespeare.txt' };
  const own = path.resolve(__dirname, '..', 'src', 'engine', 'graph.ts');
  return { text: readFileSync(own, 'utf8').repeat(20), source: 'src/engine/graph.ts ×20' };
}

function benchTraining(cell: CellType, H: number, B: number, T: number, tokens: Int32Array, vocab: Vocab, seconds: number, kernels: Kernels) {
  const { model, rng } = createModel({ cell, activation: 'tanh', hidden: H, layers: 1 }, vocab, 1);
  const trainer = new Trainer(model, { ...DEFAULT_TRAIN, batch: B, seq: T, valFraction: 0 }, tokens, kernels, rng);
  trainer.step(); // first touch of every buffer
  let steps = 0;
  const start = performance.now();
  do {
    trainer.step();
    steps++;
  } while (performance.now() - start < seconds * 1000 || steps < 3);
  const elapsed = (performance.now() - start) / 1000;
  const charsPerSec = (steps * B * T) / elapsed;
  return { charsPerSec, gflops: (charsPerSec * flopsPerChar(model.config)) / 1e9, msPerStep: (elapsed * 1000) / steps };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function benchSampling(cell: CellType, H: number, layers: number, vocab: Vocab, text: string, kernels: Kernels) {
  const { model } = createModel({ cell, activation: 'tanh', hidden: H, layers }, vocab, 1);
  const stepper = new Stepper(model, kernels);
  stepper.prime(text.slice(0, 200));
  const state = stepper.getState();
  const rng = new Rng(1);
  const times: number[] = [];
  // A 40-character completion from a warm (cached) state, as inline completion does.
  for (let rep = 0; rep < 60; rep++) {
    const t0 = performance.now();
    stepper.setState(state);
    for (let i = 0; i < 40; i++) stepper.feed(stepper.choose(rng, { temperature: 0.3, topK: 0, topP: 1 }));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const t0 = performance.now();
  sample(model, kernels, 'ROMEO:', { length: 400, temperature: 0.8, topK: 0, topP: 1, seed: 1, stop: [] });
  const perChar = (performance.now() - t0) / 406;
  return { completion40P50: percentile(times, 0.5), completion40P95: percentile(times, 0.95), msPerChar: perChar };
}

/**
 * Inline completion as the extension runs it: a request to the inference
 * worker per keystroke, the document's state cached there, 40 characters back.
 */
async function benchCompletionWorker(vocab: Vocab, text: string): Promise<{ p50: number; p95: number; label: string }> {
  const preset = presets().find((p) => p.id === 'small')!;
  const { model } = createModel(preset.settings.model, vocab, 1);
  const checkpoint = encodeCheckpoint(model, preset.settings.train, null);
  const client = new WorkerClient(path.join(__dirname, 'inference-worker.js'), () => undefined, (r) => console.error(r));
  await client.request({ kind: 'infer/load', modelId: 'm', checkpoint });
  const times: number[] = [];
  const base = text.slice(0, 2000);
  for (let i = 0; i < 130; i++) {
    const prefix = base.slice(0, 1500 + i);
    const t0 = performance.now();
    await client.request({ kind: 'infer/complete', modelId: 'm', docKey: 'doc', prefix, maxLength: 40, temperature: 0.2, stop: [], count: 1, seed: 1 });
    if (i >= 30) times.push(performance.now() - t0); // the first calls prime the document
  }
  await client.dispose();
  times.sort((a, b) => a - b);
  const { hidden, layers, cell } = preset.settings.model;
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), label: `${cell.toUpperCase()} ${hidden}×${layers} (the "${preset.label}" preset)` };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { text, source } = corpus();
  const vocab = Vocab.fromText(text);
  const { train } = splitTokens(vocab.encode(text).tokens, 0);
  const kernels = tsKernels;
  const print = (row: Record<string, unknown>, line: string): void => {
    console.log(args.json ? JSON.stringify(row) : line);
  };
  if (!args.json) {
    console.log(`RNN Lab benchmark — ${source}, vocab ${vocab.size}, backend ${kernels.name}, 1 thread, node ${process.version}`);
    console.log('\nTraining (one layer, Adam, clip 5):');
    console.log('cell  |    H |  B |   T |    chars/s | GFLOP/s | ms/step');
    console.log('------|------|----|-----|------------|---------|--------');
  }
  const cells: CellType[] = ['rnn', 'lstm', 'gru'];
  for (const cell of cells) {
    if (args.only && args.only !== cell) continue;
    for (const H of [128, 512]) {
      for (const B of [1, 32]) {
        for (const T of [25, 100]) {
          const r = benchTraining(cell, H, B, T, train, vocab, args.seconds, kernels);
          print(
            { kind: 'train', backend: kernels.name, cell, hidden: H, batch: B, seq: T, ...r },
            `${cell.padEnd(5)} | ${String(H).padStart(4)} | ${String(B).padStart(2)} | ${String(T).padStart(3)} | ` +
              `${r.charsPerSec.toFixed(0).padStart(10)} | ${r.gflops.toFixed(2).padStart(7)} | ${r.msPerStep.toFixed(1).padStart(7)}`,
          );
        }
      }
    }
  }
  if (!args.json) {
    console.log('\nSampling (warm state, 40-character completion; and free sampling per character):');
    console.log('cell  |    H | layers | 40 chars p50 | 40 chars p95 | ms/char');
    console.log('------|------|--------|--------------|--------------|--------');
  }
  for (const cell of cells) {
    if (args.only && args.only !== cell) continue;
    for (const [H, layers] of [[128, 2], [512, 1]] as const) {
      const r = benchSampling(cell, H, layers, vocab, text, kernels);
      print(
        { kind: 'sample', backend: kernels.name, cell, hidden: H, layers, ...r },
        `${cell.padEnd(5)} | ${String(H).padStart(4)} | ${String(layers).padStart(6)} | ` +
          `${r.completion40P50.toFixed(2).padStart(9)} ms | ${r.completion40P95.toFixed(2).padStart(9)} ms | ${r.msPerChar.toFixed(3).padStart(7)}`,
      );
    }
  }
  if (!args.only) {
    const c = await benchCompletionWorker(vocab, text);
    print(
      { kind: 'completion', model: c.label, p50: c.p50, p95: c.p95 },
      `\nInline completion through the inference worker, warm state, one keystroke then 40 characters, ${c.label}: ` +
        `p50 ${c.p50.toFixed(2)} ms, p95 ${c.p95.toFixed(2)} ms (target: p95 < 25 ms)`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
