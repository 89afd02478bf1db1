/**
 * Helper threads for the wasm products: one training run on several cores.
 *
 * A threaded arena (WasmKernels with threads > 1) keeps its buffers in a
 * shared WebAssembly.Memory and runs the kernels built with shared-memory
 * support. Each helper is a worker_thread, spawned lazily by the thread that
 * trains (the extension's trainer worker, the CLI's main thread) and running
 * the same compiled module on the same memory. A large product is split by
 * blocks of output columns (or rows, for narrow outputs): the calling thread
 * posts the helpers' blocks, computes its own, then waits for theirs. Every
 * output element stays one dot product computed by one thread in the same
 * order as the unsplit product, so results are bit-identical to one thread.
 * A layer's whole recurrent loop (T steps of product + cell) is split by
 * blocks of batch rows instead (splitRows): rows never depend on each other,
 * so the threads meet once per loop rather than once per step, and the
 * cells' elementwise work is shared too. Large transposes and column sums
 * are split by columns (splitTranspose, splitColSums).
 *
 * Synchronisation is one Int32 word per helper in a small SharedArrayBuffer
 * of its own (Atomics.wait/notify after a short spin): a job costs some
 * 5–50 µs, so only products above SPLIT_MIN_MACS are split.
 *
 * The helpers are unref'd (they never keep a process alive) and belong to the
 * thread that spawned them; one set serves every arena of that thread, a
 * helper re-instantiating the module when a job comes from another memory.
 */

/** Multiply-adds below which a product runs on the calling thread alone (~0.1 ms of work). */
export const SPLIT_MIN_MACS = 1 << 22;
let splitMinMacs = SPLIT_MIN_MACS;
let splits = 0;

/** Tests: the work threshold (default SPLIT_MIN_MACS), and how many products have been split so far. */
export function setSplitMinMacs(macs: number): void {
  splitMinMacs = macs;
}
export function splitCount(): number {
  return splits;
}

/** Control words (Int32 indices) of a helper. */
const STATE = 0;
const IDLE = 0, JOB = 1, DONE = 2, STOP = 3, ATTACH = 4, FAILED = 5;
/** Which export a job runs (GEMM_OP, or an index into the module's exports), and where its arguments start. */
const OP = 1;
const ARGS = 2;
/** The gemm (out, a, b, M, N, K, ldOut, accumulate), posted without an argument count. */
const GEMM_OP = -1;
/**
 * Any other job names an export by its index in the module's export list,
 * which the helper reads from the same module: a model family's loops need
 * no entry here.
 */
const exportIndex = new WeakMap<object, Map<string, number>>();
function opIndex(module: object, op: string): number {
  let names = exportIndex.get(module);
  if (!names) {
    const WA = (globalThis as { WebAssembly?: { Module: { exports(m: object): { name: string }[] } } }).WebAssembly!;
    names = new Map(WA.Module.exports(module).map((e, i) => [e.name, i] as [string, number]));
    exportIndex.set(module, names);
  }
  const i = names.get(op);
  if (i === undefined) throw new Error(`the wasm module has no export ${op}`);
  return i;
}
const MAX_ARGS = 14;
/**
 * Spins (Atomics.load) before a helper sleeps: covers the gap between the
 * per-step products. An arena whose products run natively asks for fewer
 * (setHelperSpins): its products keep both cores busy on native threads, and
 * a helper spinning beside them would take a core from one.
 */
const HELPER_SPINS = 20000;
/** Where a helper reads its spin count (after the arguments and their count). */
const SPINS = ARGS + MAX_ARGS + 1;
const helperSpins = new WeakMap<object, number>();

/** The spins helpers make between jobs of this memory's arena (default HELPER_SPINS). */
export function setHelperSpins(memory: object, spins: number): void {
  helperSpins.set(memory, spins);
}
const CALLER_SPINS = 200000;

