/**
 * The inference thread: holds the latest weights of the models in use and
 * answers completions and samples, keeping each document's hidden state so a
 * prefix that grew by one character costs one step. It also does the engine
 * work the extension host must not do on its own thread: checking an
 * imported checkpoint and the kernel benchmark behind the time estimates.
 */
import { bestKernels, decodeCheckpoint, Rng, Stepper, traceHiddenStates, type Model } from '../engine';
import type {
  CheckpointSummary,
  HostToInference,
  InferCompleteRequest,
  InferCompleteResult,
  InferenceRequest,
  InferenceToHost,
  InferSampleRequest,
  InferSampleResult,
  InferStepThroughRequest,
  InferTraceRequest,
  InferTraceResult,
} from '../shared/inferenceProtocol';
import type { StepThroughView } from '../shared/stepThroughProtocol';
import { assertNever, type CancellationFlag, type RequestContext } from '../shared/rpc';
import { capText } from '../shared/untrusted';
import { traceBpttInSteps } from '../engine/bptt';
import { viewOfTrace } from '../engine/bpttView';
import { STEP_THROUGH_FACTOR_BUDGET_MS } from '../shared/stepThroughProtocol';
import { measureGflops } from '../engine/trainingSpeed';
import { channel } from './port';

/** The fastest matrix kernels this runtime can run, chosen once per worker. */
const kernels = bestKernels();

const rpc = channel<InferenceToHost, HostToInference>();

/** A cold document is primed with at most this many characters before the cursor. */
const COLD_CONTEXT_CHARS = 600;
/** States remembered per document, so a backspace does not mean a cold start. */
const SNAPSHOTS_PER_DOC = 24;
const SNAPSHOT_EVERY = 32;
const MAX_DOCS = 32;

interface Snapshot {
  /** Length of the prefix this state has read. */
  length: number;
  state: Float32Array;
}

interface DocCache {
  prefix: string;
  snapshots: Snapshot[];
}

interface LoadedModel {
  model: Model;
  stepper: Stepper;
  docs: Map<string, DocCache>;
}

/** An imported model's name is kept to this many characters (the rename box allows as many). */
const MAX_NAME_CHARS = 200;

const models = new Map<string, LoadedModel>();

rpc.onRequest((msg: InferenceRequest, context: RequestContext) => {
  switch (msg.kind) {
    case 'infer/load': {
      const { model } = decodeCheckpoint(msg.checkpoint);
      models.set(msg.modelId, { model, stepper: new Stepper(model, kernels), docs: new Map() });
      stepThroughCache = null;
      return { vocabSize: model.config.vocabSize };
    }
    case 'infer/unload':
      models.delete(msg.modelId);
      stepThroughCache = null;
      return null;
    case 'infer/complete':
      return complete(msg, context.token);
    case 'infer/sample':
      return sampleInSlices(msg, context.token);
    case 'infer/trace':
      return trace(msg, context);
    case 'infer/stepThrough':
      return stepThroughInSlices(msg, context.token);
    case 'checkpoint/inspect':
      return inspect(msg.bytes);
    case 'kernels/benchmark':
      return { gflops: measureGflops(kernels) };
    default:
      return assertNever(msg, 'request');
  }
});

/** Decodes with every hostile-file check; what the model library records of the checkpoint. */
function inspect(bytes: Uint8Array): CheckpointSummary {
  const { model, trainState, extra } = decodeCheckpoint(bytes);
  const c = model.config;
  const name = extra.name?.trim();
  return {
    cell: c.cell,
    activation: c.activation,
    hidden: c.hidden,
    layers: c.layers,
    vocabSize: c.vocabSize,
    params: model.params.count,
    steps: trainState?.step ?? 0,
    ...(name ? { name: capText(name, MAX_NAME_CHARS) } : {}),
  };
}

function loaded(modelId: string): LoadedModel {
  const m = models.get(modelId);
  if (!m) throw new Error(`model ${modelId} is not loaded`);
  return m;
}

