import type { Floats } from './floats';
import type { Kernels } from './kernels';
import type { Model } from './model';
import { createNetwork } from './models/build';
import type { Network, TokenStepper } from './models/family';
import { familyOf } from './models/registry';
import { Rng } from './rng';

export interface SampleOptions {
  /** Characters to generate at most. */
  length: number;
  /** 0 means greedy (always the most likely character). */
  temperature: number;
  /** Keep only the k most likely characters (0 = all). */
  topK: number;
  /** Keep the smallest set whose probability reaches p (1 = all). */
  topP: number;
  seed: number;
  /** Generation ends after any of these strings is produced (it is kept in the output). */
  stop: readonly string[];
}

export const DEFAULT_SAMPLE: SampleOptions = { length: 200, temperature: 0.8, topK: 0, topP: 1, seed: 1, stop: [] };

/**
 * Runs a model one character at a time, carrying its state: the engine of
 * sampling, inline completion and priming. One network of T = B = 1, so a step
 * allocates nothing.
 */
export class Stepper {
  private readonly stepper: TokenStepper;
  private readonly order: Int32Array;
  private readonly weights: Float64Array;
  private primed = false;

  constructor(readonly model: Model, kernels: Kernels) {
    this.stepper = familyOf(model.config.cell).createStepper?.(model.params, kernels) ?? new NetworkStepper(model, kernels);
    this.stepper.reset();
    this.order = new Int32Array(model.vocab.size);
    this.weights = new Float64Array(model.vocab.size);
  }

  reset(): void {
    this.stepper.reset();
    this.primed = false;
  }

  /** Feeds one token; afterwards `probs` is the distribution of the next character. */
  feed(token: number): void {
    this.stepper.feed(token);
    this.primed = true;
  }

  /** Feeds a text; characters outside the vocabulary feed the fallback token. */
  prime(text: string): void {
    const { tokens } = this.model.vocab.encode(text);
    for (let i = 0; i < tokens.length; i++) this.feed(tokens[i]!);
  }

  get hasContext(): boolean {
    return this.primed;
  }

  /** Next-character probabilities after the last fed token. */
  get probs(): Floats {
    return this.stepper.probs;
  }

  /** Copies the state (for caching per document); restore with `setState`. */
  getState(): Float32Array {
    return this.stepper.saveState();
  }

  setState(state: Float32Array): void {
    this.stepper.loadState(state);
    this.primed = true;
  }

  /** Picks the next token from `probs` under the sampling options. */
  choose(rng: Rng, o: Pick<SampleOptions, 'temperature' | 'topK' | 'topP'>): number {
    const p = this.stepper.probs;
    const V = p.length;
    if (o.temperature <= 0) {
      let best = 0;
      for (let v = 1; v < V; v++) if (p[v]! > p[best]!) best = v;
      return best;
    }
    // Temperature on probabilities: p^(1/τ) renormalised equals softmax(logits/τ).
    const w = this.weights;
    const inv = 1 / o.temperature;
    let max = 0;
    for (let v = 0; v < V; v++) if (p[v]! > max) max = p[v]!;
    for (let v = 0; v < V; v++) w[v] = Math.pow(p[v]! / max, inv);
    let count = V;
    const order = this.order;
    if ((o.topK > 0 && o.topK < V) || o.topP < 1) {
      for (let v = 0; v < V; v++) order[v] = v;
      order.sort((a, b) => w[b]! - w[a]! || a - b);
      if (o.topK > 0 && o.topK < V) count = o.topK;
      if (o.topP < 1) {
        let total = 0;
        for (let i = 0; i < count; i++) total += w[order[i]!]!;
        let acc = 0;
        for (let i = 0; i < count; i++) {
          acc += w[order[i]!]!;
          if (acc >= o.topP * total) {
            count = i + 1;
            break;
          }
        }
      }
    } else {
      for (let v = 0; v < V; v++) order[v] = v;
    }
    let total = 0;
    for (let i = 0; i < count; i++) total += w[order[i]!]!;
    let u = rng.uniform() * total;
    for (let i = 0; i < count; i++) {
      u -= w[order[i]!]!;
      if (u < 0) return order[i]!;
    }
    return order[count - 1]!;
  }
}

/** A network of one step and one stream carrying its state from token to token: how the recurrent families step. */
class NetworkStepper implements TokenStepper {
  private readonly graph: Network;

  constructor(model: Model, kernels: Kernels) {
    this.graph = createNetwork(model.params, { B: 1, T: 1, kernels });
    this.graph.targets[0] = -1;
  }

  get probs(): Floats {
    return this.graph.probs;
  }

  reset(): void {
    this.graph.resetState();
  }

  feed(token: number): void {
    this.graph.tokens[0] = token;
    this.graph.forward();
    this.graph.carryState();
  }

  saveState(): Float32Array {
    const parts = this.graph.carried.map((c) => c.data);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0) + this.graph.probs.length);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    out.set(this.graph.probs, o);
    return out;
  }

  loadState(state: Float32Array): void {
    let o = 0;
    for (const c of this.graph.carried) {
      c.data.set(state.subarray(o, o + c.data.length));
      o += c.data.length;
    }
    this.graph.probs.set(state.subarray(o, o + this.graph.probs.length));
  }
}

/**
 * Generates text after `prime`, streaming each character to `onChar` (return
 * false to stop early). `shouldStop` is read before every character (a
 * cancelled request's flag: it must be cheap). Without a prime the model
 * starts from a newline if it knows one, else from its fallback character.
 */
export function sample(
  model: Model,
  kernels: Kernels,
  prime: string,
  options: SampleOptions,
  onChar?: (ch: string) => boolean | void,
  shouldStop?: () => boolean,
): string {
  const stepper = new Stepper(model, kernels);
  const rng = new Rng(options.seed);
  if (prime.length > 0) stepper.prime(prime);
  else stepper.feed(model.vocab.has('\n') ? model.vocab.tokenOf('\n') : model.vocab.fallback);
  let out = '';
  for (let i = 0; i < options.length; i++) {
    if (shouldStop?.()) break;
    const token = stepper.choose(rng, options);
    const ch = model.vocab.chars[token]!;
    out += ch;
    if (onChar && onChar(ch) === false) break;
    if (options.stop.some((s) => s.length > 0 && out.endsWith(s))) break;
    stepper.feed(token);
  }
  return out;
}