/** The helper's code, run as an eval'd CommonJS worker so bundles need no extra file. */
const HELPER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const c = new Int32Array(workerData.control);
const port = workerData.port;
let fn = null;
let ops = [];
for (;;) {
  let v = Atomics.load(c, ${STATE});
  let spins = 0;
  while (v !== ${JOB} && v !== ${STOP} && v !== ${ATTACH}) {
    if (spins++ < c[${SPINS}]) { v = Atomics.load(c, ${STATE}); continue; }
    Atomics.wait(c, ${STATE}, v, 1000);
    v = Atomics.load(c, ${STATE});
  }
  if (v === ${STOP}) break;
  try {
    if (v === ${ATTACH}) {
      fn = null;
      const m = receiveMessageOnPort(port);
      if (m) {
        fn = new WebAssembly.Instance(m.message.module, { env: { memory: m.message.memory } }).exports;
        ops = WebAssembly.Module.exports(m.message.module).map((e) => e.name);
      }
      if (!fn) throw new Error('no module');
    } else if (c[${OP}] === ${GEMM_OP}) {
      fn.gemm_abt_ld(c[${ARGS}], c[${ARGS + 1}], c[${ARGS + 2}], c[${ARGS + 3}], c[${ARGS + 4}], c[${ARGS + 5}], c[${ARGS + 6}], c[${ARGS + 7}]);
    } else {
      const n = c[${ARGS + MAX_ARGS}];
      const args = [];
      for (let i = 0; i < n; i++) args.push(c[${ARGS} + i]);
      fn[ops[c[${OP}]]](...args);
    }
    Atomics.store(c, ${STATE}, ${DONE});
  } catch (e) {
    Atomics.store(c, ${STATE}, ${FAILED});
  }
  Atomics.notify(c, ${STATE});
}
`;

interface NodeWorker { unref(): void; terminate(): Promise<number>; on(ev: string, f: (...a: unknown[]) => void): void }
interface NodePort { postMessage(m: unknown): void; unref(): void; close(): void }
interface WorkerThreads {
  Worker: new (src: string, opts: object) => NodeWorker;
  MessageChannel: new () => { port1: NodePort; port2: NodePort };
}

function workerThreads(): WorkerThreads | null {
  try {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (!proc?.versions?.node || typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return null;
    return require('node:worker_threads') as WorkerThreads;
  } catch {
    return null;
  }
}

class Helper {
  readonly control = new Int32Array(new SharedArrayBuffer(128));
  private readonly worker: NodeWorker;
  private readonly port: NodePort;
  /** The memory the helper's instance runs on. */
  private attached: object | null = null;
  dead = false;

  constructor(wt: WorkerThreads) {
    const { port1, port2 } = new wt.MessageChannel();
    this.port = port1;
    this.worker = new wt.Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { control: this.control.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => { this.dead = true; });
    this.worker.on('exit', () => { this.dead = true; });
  }

  /** Makes the helper run `module` on `memory` (blocking until it has). */
  attach(module: object, memory: object): void {
    this.control[SPINS] = helperSpins.get(memory) ?? HELPER_SPINS;
    if (this.attached === memory) return;
    this.port.postMessage({ module, memory });
    this.signal(ATTACH);
    this.wait();
    this.attached = memory;
  }

  post(out: number, a: number, b: number, M: number, N: number, K: number, ldOut: number, accumulate: number): void {
    const c = this.control;
    c[ARGS] = out; c[ARGS + 1] = a; c[ARGS + 2] = b; c[ARGS + 3] = M;
    c[ARGS + 4] = N; c[ARGS + 5] = K; c[ARGS + 6] = ldOut; c[ARGS + 7] = accumulate;
    c[OP] = GEMM_OP;
    this.signal(JOB);
  }

  /** Posts a call of the module's export number `op` with integer arguments. */
  postOp(op: number, args: readonly number[]): void {
    const c = this.control;
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i]!;
    c[ARGS + MAX_ARGS] = args.length;
    c[OP] = op;
    this.signal(JOB);
  }

  private signal(state: number): void {
    Atomics.store(this.control, STATE, state);
    Atomics.notify(this.control, STATE);
  }

  /** Waits for the posted job; throws if the helper failed or is gone. */
  wait(): void {
    const c = this.control;
    let v = Atomics.load(c, STATE);
    for (let spins = 0; v !== DONE && v !== FAILED && spins < CALLER_SPINS; spins++) v = Atomics.load(c, STATE);
    while (v !== DONE && v !== FAILED) {
      if (this.dead) { this.attached = null; throw new Error('wasm helper thread exited'); }
      Atomics.wait(c, STATE, v, 100);
      v = Atomics.load(c, STATE);
    }
    Atomics.store(c, STATE, IDLE);
    if (v === FAILED) {
      this.attached = null;
      throw new Error('wasm helper thread failed');
    }
  }

  stop(): void {
    this.signal(STOP);
    void this.worker.terminate();
  }
}

/** The helpers of this thread (index i serves part i + 1 of a split product). */
const helpers: Helper[] = [];
let wtCache: WorkerThreads | null | undefined;

/** Whether helper threads can run here (Node with SharedArrayBuffer and worker_threads). */
export function threadsAvailable(): boolean {
  if (wtCache === undefined) wtCache = workerThreads();
  return wtCache !== null;
}

/** `n` live helpers of this thread, spawning the missing ones; null when they cannot be had. */
function helperPool(n: number): Helper[] | null {
  if (!threadsAvailable()) return null;
  for (let i = 0; i < n; i++) {
    if (!helpers[i] || helpers[i]!.dead) {
      try {
        helpers[i] = new Helper(wtCache!);
      } catch {
        return null;
      }
    }
  }
  return helpers.slice(0, n);
}

/** Stops this thread's helpers (they are unref'd, so this is only needed to free them early). */
export function stopHelpers(): void {
  for (const h of helpers.splice(0)) h.stop();
}

export interface GemmFn {
  gemm_abt_ld(out: number, a: number, b: number, M: number, N: number, K: number, ldOut: number, accumulate: number): void;
}

/**
 * out[M,N] (+)= A·Bᵀ (byte addresses in `memory`, rows of out N floats apart)
 * on `threads` threads: the caller's own part first, the helpers' after.
 * Falls back to one thread below the work threshold or without helpers.
 */
export function splitGemm(
  fn: GemmFn, module: object, memory: object, threads: number,
  out: number, A: number, B: number, M: number, N: number, K: number, accumulate: number,
): void {
  const macs = M * N * K;
  const parts = macs < splitMinMacs ? 1 : threads;
  // Columns in even blocks of at least 8; rows when the output is too narrow.
  const byCols = N >= 16;
  const span = byCols ? N : M;
  const unit = byCols ? 8 : 4;
  const p = Math.min(parts, Math.floor(span / unit));
  const pool = attachedPool(p, module, memory);
  if (!pool) {
    fn.gemm_abt_ld(out, A, B, M, N, K, N, accumulate);
    return;
  }
  splits++;
  const cut = (i: number): number => (i === p ? span : Math.floor((span * i) / p / 2) * 2);
  const rowBytes = K * 4;
  const part = (run: (o: number, a: number, b: number, m: number, n: number) => void, i: number): void => {
    const s = cut(i), e = cut(i + 1);
    if (byCols) run(out + s * 4, A, B + s * rowBytes, M, e - s);
    else run(out + s * N * 4, A + s * rowBytes, B, e - s, N);
  };
  for (let i = 1; i < p; i++) part((o, a, b, m, n) => pool[i - 1]!.post(o, a, b, m, n, K, N, accumulate), i);
  const local = (o: number, a: number, b: number, m: number, n: number): void => fn.gemm_abt_ld(o, a, b, m, n, K, N, accumulate);
  let err: unknown = null;
  try {
    part(local, 0);
  } catch (e) {
    err = e;
  }
  for (let i = 1; i < p; i++) {
    try {
      pool[i - 1]!.wait();
    } catch {
      // A helper that died or failed: its block is done here instead.
      if (!err) part(local, i);
    }
  }
  if (err) throw err;
}

/**
 * One of the recurrent loops (lstm_seq_fwd ...) over all B batch rows, split
 * into blocks of rows between `threads` threads: `args(b0, b1)` gives the
 * export's arguments for rows [b0, b1). Rows never depend on each other, so
 * every thread runs its T steps without waiting for the others. `products`
 * is how many products the loop holds (counted by splitCount when split);
 * `macs` its multiply-adds, below the threshold it runs on this thread alone.
 */
export function splitRows(
  fn: object, module: object, memory: object, threads: number, op: string,
  B: number, macs: number, products: number, args: (b0: number, b1: number, part: number) => number[],
): void {
  const p = macs < splitMinMacs ? 1 : Math.min(threads, Math.floor(B / 4));
  splitRange(fn, module, memory, p, op, B, 4, products, args);
}

/** Bytes of workspace gemm_atb_ld needs per thread (AKC·24 in gemm.as), kept a multiple of 16. */
export const ATB_WS_BYTES = 128 * 24;

/**
 * out[M,N] (+)= a[K,M]ᵀ·b[K,N] (byte addresses; ws: threads · ATB_WS_BYTES of
 * workspace) on `threads` threads, split by blocks of 8 output columns (rows
 * in blocks of 4 when the output is narrow). Each element is formed by one
 * thread with the same arithmetic in the same k order, whatever the split.
 */
export function splitGemmAtB(
  fn: object, module: object, memory: object, threads: number,
  out: number, A: number, B: number, M: number, N: number, K: number, accumulate: number, ws: number,
): void {
  splitGemmLd(fn, module, memory, threads, 'gemm_atb_ld', out, A, B, M, N, K, accumulate, ws, 1, M);
}

/**
 * out[M,N] (+)= a[M,K]·b[K,N] (byte addresses; ws as for splitGemmAtB) by
 * gemm_ab_ld, split like splitGemmAtB: the same bits whatever the split.
 */
export function splitGemmAB(
  fn: object, module: object, memory: object, threads: number,
  out: number, A: number, B: number, M: number, N: number, K: number, accumulate: number, ws: number,
): void {
  splitGemmLd(fn, module, memory, threads, 'gemm_ab_ld', out, A, B, M, N, K, accumulate, ws, K, K);
}

/** The split both share (operands with a leading dimension); `rowStride` is the float step from one output row's operand row of a to the next, `lda` a's leading dimension. */
function splitGemmLd(
  fn: object, module: object, memory: object, threads: number, op: string,
  out: number, A: number, B: number, M: number, N: number, K: number, accumulate: number, ws: number,
  rowStride: number, lda: number,
): void {
  const byCols = N >= 16;
  const span = byCols ? N : M;
  const unit = byCols ? 8 : 4;
  const p = M * N * K < splitMinMacs ? 1 : Math.min(threads, Math.floor(span / unit));
  splitRange(fn, module, memory, p, op, span, unit, 1, (s, e, i) => byCols
    ? [out + s * 4, A, B + s * 4, M, e - s, K, lda, N, N, accumulate, ws + i * ATB_WS_BYTES]
    : [out + s * N * 4, A + s * rowStride * 4, B, e - s, N, K, lda, N, N, accumulate, ws + i * ATB_WS_BYTES]);
}

/** Moves (floats) below which a transpose runs on the calling thread alone. */
const SPLIT_MIN_MOVES = 1 << 16;

/**
 * transpose(out, a, rows, cols) split by blocks of a's columns (rows of out)
 * between threads: pure moves, so any split gives the same bits.
 */
export function splitTranspose(fn: object, module: object, memory: object, threads: number, out: number, a: number, rows: number, cols: number): void {
  const p = rows * cols < Math.min(SPLIT_MIN_MOVES, splitMinMacs) ? 1 : Math.min(threads, Math.floor(cols / 16));
  splitRange(fn, module, memory, p, 'transpose_cols', cols, 16, 0, (c0, c1) => [out, a, rows, cols, c0, c1]);
}

/** col_sums(out, a, rows, cols) split by blocks of columns (each column summed in the same order by one thread). */
export function splitColSums(fn: object, module: object, memory: object, threads: number, out: number, a: number, rows: number, cols: number): void {
  const p = rows * cols < Math.min(SPLIT_MIN_MOVES, splitMinMacs) ? 1 : Math.min(threads, Math.floor(cols / 16));
  splitRange(fn, module, memory, p, 'col_sums_cols', cols, 4, 0, (c0, c1) => [out, a, rows, cols, c0, c1]);
}

/**
 * Runs export `op` over [0, span) in p blocks (multiples of `unit` apart),
 * the first on this thread. `products` > 0 marks the recurrent loops: they
 * count as that many split products, and a failed helper's block is an error.
 */
/** p − 1 helpers attached to this module and memory, or null to run on the calling thread alone. */
function attachedPool(p: number, module: object, memory: object): Helper[] | null {
  const pool = p > 1 ? helperPool(p - 1) : null;
  if (!pool) return null;
  try {
    for (const h of pool) h.attach(module, memory);
    return pool;
  } catch {
    return null;
  }
}

function splitRange(
  fn: object, module: object, memory: object, p: number, op: string,
  span: number, unit: number, products: number, args: (b0: number, b1: number, part: number) => number[],
): void {
  const B = span;
  const call = (a: number[]): void => (fn as Record<string, (...x: number[]) => void>)[op]!(...a);
  const pool = attachedPool(p, module, memory);
  if (!pool) {
    call(args(0, B, 0));
    return;
  }
  splits += products;
  const cut = (i: number): number => (i === p ? B : Math.floor((B * i) / p / unit) * unit);
  const index = opIndex(module, op);
  for (let i = 1; i < p; i++) pool[i - 1]!.postOp(index, args(cut(i), cut(i + 1), i));
  let err: unknown = null;
  try {
    call(args(0, cut(1), 0));
  } catch (e) {
    err = e;
  }
  for (let i = 1; i < p; i++) {
    try {
      pool[i - 1]!.wait();
    } catch (e) {
      // A helper that died or failed: its block is redone here, unless the
      // export works in place (the recurrent loops), where a partial run cannot be redone.
      if (!err) {
        if (products > 0) err = e;
        else call(args(cut(i), cut(i + 1), i));
      }
    }
  }
  if (err) throw err;
}
