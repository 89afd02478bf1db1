import type { Floats } from '../../floats';
import type { WasmHost } from '../../kernels';
import type { Rng } from '../../rng';
import type { CarriedTensor, Mixer, MixerContext } from './mixer';

/**
 * The elementwise recurrence of a minimal RNN mixer over one window. All
 * arrays are row-major with row r = t·B + b: pre and act [T·B, G·C] (gate
 * pre-activations, and the activated gates forward writes), h [(T+1)·B, C]
 * with the carried-in state in slot 0 and h_t in slot t + 1.
 */
export interface Scan {
  /** Gate blocks of to_gates, in the order of its rows. */
  readonly gates: number;
  /** Names and labels of the activated gate blocks forward leaves in act, in row order. */
  readonly gateNames: readonly string[];
  readonly gateLabels: readonly string[];
  forward(pre: Floats, act: Floats, h: Floats, T: number, B: number, C: number): void;
  /**
   * Backward through time from dOut [T·B, C] = ∂/∂h_t (t = 1..T): writes
   * dPre [T·B, G·C]; dh [B, C] is scratch (zero from beyond the window).
   */
  backward(dOut: Floats, pre: Floats, act: Floats, h: Floats, dh: Floats, dPre: Floats, T: number, B: number, C: number): void;
  /**
   * The same loops in wasm (exports of the family's kernels.as), for C a
   * multiple of 4: forward(pre, bias, act, h, T, B, C, b0, b1) adds the
   * bias into pre first; backward(dOut, pre, act, h, dh, dPre, T, B, C, b0, b1).
   */
  readonly wasm?: { readonly forward: string; readonly backward: string };
}

/** Work units per element of a scan for the thread split (a few exps and a division). */
const SCAN_WORK = 48;

/** g(a) = a + 1/2 for a >= 0, sigmoid(a) below: positive, continuous at 0 (Feng et al.). */
export function gActivation(a: number): number {
  return a >= 0 ? a + 0.5 : 1 / (1 + Math.exp(-a));
}

/** g'(a) as torch.where(a >= 0, a + 0.5, sigmoid(a)) differentiates it: 1 at a = 0 (the right-hand branch). */
export function gGrad(a: number, g: number): number {
  return a >= 0 ? 1 : g * (1 - g);
}

export function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/**
 * A mixer whose gates depend on u only: one product over all T·B rows for
 * the gates (`mix.to_gates`), then the scan; its output is h_t. Carries h
 * per block between windows (truncated BPTT) as `h_b{block}` (`train.h_b{block}` in a checkpoint).
 */
export class RecurrentMixer implements Mixer {
  readonly carried: readonly CarriedTensor[];
  /** [T·B, G·C] gate pre-activations and activations of the last forward (the Hidden States panel reads act). */
  readonly pre: Floats;
  readonly act: Floats;
  /** [(T+1)·B, C]: slot 0 the carried-in state, slot t+1 h_t. */
  readonly h: Floats;
  readonly inputGrad: Floats;
  readonly inputWidth: number;
  readonly quantities: readonly { name: string; label: string; width: number }[];
  private readonly dh: Floats;
  private readonly wOff: number;
  private readonly bOff: number;
  private readonly C: number;

  constructor(private readonly ctx: MixerContext, private readonly scan: Scan) {
    const { params, block, B, T, alloc } = ctx;
    const C = (this.C = params.config.hidden);
    const GC = scan.gates * C;
    this.wOff = params.offset(`transformer.h.${block}.mix.to_gates.weight`);
    this.bOff = params.offset(`transformer.h.${block}.mix.to_gates.bias`);
    this.pre = alloc(T * B * GC);
    this.act = alloc(T * B * GC);
    this.h = alloc((T + 1) * B * C);
    this.inputGrad = alloc(T * B * GC);
    this.inputWidth = GC;
    this.quantities = [
      { name: 'h', label: 'h (mixer state)', width: C },
      ...scan.gateNames.map((name, g) => ({ name, label: scan.gateLabels[g]!, width: C })),
    ];
    this.dh = alloc(B * C);
    this.carried = [{ name: `h_b${block}`, shape: [B, C], data: this.h.subarray(0, B * C) }];
  }

