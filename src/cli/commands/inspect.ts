/**
 * `rnn-lab inspect <checkpoint>`: what the network does on a text — hidden
 * states, gates, surprisal and predictions per character — or, with
 * --gradient-flow, how the gradient flows back through time.
 */
import { Option, type Command } from 'commander';

import {
  UserError,
  traceGradientFlow,
  traceHiddenStates,
  bestKernels,
  type GradientFlow,
  type HiddenStateTrace,
  type Model,
} from '../../engine';
import { loadCheckpoint } from '../checkpointFile';
import { readTextFile } from '../files';
import { CLI_RANGES, checkOptional, conflict, parseNumber } from '../options';
import { EXIT_OK, round, significant, type Output } from '../output';

/** Longest text inspected at once (the trace holds [T, H] per layer and gate, and [T, V] probabilities). */
export const MAX_INSPECT_CHARS = 10_000;
const TOP = 5;

interface InspectFlags {
  text?: string;
  file?: string;
  json?: boolean;
  gradientFlow?: boolean;
  errorAt?: number;
}

export function addInspectCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  program
    .command('inspect')
    .description('trace hidden states, gates, surprisal and predictions over a text (or the gradient flow with --gradient-flow)')
    .argument('<checkpoint>', 'a model saved by rnn-lab')
    .option('--text <text>', 'the text to run through the model')
    .option('--file <file>', 'read the text from a file instead')
    .option('--json', 'print the full trace as JSON')
    .option('--gradient-flow', 'backpropagate through the text and report the gradient norms per time step')
    .addOption(new Option('--error-at <t>', 'with --gradient-flow: trace only the error of the prediction made at step t').argParser(parseNumber))
    .action(async (checkpoint: string, flags: InspectFlags) => {
      await run(Boolean(flags.json), async (out) => inspect(checkpoint, flags, out));
    });
}

function inspect(checkpointPath: string, flags: InspectFlags, out: Output): number {
  if ((flags.text === undefined) === (flags.file === undefined)) conflict('give the text to inspect with exactly one of --text or --file');
  const errorAt = checkOptional('--error-at', flags.errorAt, CLI_RANGES.errorAt);
  if (errorAt !== undefined && !flags.gradientFlow) conflict('--error-at applies to --gradient-flow only');
  const { model } = loadCheckpoint(checkpointPath, { weightsOnly: true });
  // Every character takes at most 4 bytes of UTF-8: a larger file has too many characters, and is not read.
  const text = flags.text ?? readTextFile(flags.file!, 4 * MAX_INSPECT_CHARS);
  const length = [...text].length;
  if (length === 0) throw new UserError('the text to inspect is empty');
  if (length > MAX_INSPECT_CHARS) {
    throw new UserError(`the text has ${length} characters; inspect at most ${MAX_INSPECT_CHARS} at a time`);
  }
  if (flags.gradientFlow) {
    if (length < 2) throw new UserError('--gradient-flow needs a text of at least two characters');
    if (errorAt !== undefined && errorAt > length - 2) {
      throw new UserError(`--error-at must be a step from 0 to ${length - 2} for a text of ${length} characters`);
    }
    const flow = traceGradientFlow(model, text, bestKernels(), errorAt ?? null);
    if (out.json) out.result(gradientFlowJson(flow, text));
    else printGradientFlow(flow, text, out);
    return EXIT_OK;
  }
  const trace = traceHiddenStates(model, text, bestKernels());
  if (out.json) out.result(traceJson(model, trace));
  else printTrace(model, trace, out);
  return EXIT_OK;
}

/** [T*H] → [T][H], rounded. */
function rows(a: Float32Array, T: number, H: number): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const row = new Array<number>(H);
    for (let j = 0; j < H; j++) row[j] = round(a[t * H + j]!, 4);
    out.push(row);
  }
  return out;
}

/** The most likely next characters after position t. */
function topNext(model: Model, probs: Float32Array, t: number, k: number): { char: string; p: number }[] {
  const V = model.config.vocabSize;
  const idx = Array.from({ length: V }, (_, v) => v);
  idx.sort((a, b) => probs[t * V + b]! - probs[t * V + a]! || a - b);
  return idx.slice(0, Math.min(k, V)).map((v) => ({ char: model.vocab.chars[v]!, p: round(probs[t * V + v]!, 4) }));
}