/** Brings the stepper to the state after `prefix`, reusing the longest cached state that is a prefix of it. */
function catchUp(m: LoadedModel, docKey: string, prefix: string): number {
  const { stepper } = m;
  let doc = m.docs.get(docKey);
  let from = -1;
  if (doc) {
    // Longest snapshot still valid for the new prefix.
    const common = commonPrefixLength(doc.prefix, prefix);
    for (let i = doc.snapshots.length - 1; i >= 0; i--) {
      const s = doc.snapshots[i]!;
      if (s.length <= common) {
        stepper.setState(s.state);
        from = s.length;
        doc.snapshots.length = i + 1;
        break;
      }
    }
  }
  if (!doc) {
    if (m.docs.size >= MAX_DOCS) m.docs.delete(m.docs.keys().next().value!);
    doc = { prefix: '', snapshots: [] };
    m.docs.set(docKey, doc);
  }
  if (from < 0) {
    stepper.reset();
    from = Math.max(0, prefix.length - COLD_CONTEXT_CHARS);
    doc.snapshots.length = 0;
  }
  const vocab = m.model.vocab;
  let fed = 0;
  let i = from;
  // Feed by code point; a snapshot every SNAPSHOT_EVERY UTF-16 units.
  while (i < prefix.length) {
    const cp = prefix.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const token = vocab.tokenOf(ch);
    stepper.feed(token >= 0 ? token : vocab.fallback);
    fed++;
    i += ch.length;
    const last = doc.snapshots[doc.snapshots.length - 1];
    if (i === prefix.length || !last || i - last.length >= SNAPSHOT_EVERY) {
      doc.snapshots.push({ length: i, state: stepper.getState() });
      if (doc.snapshots.length > SNAPSHOTS_PER_DOC) doc.snapshots.splice(0, doc.snapshots.length - SNAPSHOTS_PER_DOC);
    }
  }
  if (fed === 0 && !stepper.hasContext) {
    // Nothing before the cursor: start from a newline, as a document would.
    stepper.feed(vocab.has('\n') ? vocab.tokenOf('\n') : vocab.fallback);
  }
  doc.prefix = prefix;
  return fed;
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Generates up to `count` alternatives; the cancellation flag is read before every character. */
function complete(req: InferCompleteRequest, token: CancellationFlag): InferCompleteResult {
  const m = loaded(req.modelId);
  const fed = catchUp(m, req.docKey, req.prefix);
  const base = m.stepper.getState();
  const completions: string[] = [];
  let cancelled = false;
  for (let alt = 0; alt < req.count && !cancelled; alt++) {
    if (alt > 0) m.stepper.setState(base);
    // The first alternative follows the requested temperature; the others
    // sample more freely so an explicit trigger offers real choices.
    const temperature = alt === 0 ? req.temperature : Math.max(req.temperature, 0.5);
    const rng = new Rng(req.seed + alt);
    let text = '';
    for (let i = 0; i < req.maxLength; i++) {
      if (token.isCancellationRequested) {
        cancelled = true;
        break;
      }
      const next = m.stepper.choose(rng, { temperature, topK: 0, topP: alt === 0 ? 1 : 0.95 });
      text += m.model.vocab.chars[next]!;
      const stop = req.stop.find((s) => s.length > 0 && text.endsWith(s));
      if (stop !== undefined) {
        text = text.slice(0, text.length - stop.length);
        break;
      }
      m.stepper.feed(next);
    }
    if (!completions.includes(text)) completions.push(text);
  }
  m.stepper.setState(base);
  return { completions, fed, cancelled };
}

/** The chain's factor sizes of the last window stepped through, for the next error picked in it (they depend only on weights and text). */
let stepThroughCache: { model: Model; text: string; norms: Map<number, number> } | null = null;

/** Work between two chances for a completion to get in: a completion waits at most about this long behind a step-through. */
const STEP_THROUGH_SLICE_MS = 10;

/**
 * Steps through in slices, yielding to other requests between them as
 * sampleInSlices does, so completions are answered while a large model's
 * step-through computes. The chain's factor sizes (the costly part) are
 * computed for STEP_THROUGH_FACTOR_BUDGET_MS at most (the passes before them
 * are bounded by the window's STEP_THROUGH_MAX_STEPS); those further back are
 * left out (the view says from where) and the ones done are kept for the
 * next request on the same window.
 */
async function stepThroughInSlices(req: InferStepThroughRequest, token: CancellationFlag): Promise<StepThroughView> {
  const { model } = loaded(req.modelId);
  if (stepThroughCache?.model !== model || stepThroughCache.text !== req.text) stepThroughCache = { model, text: req.text, norms: new Map() };
  // The budget starts with the first factor, so a slow forward and backward on a busy machine does not leave the chain without any.
  let factorsStarted: number | undefined;
  const steps = traceBpttInSteps(model, req.text, {
    errorAt: req.errorAt,
    jacobianNorms: stepThroughCache.norms,
    stopFactors: () => performance.now() - (factorsStarted ??= performance.now()) > STEP_THROUGH_FACTOR_BUDGET_MS,
  });
  for (;;) {
    const end = performance.now() + STEP_THROUGH_SLICE_MS;
    let r = steps.next();
    while (!r.done && performance.now() < end) r = steps.next();
    if (r.done) return viewOfTrace(model, req.text, r.value);
    await new Promise((resolve) => setImmediate(resolve));
    if (token.isCancellationRequested) throw new Error('the step-through was cancelled');
  }
}

/** Upper bound on traced characters, whatever the host sends (the view caps far lower). */
const MAX_TRACE_CHARS = 20_000;

function trace(req: InferTraceRequest, context: RequestContext): InferTraceResult {
  const m = loaded(req.modelId);
  if ([...req.text].length > MAX_TRACE_CHARS) throw new Error(`a trace covers at most ${MAX_TRACE_CHARS} characters`);
  const t = traceHiddenStates(m.model, req.text, kernels);
  // Every array of a trace is its own, made for it: moved to the host, not copied (a gpt's attention is layers·heads·T² floats).
  const arrays = [t.nextProbs, t.surprisalBits, ...t.layers.flatMap((l) => [l.h, ...(l.c ? [l.c] : []), ...Object.values(l.gates)]), ...(t.attention?.weights.flat() ?? [])];
  context.transfer(arrays.map((a) => a.buffer as ArrayBuffer));
  return {
    cell: m.model.config.cell,
    hidden: t.hidden,
    chars: t.chars,
    vocab: [...m.model.vocab.chars],
    unknown: t.unknown,
    layers: t.layers.map((l) => ({ h: l.h, ...(l.c ? { c: l.c } : {}), gates: l.gates })),
    nextProbs: t.nextProbs,
    surprisalBits: t.surprisalBits,
    ...(t.attention ? { attention: t.attention } : {}),
  };
}

/**
 * Streams a sample in slices of about 30 ms, so other requests get in
 * between them; a cancelled sample stops within a character and answers
 * with the text so far.
 */
async function sampleInSlices(req: InferSampleRequest, token: CancellationFlag): Promise<InferSampleResult> {
  const m = loaded(req.modelId);
  const stepper = new Stepper(m.model, kernels);
  const vocab = m.model.vocab;
  if (req.prime.length > 0) stepper.prime(req.prime);
  else stepper.feed(vocab.has('\n') ? vocab.tokenOf('\n') : vocab.fallback);
  const rng = new Rng(req.seed);
  let text = '';
  let produced = 0;
  while (produced < req.length && !token.isCancellationRequested) {
    const end = performance.now() + 30;
    let chunk = '';
    while (produced < req.length && performance.now() < end && !token.isCancellationRequested) {
      const next = stepper.choose(rng, req);
      chunk += vocab.chars[next]!;
      produced++;
      stepper.feed(next);
    }
    text += chunk;
    if (chunk) void rpc.notify({ kind: 'infer/chunk', streamId: req.streamId, text: chunk });
    if (produced < req.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return { text };
}