  forward(u: Floats, out: Floats, _rng: Rng | null): void {
    const { data, kernels, ops, B, T } = this.ctx;
    const C = this.C;
    const GC = this.scan.gates * C;
    const TB = T * B;
    kernels.gemmABt(this.pre, 0, u, 0, data, this.wOff, TB, GC, C, false);
    const host = this.wasmHost(bothResident(this.ctx.host, u, out));
    if (host) {
      const pre = host.ptr(this.pre), bias = host.ptr(data, this.bOff), act = host.ptr(this.act), h = host.ptr(this.h);
      host.rows(this.scan.wasm!.forward, B, TB * C * SCAN_WORK, 1, (b0, b1) => [pre, bias, act, h, T, B, C, b0, b1]);
    } else {
      ops.addBias(this.pre, TB, GC, data, this.bOff);
      this.scan.forward(this.pre, this.act, this.h, T, B, C);
    }
    out.set(this.h.subarray(B * C, (T + 1) * B * C));
  }

  backward(dOut: Floats, u: Floats, du: Floats): void {
    const { data, grad, kernels, ops, B, T } = this.ctx;
    const C = this.C;
    const GC = this.scan.gates * C;
    const TB = T * B;
    const host = this.wasmHost(bothResident(this.ctx.host, dOut, u));
    if (host) {
      const d = host.ptr(dOut), pre = host.ptr(this.pre), act = host.ptr(this.act), h = host.ptr(this.h), dh = host.ptr(this.dh), dPre = host.ptr(this.inputGrad);
      host.rows(this.scan.wasm!.backward, B, TB * C * SCAN_WORK, 0, (b0, b1) => [d, pre, act, h, dh, dPre, T, B, C, b0, b1]);
    } else {
      this.scan.backward(dOut, this.pre, this.act, this.h, this.dh, this.inputGrad, T, B, C);
    }
    kernels.gemmAtB(grad, this.wOff, this.inputGrad, 0, u, 0, GC, C, TB, true);
    ops.addColumnSums(grad, this.bOff, this.inputGrad, TB, GC);
    kernels.gemmAB(du, 0, this.inputGrad, 0, data, this.wOff, TB, C, GC, false);
  }

  /** The arena's host when this scan runs in wasm here: its exports exist, C suits the SIMD loops, every buffer is resident. */
  private wasmHost(host: WasmHost | null): WasmHost | null {
    const w = this.scan.wasm;
    if (!host || !w || this.C % 4 !== 0 || typeof host.exports[w.forward] !== 'function') return null;
    return host.resident(this.ctx.data) && host.resident(this.pre) ? host : null;
  }

  readQuantity(name: string, b: number, out: Float32Array): void {
    const { B, T } = this.ctx;
    const C = this.C;
    if (name === 'h') {
      for (let t = 0; t < T; t++) for (let j = 0; j < C; j++) out[t * C + j] = this.h[((t + 1) * B + b) * C + j]!;
      return;
    }
    const g = this.scan.gateNames.indexOf(name);
    if (g < 0) throw new Error(`no quantity ${name} in this mixer`);
    const GC = this.scan.gates * C;
    for (let t = 0; t < T; t++) for (let j = 0; j < C; j++) out[t * C + j] = this.act[(t * B + b) * GC + g * C + j]!;
  }

  resetState(): void {
    this.h.fill(0, 0, this.ctx.B * this.C);
  }

  carryState(): void {
    const n = this.ctx.B * this.C;
    this.h.copyWithin(0, this.ctx.T * n, (this.ctx.T + 1) * n);
  }
}

/** host when both operands are arena buffers, else null. */
function bothResident(host: WasmHost | null, a: Floats, b: Floats): WasmHost | null {
  return host && host.resident(a) && host.resident(b) ? host : null;
}
