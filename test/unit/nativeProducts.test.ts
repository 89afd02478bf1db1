/**
 * The native products (src/engine/native/products.c): every instruction set
 * the build dispatches to against a float64 reference, over the sizes that
 * leave partial tiles, panels and K blocks; the same bits on any thread
 * count; bounds checked before any memory is touched; and, on a machine that
 * can build them, present (so a broken build cannot pass as "not available").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_TRAIN, type CellType } from '../../src/engine/config';
import { tsKernels, type ArenaKernels, type Kernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { nativeProducts, nativeUnavailableReason, PRODUCT, type ProductKind } from '../../src/engine/native';
import { splitTokens, Trainer } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';
import { nativeKernels, wasmKernels, withThreads } from '../../src/engine/wasm';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const native = nativeProducts();

/** Whether this machine has what build.mjs needs: a C compiler and Node's headers. */
function canBuild(): boolean {
  if (process.platform === 'win32') return false;
  const cc = spawnSync(process.env.CC ?? 'cc', ['--version'], { encoding: 'utf8' });
  const headers = [join(process.execPath, '..', '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return cc.status === 0 && headers.some((d) => existsSync(join(d, 'node_api.h')));
}

function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface Case { kind: ProductKind; M: number; N: number; K: number; lda: number; ldb: number; ldo: number; aOff: number; bOff: number; oOff: number; acc: boolean }

/** Element (i, k) of a and (k, j) of b in the layout of `kind`. */
function at(c: Case, a: Float32Array, b: Float32Array, i: number, j: number, k: number): [number, number] {
  const x = c.kind === PRODUCT.AtB ? a[c.aOff + k * c.lda + i]! : a[c.aOff + i * c.lda + k]!;
  const y = c.kind === PRODUCT.ABt ? b[c.bOff + j * c.ldb + k]! : b[c.bOff + k * c.ldb + j]!;
  return [x, y];
}

function operands(c: Case, seed: number): { a: Float32Array; b: Float32Array; out: Float32Array } {
  const aRows = c.kind === PRODUCT.AtB ? c.K : c.M;
  const bRows = c.kind === PRODUCT.ABt ? c.N : c.K;
  return {
    a: rand(c.aOff + Math.max(aRows, 1) * c.lda, seed),
    b: rand(c.bOff + Math.max(bRows, 1) * c.ldb, seed + 1),
    out: rand(c.oOff + Math.max(c.M, 1) * c.ldo, seed + 2),
  };
}

/** Checks out against the float64 sum, each element within float32 rounding of Σ|x·y|; elements outside the product must be untouched. */
function check(c: Case, a: Float32Array, b: Float32Array, before: Float32Array, out: Float32Array, label: string): void {
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      let s = c.acc ? before[c.oOff + i * c.ldo + j]! : 0;
      let mag = Math.abs(s);
      for (let k = 0; k < c.K; k++) {
        const [x, y] = at(c, a, b, i, j, k);
        s += x * y;
        mag += Math.abs(x * y);
      }
      const got = out[c.oOff + i * c.ldo + j]!;
      assert.ok(Math.abs(got - s) <= 4e-7 * (mag + 1e-30) * Math.sqrt(c.K + 1) + 1e-37, `${label}: [${i},${j}] ${got} vs ${s}`);
    }
    for (let j = c.N; j < c.ldo; j++) assert.equal(out[c.oOff + i * c.ldo + j], before[c.oOff + i * c.ldo + j], `${label}: padding [${i},${j}] written`);
  }
  for (let i = 0; i < c.oOff; i++) assert.equal(out[i], before[i], `${label}: before the destination`);
}

/** Sizes around every tile edge: rows of 6, panels of 16/64 columns, K blocks of 256. */
function cases(): Case[] {
  const out: Case[] = [];
  const kinds: ProductKind[] = [PRODUCT.AB, PRODUCT.ABt, PRODUCT.AtB];
  const shapes: [number, number, number][] = [
    [1, 1, 1], [5, 15, 7], [6, 16, 0], [7, 17, 33], [13, 63, 64], [12, 64, 256], [19, 65, 257], [250, 130, 40], [3, 200, 600], [260, 3, 9],
  ];
  let n = 0;
  for (const kind of kinds) {
    for (const [M, N, K] of shapes) {
      const padded = n++ % 2 === 1;
      const pad = padded ? 3 : 0;
      const aCols = kind === PRODUCT.AtB ? M : K;
      const bCols = kind === PRODUCT.ABt ? K : N;
      out.push({ kind, M, N, K, lda: aCols + pad, ldb: bCols + pad, ldo: N + pad, aOff: pad, bOff: 2 * pad, oOff: pad, acc: padded });
    }
  }
  return out;
}