export function traceJson(model: Model, trace: HiddenStateTrace): Record<string, unknown> {
  const T = trace.chars.length;
  const H = trace.hidden;
  return {
    cell: model.config.cell,
    hidden: H,
    chars: trace.chars,
    unknown: trace.unknown,
    layers: trace.layers.map((l) => {
      const layer: Record<string, unknown> = { h: rows(l.h, T, H) };
      if (l.c) layer.c = rows(l.c, T, H);
      const gates: Record<string, number[][]> = {};
      for (const [name, g] of Object.entries(l.gates)) gates[name] = rows(g, T, H);
      layer.gates = gates;
      return layer;
    }),
    surprisalBits: surprisalOfEachChar(trace),
    top: Array.from({ length: T }, (_, t) => topNext(model, trace.nextProbs, t, TOP)),
  };
}

/**
 * surprisalBits[t] in bits of chars[t] itself, given chars[0..t-1]: null for the
 * first character (nothing predicts it) and for unknown ones. The trace holds
 * it one position earlier, at the step that made the prediction; top[t] stays
 * there (the guesses for chars[t+1]).
 */
function surprisalOfEachChar(trace: HiddenStateTrace): (number | null)[] {
  return Array.from({ length: trace.chars.length }, (_, t) => {
    const bits = t > 0 ? trace.surprisalBits[t - 1]! : NaN;
    return Number.isFinite(bits) ? round(bits, 4) : null;
  });
}

/** A printable form of one character for a table cell. */
function show(ch: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', ' ': '␣' };
  if (named[ch]) return named[ch]!;
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f ? `\\x${cp.toString(16).padStart(2, '0')}` : ch;
}

function printTrace(model: Model, trace: HiddenStateTrace, out: Output): void {
  const c = model.config;
  out.info(`${c.layers}-layer ${c.cell.toUpperCase()}, hidden ${c.hidden}; bits = surprisal of the character, next = the model's top guesses after it`);
  out.info('  pos  char    bits  next');
  const unknown = new Set(trace.unknown);
  let total = 0;
  let n = 0;
  trace.chars.forEach((ch, t) => {
    const bits = t > 0 ? trace.surprisalBits[t - 1]! : NaN;
    if (Number.isFinite(bits)) {
      total += bits;
      n++;
    }
    const next = topNext(model, trace.nextProbs, t, 3)
      .map((x) => `${show(x.char)} ${(x.p * 100).toFixed(0)}%`)
      .join('  ');
    const bitsText = unknown.has(t) ? 'unknown' : Number.isFinite(bits) ? bits.toFixed(2) : '-';
    out.info(`${String(t).padStart(5)}  ${show(ch).padEnd(4)} ${bitsText.padStart(7)}  ${next}`);
  });
  if (n > 0) out.info(`mean surprisal ${(total / n).toFixed(3)} bits/char over ${n} characters`);
}

export function gradientFlowJson(flow: GradientFlow, text: string): Record<string, unknown> {
  const list = (a: Float64Array[]): number[][] => a.map((row) => Array.from(row, (x) => significant(x, 4)));
  const paramGradNorms: Record<string, number> = {};
  for (const [name, v] of Object.entries(flow.paramGradNorms)) paramGradNorms[name] = significant(v, 4);
  return {
    chars: [...text],
    loss: round(flow.loss, 5),
    errorAt: flow.errorAt,
    hGradNorm: list(flow.hGradNorm),
    wContribution: list(flow.wContribution),
    paramGradNorms,
  };
}

function printGradientFlow(flow: GradientFlow, text: string, out: Output): void {
  const chars = [...text];
  const L = flow.hGradNorm.length;
  out.info(
    `gradient of ${flow.errorAt === null ? 'the whole window\'s loss E' : `the error e_${flow.errorAt}`} ` +
      `(loss ${flow.loss.toFixed(4)}); ‖∂/∂h_k‖ and ‖step k's term in ∇W_hh‖ per layer`,
  );
  const header = ['    k  char'];
  for (let l = 0; l < L; l++) header.push(`   |dh| l${l}   |dW| l${l}`);
  out.info(header.join(''));
  const T = flow.hGradNorm[0]?.length ?? 0;
  for (let k = 0; k < T; k++) {
    let line = `${String(k).padStart(5)}  ${show(chars[k]!).padEnd(4)}`;
    for (let l = 0; l < L; l++) {
      line += `${flow.hGradNorm[l]![k]!.toExponential(2).padStart(11)}${flow.wContribution[l]![k]!.toExponential(2).padStart(11)}`;
    }
    out.info(line);
  }
}
