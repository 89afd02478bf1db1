/**
 * `npm run bench`: training throughput (chars/s, GFLOP/s) for each cell at
 * the sizes users compare us on, and sampling latency. Prints numbers; the
 * test suite never asserts on time.
 *
 *   node dist/bench.js [--only lstm] [--seconds 3] [--json] [--corpus FILE] [--plan]
 *                      [--backend wasm-relaxed-simd|wasm-simd|typescript] [--no-torch]
 *                      [--threads 2 | --threads 1,2]  (default: 1,2 on a multi-core machine)
 *
 * Every available backend is measured unless --backend picks one (the block
 * models only on the wasm backends unless --backend typescript: one step of
 * the larger ones takes the TypeScript kernels many seconds), with the
 * thread counts of --threads (wasm backends split their large
 * products over helper threads; see src/engine/wasm/threads.ts). The cpu
 * column is the process's CPU time per step (all threads), next to the wall clock. When
 * Debian's python3-torch is installed, bench/torch_bench.py measures PyTorch
 * on the issue's configurations (three cells, five block models) in the same
 * run, and the ratio is printed.
 * PyTorch reads the text from a file: --corpus, or tiny shakespeare from the
 * shared data folder beside the project; without either our side runs on the
 * project's own source and the header says why PyTorch is not compared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inferenceClient } from '../src/shared/workerClient';
import {
  availableKernels, createModel, DEFAULT_TRAIN, encodeCheckpoint, flopsPerChar, infoOf, kernelsByName, sample, splitTokens,
  Stepper, takesSetting, Trainer, Vocab, Rng, withThreads, kernelThreads, stopHelpers, tsKernels, type CellType, type Kernels, type ModelConfig,
} from '../src/engine';
import { defaultCorpus, parseBenchArgs, type BenchArgs } from './args';

/** A configuration compared with PyTorch: a one-layer cell (layers and heads 1), or a block model. */
interface TorchConfig { cell: CellType; hidden: number; batch: number; seq: number; layers: number; heads: number }
/** The cells' configurations issue #5 compares with PyTorch. */
const CELL_TORCH_CONFIGS: TorchConfig[] = ([['lstm', 512, 32, 100], ['gru', 512, 32, 100], ['rnn', 128, 1, 100]] as const).map(
  ([cell, hidden, batch, seq]) => ({ cell, hidden, batch, seq, layers: 1, heads: 1 }),
);
/**
 * The block models' configurations issue #10 compares with PyTorch: nanoGPT's
 * CPU example and its minGRU/minLSTM counterparts, then a larger gpt and
 * mingru. `heads` is gpt's (the recurrent mixers take none).
 */
const BLOCK_CONFIGS: TorchConfig[] = ([
  ['gpt', 128, 12, 64, 4, 4], ['mingru', 128, 12, 64, 4, 1], ['minlstm', 128, 12, 64, 4, 1],
  ['gpt', 256, 32, 128, 4, 4], ['mingru', 256, 32, 128, 4, 1],
] as const).map(([cell, hidden, batch, seq, layers, heads]) => ({ cell, hidden, batch, seq, layers, heads }));
const key = (c: Omit<TorchConfig, 'cell'> & { cell: string }): string => `${c.cell}:${c.hidden}:${c.batch}:${c.seq}:${c.layers}:${c.heads}`;
/** The model settings of a configuration: a block family's heads and context are its own settings. */
function modelSettings(c: TorchConfig): Omit<ModelConfig, 'vocabSize'> {
  const own = takesSetting(c.cell, 'heads') ? { heads: c.heads, context: c.seq } : {};
  return { cell: c.cell, activation: 'tanh', hidden: c.hidden, layers: c.layers, ...own };
}
const OPENBLAS_PTHREAD = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const PYTHON = '/usr/bin/python3';