/** The script a child process runs with RNN_LAB_NATIVE_ISA forced: the cases above, reported as JSON. */
const CHILD = `
const { nativeProducts } = require(${JSON.stringify(join(ROOT, 'src/engine/native/index.ts'))});
const n = nativeProducts();
process.stdout.write(JSON.stringify({ isa: n ? n.isa() : null }));
`;

describe('native products', { skip: native ? false : `not available: ${nativeUnavailableReason()}` }, () => {
  const k = native!;

  for (const c of cases()) {
    it(`${['a·b', 'a·bᵀ', 'aᵀ·b'][c.kind]} ${c.M}×${c.N}×${c.K}${c.acc ? ', accumulate, offsets and leading dimensions' : ''} (${k.isa()})`, () => {
      const { a, b, out } = operands(c, c.M * 7 + c.N * 13 + c.K);
      const before = out.slice();
      k.product(c.kind, out, c.oOff, a, c.aOff, b, c.bOff, c.M, c.N, c.K, c.lda, c.ldb, c.ldo, c.acc ? 1 : 0, 1);
      check(c, a, b, before, out, k.isa());
    });
  }

  it('gives the same bits on 1, 2 and 3 threads (split by column panels and by row tiles)', () => {
    for (const [kind, M, N, K] of [[PRODUCT.ABt, 300, 390, 70], [PRODUCT.AB, 700, 20, 300], [PRODUCT.AtB, 130, 300, 700]] as const) {
      const c: Case = { kind, M, N, K, lda: kind === PRODUCT.AtB ? M : K, ldb: kind === PRODUCT.ABt ? K : N, ldo: N, aOff: 0, bOff: 0, oOff: 0, acc: true };
      const { a, b, out } = operands(c, 5);
      const results = [1, 2, 3].map((threads) => {
        const o = out.slice();
        k.product(kind, o, 0, a, 0, b, 0, M, N, K, c.lda, c.ldb, N, 1, threads);
        return o;
      });
      assert.deepEqual(results[1], results[0], `${M}×${N}×${K}, 2 threads`);
      assert.deepEqual(results[2], results[0], `${M}×${N}×${K}, 3 threads`);
      check(c, a, b, out, results[0]!, 'threads');
    }
  });

  it('a b packed once gives product()\'s bits at every row count, and a packed b of another shape is refused', () => {
    for (const kind of [PRODUCT.AB, PRODUCT.ABt, PRODUCT.AtB] as const) {
      for (const [M, N, K] of [[32, 1024, 256], [3, 70, 300], [1, 17, 5], [50, 130, 600]] as const) {
        const c: Case = { kind, M, N, K, lda: kind === PRODUCT.AtB ? M : K, ldb: kind === PRODUCT.ABt ? K : N, ldo: N, aOff: 0, bOff: 0, oOff: 0, acc: true };
        const { a, b, out } = operands(c, 11);
        const packed = new Float32Array(k.packedSize(N, K));
        k.pack(kind, b, 0, N, K, c.ldb, packed);
        const got = out.slice();
        k.productPacked(kind, got, 0, a, 0, packed, M, N, K, c.lda, N, 1, 2);
        check(c, a, b, out, got, `packed ${['a·b', 'a·bᵀ', 'aᵀ·b'][kind]} ${M}×${N}×${K}`);
        if (M > 8) {
          const direct = out.slice();
          k.product(kind, direct, 0, a, 0, b, 0, M, N, K, c.lda, c.ldb, N, 1, 1);
          assert.deepEqual(got, direct, `${M}×${N}×${K}: packed once = packed per block`);
        }
        assert.throws(() => k.productPacked(kind, got, 0, a, 0, packed, M, N + 1, K, c.lda, N + 1, 1, 1), RangeError);
        assert.throws(() => k.productPacked(kind, got, 0, a, 0, new Float32Array(packed.length), M, N, K, c.lda, N, 1, 1), RangeError);
      }
    }
  });

  for (const cell of ['lstm', 'gru', 'rnn'] as CellType[]) {
    it(`a ${cell.toUpperCase()} large enough to step natively (W_hh packed once per window) trains as the reference does, the same bits on 1 and 2 threads`, () => {
      const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(40);
      const vocab = Vocab.fromText(text);
      const { train } = splitTokens(vocab.encode(text).tokens, 0.1);
      // B·4H·H = 8·512·128: past the step-by-step threshold for the LSTM and GRU; H 384 for the RNN.
      const hidden = cell === 'rnn' ? 384 : 128;
      const run = (kernels: Kernels) => {
        const { model, rng } = createModel({ cell, activation: 'tanh', hidden, layers: 2 }, vocab, 7);
        const trainer = new Trainer(model, { ...DEFAULT_TRAIN, batch: 8, seq: 9, valFraction: 0.1, lr: 0.003 }, train, kernels, rng);
        const losses: number[] = [];
        for (let s = 0; s < 6; s++) losses.push(trainer.step().loss);
        return { losses, params: Float32Array.from(model.params.data) };
      };
      const ref = run(tsKernels);
      const one = run(nativeKernels()!);
      const two = run(withThreads(nativeKernels()!, 2));
      for (let s = 0; s < 6; s++) assert.ok(Math.abs(one.losses[s]! - ref.losses[s]!) < 1e-4, `step ${s}: ${one.losses[s]} vs ${ref.losses[s]}`);
      assert.deepEqual(two.losses, one.losses, '2 threads: the losses of one');
      assert.deepEqual(two.params, one.params, '2 threads: the weights of one, bit for bit');
    });
  }

  it('refuses an operand outside its array, a non-float32 operand and bad sizes, touching nothing', () => {
    const a = new Float32Array(12), b = new Float32Array(12), out = new Float32Array(9);
    const before = out.slice();
    assert.throws(() => k.product(PRODUCT.AB, out, 0, a, 0, b, 0, 3, 3, 5, 5, 3, 3, 0, 1), RangeError); // a needs 15 floats
    assert.throws(() => k.product(PRODUCT.AB, out, 1, a, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1), RangeError); // out needs 10
    assert.throws(() => k.product(PRODUCT.ABt, out, 0, a, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1), RangeError); // ldb below K
    assert.throws(() => k.product(PRODUCT.AB, out, -1, a, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1), RangeError);
    assert.throws(() => k.product(PRODUCT.AB, out, 0, new Float64Array(12) as unknown as Float32Array, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1), RangeError);
    assert.throws(() => k.product(3 as ProductKind, out, 0, a, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1), RangeError);
    assert.deepEqual(out, before);
    k.product(PRODUCT.AB, out, 0, a, 0, b, 0, 3, 3, 4, 4, 3, 3, 0, 1); // the same product in bounds
    // The optimizer's kernels check their lengths too.
    assert.throws(() => k.sumSquares(new Float32Array(3), 4), RangeError);
    assert.throws(() => k.scale(new Float32Array(3), 4, 0.5), RangeError);
    assert.throws(() => k.adam(a, b, a, b, 0, 13, new Float64Array(9), 1), RangeError);
    assert.throws(() => k.adam(a, b, a, b, 0, 12, new Float64Array(8), 1), RangeError);
    assert.equal(k.sumSquares(Float32Array.of(3, 4, 12), 3), 169);
  });

  it('GELU forward and backward give the relaxed-SIMD wasm kernels\' bits, on 1 and 2 threads, tails included; refuse short buffers', (t) => {
    const k = native!;
    const wasm = wasmKernels('relaxed');
    if (!wasm) return t.skip('no relaxed-SIMD wasm here');
    for (const [rows, cols] of [[7, 120], [300, 512], [3, 37]] as const) {
      const n = rows * cols;
      const arena: ArenaKernels = wasm.arena(6 * n + cols + 64, 64)!;
      const host = arena.wasm!;
      const [a, out, cdf, d, bias]: Float32Array[] = [arena.f32(n), arena.f32(n), arena.f32(n), arena.f32(n), arena.f32(cols)];
      a.set(rand(n, rows).map((v) => v * 12)); // both tails of Φ and its middle
      bias.set(rand(cols, 5));
      const a0 = Float32Array.from(a), d0 = rand(n, 11);
      d.set(d0);
      // The wasm kernels: forward (a += bias in place), then backward on its output.
      const fwd = host.exports['bias_gelu_fwd'] as (...x: number[]) => void, bwd = host.exports['gelu_bwd'] as (...x: number[]) => void;
      fwd(host.ptr(out), host.ptr(cdf), host.ptr(a), host.ptr(bias), cols, 0, rows);
      bwd(host.ptr(d), host.ptr(cdf), host.ptr(a), cols, 0, rows);
      const want: Record<'a' | 'out' | 'cdf' | 'd', Float32Array> = { a: Float32Array.from(a), out: Float32Array.from(out), cdf: Float32Array.from(cdf), d: Float32Array.from(d) };
      for (const threads of [1, 2]) {
        const na = Float32Array.from(a0), nout = new Float32Array(n), ncdf = new Float32Array(n), nd = Float32Array.from(d0);
        const padded = new Float32Array(cols + 3);
        padded.set(bias, 3);
        if (!k.gelu(false, nout, ncdf, na, padded, 3, rows, cols, threads)) return t.skip(`GELU is not native on ${k.isa()}`);
        assert.ok(k.gelu(true, nd, ncdf, na, nd, 0, rows, cols, threads));
        assert.deepEqual(na, want.a, `${rows}×${cols} on ${threads}: a + bias`);
        assert.deepEqual(ncdf, want.cdf, `${rows}×${cols} on ${threads}: Φ`);
        assert.deepEqual(nout, want.out, `${rows}×${cols} on ${threads}: GELU`);
        assert.deepEqual(nd, want.d, `${rows}×${cols} on ${threads}: its backward`);
      }
    }
    const small = new Float32Array(10);
    assert.throws(() => k.gelu(false, small, small, small, small, 0, 3, 4, 1), RangeError);
    assert.throws(() => k.gelu(false, new Float32Array(12), new Float32Array(12), new Float32Array(12), new Float32Array(4), 1, 3, 4, 1), RangeError);
  });

  it('two JavaScript threads multiplying at once both get right answers (one waits for the pool or runs alone)', async () => {
    const src = `
      const { parentPort, workerData } = require('node:worker_threads');
      const n = { exports: {} };
      process.dlopen(n, ${JSON.stringify(join(ROOT, 'dist', 'native', 'products.node'))});
      const { product } = n.exports;
      const M = 200, N = 256, K = 300;
      const a = new Float32Array(M * K).map((_, i) => ((i * 7919 + workerData) % 101) / 101 - 0.5);
      const b = new Float32Array(K * N).map((_, i) => ((i * 104729 + workerData) % 97) / 97 - 0.5);
      const first = new Float32Array(M * N);
      product(0, first, 0, a, 0, b, 0, M, N, K, K, N, N, 0, 2);
      let same = true;
      for (let r = 0; r < 30; r++) {
        const o = new Float32Array(M * N);
        product(0, o, 0, a, 0, b, 0, M, N, K, K, N, N, 0, 2);
        for (let i = 0; i < o.length; i++) if (o[i] !== first[i]) same = false;
      }
      let worst = 0;
      for (let i = 0; i < M; i += 37) for (let j = 0; j < N; j += 11) {
        let s = 0; for (let q = 0; q < K; q++) s += a[i * K + q] * b[q * N + j];
        worst = Math.max(worst, Math.abs(s - first[i * N + j]));
      }
      parentPort.postMessage({ same, worst });
    `;
    const run = (seed: number): Promise<{ same: boolean; worst: number }> => new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: seed });
      w.once('message', resolve);
      w.once('error', reject);
    });
    const results = await Promise.all([run(1), run(2), run(3)]);
    for (const r of results) {
      assert.ok(r.same, 'every repeat gave the first result');
      assert.ok(r.worst < 1e-4, `largest error ${r.worst}`);
    }
  });

  it('worker threads that come and go, in a process whose main thread never loads the library, keep the pool working', () => {
    // The editor's case: only workers load the addon, and Node unloads a worker's addons when it exits.
    const script = `
      const { Worker, isMainThread, parentPort } = require('node:worker_threads');
      if (isMainThread) {
        (async () => {
          for (let round = 0; round < 12; round++) {
            const w = new Worker(__filename);
            const got = await new Promise((resolve) => {
              const timer = setTimeout(() => resolve('no answer in 10 s'), 10000);
              w.once('message', (m) => { clearTimeout(timer); resolve(m); });
              w.once('error', (e) => { clearTimeout(timer); resolve(String(e)); });
            });
            if (got !== 'ok') { console.error('round ' + round + ': ' + got); process.exit(1); }
            await w.terminate();
          }
          process.exit(0);
        })();
      } else {
        const n = { exports: {} };
        process.dlopen(n, ${JSON.stringify(join(ROOT, 'dist', 'native', 'products.node'))});
        const M = 256, N = 512, K = 512;
        const a = new Float32Array(M * K).fill(0.5), b = new Float32Array(K * N).fill(0.25), out = new Float32Array(M * N);
        for (let r = 0; r < 100; r++) n.exports.product(0, out, 0, a, 0, b, 0, M, N, K, K, N, N, 0, 2);
        parentPort.postMessage(out.every((v) => v === 64) ? 'ok' : 'wrong result ' + out[0]);
      }
    `;
    const file = join(ROOT, 'test-results', 'native-workers-come-and-go.cjs');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `${r.stderr}${r.signal ? ` (${r.signal})` : ''}`);
  });

  for (const isa of ['avx2', 'c']) {
    it(`the ${isa} kernels, forced by RNN_LAB_NATIVE_ISA, match the reference too`, (t) => {
      const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD], { env: { ...process.env, RNN_LAB_NATIVE_ISA: isa }, encoding: 'utf8' });
      assert.equal(probe.status, 0, probe.stderr);
      const got = (JSON.parse(probe.stdout) as { isa: string }).isa;
      if (got !== isa) {
        t.skip(`this CPU has no ${isa} (the build chose ${got})`);
        return;
      }
      const script = `
        const { nativeProducts } = require(${JSON.stringify(join(ROOT, 'src/engine/native/index.ts'))});
        const n = nativeProducts();
        const cases = ${JSON.stringify(cases())};
        const res = cases.map((c) => {
          const aRows = c.kind === 2 ? c.K : c.M, bRows = c.kind === 1 ? c.N : c.K;
          const rnd = (len, seed) => { const o = new Float32Array(len); let s = seed >>> 0; for (let i = 0; i < len; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; o[i] = s / 2 ** 32 - 0.5; } return o; };
          const seed = c.M * 7 + c.N * 13 + c.K;
          const a = rnd(c.aOff + Math.max(aRows, 1) * c.lda, seed), b = rnd(c.bOff + Math.max(bRows, 1) * c.ldb, seed + 1), out = rnd(c.oOff + Math.max(c.M, 1) * c.ldo, seed + 2);
          n.product(c.kind, out, c.oOff, a, c.aOff, b, c.bOff, c.M, c.N, c.K, c.lda, c.ldb, c.ldo, c.acc ? 1 : 0, 2);
          return Array.from(out);
        });
        process.stdout.write(JSON.stringify(res));
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, RNN_LAB_NATIVE_ISA: isa }, encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, r.stderr);
      const outs = JSON.parse(r.stdout) as number[][];
      cases().forEach((c, i) => {
        const { a, b, out } = operands(c, c.M * 7 + c.N * 13 + c.K);
        check(c, a, b, out, Float32Array.from(outs[i]!), isa);
      });
    });
  }
});

describe('native build', () => {
  it('is present and loads wherever this machine can build it (a C compiler and Node\'s headers)', (t) => {
    if (!canBuild()) {
      t.skip('no C compiler or no Node headers here: the engine runs its wasm kernels');
      return;
    }
    assert.ok(native, `a C compiler and Node's headers are here, yet: ${nativeUnavailableReason()}`);
    assert.match(native.isa(), /^(avx512|avx2|c)$/);
  });

  it('RNN_LAB_NATIVE=0 turns the native products off (the wasm kernels run instead)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      const { bestKernels } = require(${JSON.stringify(join(ROOT, 'src/engine/wasm/index.ts'))});
      process.stdout.write(bestKernels().name);
    `], { env: { ...process.env, RNN_LAB_NATIVE: '0' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^wasm-/);
  });
});