/** PyTorch's chars/s per configuration and thread count, its CPU ms per step (`cpu`, same keys), or why it was not measured. */
function benchTorch(textPath: string, configs: TorchConfig[], seconds: number): { results: Map<string, Map<number, number>>; cpu: Map<string, Map<number, number>>; note: string } {
  const results = new Map<string, Map<number, number>>();
  const cpu = new Map<string, Map<number, number>>();
  if (!existsSync(path.join(OPENBLAS_PTHREAD, 'libblas.so.3')) && process.getuid?.() === 0) {
    // PyTorch at its best uses OpenBLAS' pthread build; Debian ships it separately.
    console.error('installing libopenblas0-pthread for the PyTorch comparison...');
    spawnSync('apt-get', ['install', '-y', '-qq', 'libopenblas0-pthread'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', MALLOC_MMAP_THRESHOLD_: '33554432', MALLOC_TRIM_THRESHOLD_: '33554432' };
  delete env.OPENBLAS_CORETYPE;
  const pthread = existsSync(path.join(OPENBLAS_PTHREAD, 'libblas.so.3'));
  if (pthread) env.LD_LIBRARY_PATH = [OPENBLAS_PTHREAD, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const script = path.resolve(__dirname, '..', 'bench', 'torch_bench.py');
  const cores = os.availableParallelism();
  const threads = cores > 1 ? [cores, 1] : [1];
  let version = '';
  for (const n of threads) {
    const argv = [script, '--text', textPath, '--threads', String(n), '--seconds', String(seconds)];
    for (const c of configs) argv.push('--config', key(c));
    const r = spawnSync(PYTHON, argv, { env, encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) return { results, cpu, note: `PyTorch run failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' ')}` };
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { cell: string; hidden: number; batch: number; seq: number; layers: number; heads: number; charsPerSec: number; cpuMsPerStep: number; torch: string };
      version = row.torch;
      const k = key(row);
      if (!results.has(k)) results.set(k, new Map());
      results.get(k)!.set(n, row.charsPerSec);
      if (!cpu.has(k)) cpu.set(k, new Map());
      cpu.get(k)!.set(n, row.cpuMsPerStep);
    }
  }
  return { results, cpu, note: `PyTorch ${version}, ${pthread ? 'OpenBLAS pthread' : 'default BLAS (libopenblas0-pthread missing)'}, threads ${threads.join(' and ')}` };
}

/** Why PyTorch will not be compared in this run, or null when it will. */
function torchUnavailable(args: BenchArgs): string | null {
  if (!args.torch) return 'PyTorch not compared (--no-torch)';
  if (!args.corpus) {
    return `PyTorch not compared: it needs a text file and ${path.relative(process.cwd(), defaultCorpus(__dirname))} is not there; pass --corpus FILE`;
  }
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    return `PyTorch not compared: ${PYTHON} cannot import torch (apt-get install python3-torch)`;
  }
  return null;
}

function corpus(file: string | null): { text: string; source: string } {
  if (file) return { text: readFileSync(file, 'utf8'), source: path.basename(file) };
  const own = path.resolve(__dirname, '..', 'src', 'engine', 'models', 'stacked', 'network.ts');
  return { text: readFileSync(own, 'utf8').repeat(20), source: 'src/engine/models/stacked/network.ts ×20 (no --corpus)' };
}

/** Training as `rnn-lab train` runs it: the family's own recipe (a block model's AdamW, clipping at 1) over DEFAULT_TRAIN. */
function benchTraining(c: TorchConfig, tokens: Int32Array, vocab: Vocab, seconds: number, kernels: Kernels) {
  const B = c.batch, T = c.seq;
  const { model, rng } = createModel(modelSettings(c), vocab, 1);
  const trainer = new Trainer(model, { ...DEFAULT_TRAIN, ...infoOf(c.cell).trainDefaults, batch: B, seq: T, valFraction: 0 }, tokens, kernels, rng);
  trainer.step(); // first touch of every buffer (and the helper threads' start)
  let steps = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  do {
    trainer.step();
    steps++;
  } while (performance.now() - start < seconds * 1000 || steps < 3);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const charsPerSec = (steps * B * T) / elapsed;
  return {
    charsPerSec, gflops: (charsPerSec * flopsPerChar(model.config)) / 1e9, msPerStep: (elapsed * 1000) / steps,
    cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps,
  };
}

/** "gpt C128 L4 h4 B12 T64", "lstm H512 B32 T100"; without the window for sampling rows. */
function describe(c: TorchConfig, window = true): string {
  const block = BLOCK_CONFIGS.some((b) => b.cell === c.cell);
  const shape = block
    ? `${c.cell} C${c.hidden} L${c.layers}${takesSetting(c.cell, 'heads') ? ` h${c.heads}` : ''}`
    : `${c.cell} H${c.hidden}${c.layers > 1 ? `×${c.layers}` : ''}`;
  return window ? `${shape} B${c.batch} T${c.seq}` : shape;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function benchSampling(c: TorchConfig, vocab: Vocab, text: string, kernels: Kernels) {
  const { model } = createModel(modelSettings(c), vocab, 1);
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
 * The completion benchmark's model: the size of the extension's "Small"
 * preset, written out so the figure stays comparable across versions.
 */
const COMPLETION_MODEL = { cell: 'lstm', activation: 'tanh', hidden: 128, layers: 2 } as const;

/**
 * Inline completion as the extension runs it: a request to the inference
 * worker per keystroke, the document's state cached there, 40 characters back.
 */
async function benchCompletionWorker(vocab: Vocab, text: string): Promise<{ p50: number; p95: number; label: string }> {
  const { model } = createModel(COMPLETION_MODEL, vocab, 1);
  const checkpoint = encodeCheckpoint(model, { ...DEFAULT_TRAIN, seq: 50, batch: 32 }, null);
  const client = inferenceClient(path.join(__dirname, 'inference-worker.js'), () => undefined, (r) => console.error(r));
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
  const { hidden, layers, cell } = COMPLETION_MODEL;
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), label: `${cell.toUpperCase()} ${hidden}×${layers} (the size of the "Small" preset)` };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), __dirname);
  const { text, source } = corpus(args.corpus);
  const noTorch = torchUnavailable(args);
  const vocab = Vocab.fromText(text);
  const { train } = splitTokens(vocab.encode(text).tokens, 0);
  const backends: Kernels[] = args.backend ? [kernelsByName(args.backend)].filter((k): k is Kernels => k !== null) : availableKernels();
  if (backends.length === 0) throw new Error(`backend ${args.backend} is not available in this runtime`);
  const kernels = backends[0]!; // the fastest, for sampling
  const best = new Map<string, { charsPerSec: number; backend: string }>();
  /** Our fastest backend's CPU ms per step on one thread, per configuration. */
  const oneThreadCpu = new Map<string, number>();
  const print = (row: Record<string, unknown>, line: string): void => {
    console.log(args.json ? JSON.stringify(row) : line);
  };
  const header = `RNN Lab benchmark — ${source}, vocab ${vocab.size}, backends ${backends.map((k) => (k.native ? `${k.name} (${k.native.isa()})` : k.name)).join(', ')}, threads ${args.threads.join(' and ')} (training), node ${process.version}`;
  if (args.plan || !args.json) {
    console.log(header);
    console.log(noTorch ?? `PyTorch compared on ${args.corpus}`);
  } else if (noTorch) print({ kind: 'torch', note: noTorch }, noTorch);
  if (args.plan) return;
  const trainRow = (c: TorchConfig, base: Kernels, n: number): void => {
    const k = withThreads(base, n);
    const threads = kernelThreads(k);
    if (n > 1 && threads === 1) return; // backend without threads
    const r = benchTraining(c, train, vocab, args.seconds, k);
    const id = key(c);
    const label = threads > 1 ? `${k.name} ×${threads}` : k.name;
    if (!best.has(id) || best.get(id)!.charsPerSec < r.charsPerSec) best.set(id, { charsPerSec: r.charsPerSec, backend: label });
    if (threads === 1 && !oneThreadCpu.has(id)) oneThreadCpu.set(id, r.cpuMsPerStep);
    const shape = !BLOCK_CONFIGS.some((b) => b.cell === c.cell)
      ? `${c.cell.padEnd(5)} | ${String(c.hidden).padStart(4)} |`
      : `${c.cell.padEnd(7)} | ${String(c.hidden).padStart(4)} | ${String(c.layers).padStart(2)} | ${takesSetting(c.cell, 'heads') ? String(c.heads).padStart(5) : '    -'} |`;
    print(
      { kind: 'train', backend: k.name, threads, cell: c.cell, hidden: c.hidden, layers: c.layers, ...(takesSetting(c.cell, 'heads') ? { heads: c.heads } : {}), batch: c.batch, seq: c.seq, ...r },
      `${shape} ${String(c.batch).padStart(2)} | ${String(c.seq).padStart(3)} | ${k.name.padEnd(17)} | ${String(threads).padStart(3)} | ` +
        `${r.charsPerSec.toFixed(0).padStart(10)} | ${r.gflops.toFixed(2).padStart(7)} | ${r.msPerStep.toFixed(1).padStart(7)} | ${r.cpuMsPerStep.toFixed(1).padStart(11)}`,
    );
  };
  const cells: CellType[] = ['rnn', 'lstm', 'gru'];
  const wantCells = !args.only || cells.includes(args.only);
  if (wantCells && !args.json) {
    console.log('\nTraining (one layer, Adam, clip 5):');
    console.log('cell  |    H |  B |   T | backend           | thr |    chars/s | GFLOP/s | ms/step | cpu ms/step');
    console.log('------|------|----|-----|-------------------|-----|------------|---------|---------|------------');
  }
  for (const cell of cells) {
    if (args.only && args.only !== cell) continue;
    for (const hidden of [128, 512]) {
      for (const batch of [1, 32]) {
        for (const seq of [25, 100]) {
          for (const base of backends) for (const n of args.threads) trainRow({ cell, hidden, batch, seq, layers: 1, heads: 1 }, base, n);
        }
      }
    }
  }
  const blocks = BLOCK_CONFIGS.filter((c) => !args.only || args.only === c.cell);
  // The TypeScript kernels take many seconds per step of the larger block models: measured only when asked for.
  const blockBackends = args.backend ? backends : backends.filter((k) => k !== tsKernels);
  if (blocks.length > 0 && !args.json) {
    console.log('\nBlock models (their recipe: AdamW, clip 1; LayerNorm, mixer and GELU MLP per block, tied decoder):');
    console.log('family  |    C |  L | heads |  B |   T | backend           | thr |    chars/s | GFLOP/s | ms/step | cpu ms/step');
    console.log('--------|------|----|-------|----|-----|-------------------|-----|------------|---------|---------|------------');
  }
  for (const c of blocks) for (const base of blockBackends) for (const n of args.threads) trainRow(c, base, n);
  const torchConfigs = [...CELL_TORCH_CONFIGS, ...BLOCK_CONFIGS].filter((c) => !args.only || args.only === c.cell);
  if (noTorch && !args.json) console.log(`\n${noTorch}.`);
  if (!noTorch && args.corpus && torchConfigs.length > 0) {
    const { results, cpu, note } = benchTorch(args.corpus, torchConfigs, args.seconds);
    if (!args.json) {
      console.log(`\nAgainst PyTorch (${note}), measured now on the same machine and text:`);
      if (results.size > 0) {
        console.log('model                    | ours chars/s (backend)         | PyTorch chars/s (threads)    | ours/PyTorch best | ours best/PyTorch 1 thr | per CPU-second, 1 thread');
        console.log('-------------------------|--------------------------------|------------------------------|-------------------|-------------------------|-------------------------');
      }
    }
    for (const c of torchConfigs) {
      const id = key(c);
      const ours = best.get(id);
      const theirs = results.get(id);
      if (!ours || !theirs) continue;
      const torchBest = Math.max(...theirs.values());
      const torchOne = theirs.get(1) ?? torchBest;
      const perThreads = [...theirs.entries()].map(([n, v]) => `${v.toFixed(0)} (${n})`).join(', ');
      // CPU time on one thread each: the ratio a shared machine disturbs least.
      const ourCpu = oneThreadCpu.get(id), theirCpu = cpu.get(id)?.get(1);
      const ratioCpu = ourCpu && theirCpu ? theirCpu / ourCpu : null;
      print(
        {
          kind: 'torch', cell: c.cell, hidden: c.hidden, layers: c.layers, ...(takesSetting(c.cell, 'heads') ? { heads: c.heads } : {}), batch: c.batch, seq: c.seq,
          ours: ours.charsPerSec, backend: ours.backend, torch: Object.fromEntries(theirs), ratioBest: ours.charsPerSec / torchBest, ratioOneThread: ours.charsPerSec / torchOne,
          torchCpuMsPerStep: Object.fromEntries(cpu.get(id) ?? []), ratioCpuOneThread: ratioCpu,
        },
        `${describe(c).padEnd(24)} | ${`${ours.charsPerSec.toFixed(0)} (${ours.backend})`.padEnd(30)} | ${perThreads.padEnd(28)} | ` +
          `${(ours.charsPerSec / torchBest).toFixed(2).padStart(17)} | ${(ours.charsPerSec / torchOne).toFixed(2).padStart(23)} | ${(ratioCpu === null ? '-' : ratioCpu.toFixed(2)).padStart(24)}`,
      );
    }
    if (args.json && results.size === 0) print({ kind: 'torch', note }, note);
  }
  if (!args.json) {
    console.log(`\nSampling with ${kernels.name} (warm state, 40-character completion; and free sampling per character; gpt with its KV cache):`);
    console.log('model                    | 40 chars p50 | 40 chars p95 | ms/char');
    console.log('-------------------------|--------------|--------------|--------');
  }
  const sampled: TorchConfig[] = [
    ...cells.flatMap((cell) => ([[128, 2], [512, 1]] as const).map(([hidden, layers]) => ({ cell, hidden, layers, heads: 1, batch: 1, seq: 1 }))),
    ...BLOCK_CONFIGS.filter((c) => c.hidden === 128).map((c) => ({ ...c, batch: 1, seq: 256 })),
  ];
  for (const c of sampled) {
    if (args.only && args.only !== c.cell) continue;
    const r = benchSampling(c, vocab, text, kernels);
    print(
      { kind: 'sample', backend: kernels.name, cell: c.cell, hidden: c.hidden, layers: c.layers, ...(takesSetting(c.cell, 'heads') ? { heads: c.heads, context: c.seq } : {}), ...r },
      `${describe(c, false).padEnd(24)} | ${r.completion40P50.toFixed(2).padStart(9)} ms | ${r.completion40P95.toFixed(2).padStart(9)} ms | ${r.msPerChar.toFixed(3).padStart(7)}`,
    );
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

main().then(() => stopHelpers(), (e) => {
  console.error(e);
  process.exit(1);
});
