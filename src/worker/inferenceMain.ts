/**
 * The inference thread: holds the latest weights of the models in use and
 * answers completions and samples, keeping each document's hidden state so a
 * prefix that grew by one character costs one step.
 */
import { bestKernels, decodeCheckpoint, Rng, Stepper, traceHiddenStates, type Model } from '../engine';

/** The fastest matrix kernels this runtime can run, chosen once per worker. */
const kernels = bestKernels();
import {
  assertNever,
  type HostRequest,
  type InferCompleteRequest,
  type InferCompleteResult,
  type InferSampleRequest,
  type InferTraceRequest,
  type InferTraceResult,
} from '../shared/protocol';
import { fail, NO_RESPONSE, post, respond, serve } from './port';

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

const models = new Map<string, LoadedModel>();
const cancelled = new Set<number>();

serve((msg: HostRequest) => {
  switch (msg.kind) {
    case 'infer/load': {
      const { model } = decodeCheckpoint(msg.checkpoint);
      models.set(msg.modelId, { model, stepper: new Stepper(model, kernels), docs: new Map() });
      return { vocabSize: model.config.vocabSize };
    }
    case 'infer/unload':
      models.delete(msg.modelId);
      return null;
    case 'infer/complete':
      return complete(msg);
    case 'infer/sample':
      startSample(msg);
      return NO_RESPONSE;
    case 'infer/cancel':
      cancelled.add(msg.target);
      return null;
    case 'infer/trace':
      return trace(msg);
    case 'train/start':
    case 'train/pause':
    case 'train/resume':
    case 'train/stop':
      throw new Error(`the inference worker does not handle ${msg.kind}`);
    default:
      return assertNever(msg);
  }
});

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

function complete(req: InferCompleteRequest): InferCompleteResult {
  const m = loaded(req.modelId);
  const fed = catchUp(m, req.docKey, req.prefix);
  const base = m.stepper.getState();
  const completions: string[] = [];
  for (let alt = 0; alt < req.count; alt++) {
    if (alt > 0) m.stepper.setState(base);
    // The first alternative follows the requested temperature; the others
    // sample more freely so an explicit trigger offers real choices.
    const temperature = alt === 0 ? req.temperature : Math.max(req.temperature, 0.5);
    const rng = new Rng(req.seed + alt);
    let text = '';
    for (let i = 0; i < req.maxLength; i++) {
      const token = m.stepper.choose(rng, { temperature, topK: 0, topP: alt === 0 ? 1 : 0.95 });
      text += m.model.vocab.chars[token]!;
      const stop = req.stop.find((s) => s.length > 0 && text.endsWith(s));
      if (stop !== undefined) {
        text = text.slice(0, text.length - stop.length);
        break;
      }
      m.stepper.feed(token);
    }
    if (!completions.includes(text)) completions.push(text);
  }
  m.stepper.setState(base);
  return { completions, fed };
}

/** Upper bound on traced characters, whatever the host sends (the view caps far lower). */
const MAX_TRACE_CHARS = 20_000;

function trace(req: InferTraceRequest): InferTraceResult {
  const m = loaded(req.modelId);
  if ([...req.text].length > MAX_TRACE_CHARS) throw new Error(`a trace covers at most ${MAX_TRACE_CHARS} characters`);
  const t = traceHiddenStates(m.model, req.text, kernels);
  return {
    cell: m.model.config.cell,
    hidden: t.hidden,
    chars: t.chars,
    vocab: [...m.model.vocab.chars],
    unknown: t.unknown,
    layers: t.layers.map((l) => ({ h: l.h, ...(l.c ? { c: l.c } : {}), gates: l.gates })),
    nextProbs: t.nextProbs,
    surprisalBits: t.surprisalBits,
  };
}

/** Streams a sample in slices so a cancel message can get in between them. */
function startSample(req: InferSampleRequest): void {
  let m: LoadedModel;
  try {
    m = loaded(req.modelId);
  } catch (e) {
    fail(req.id, e);
    return;
  }
  const stepper = new Stepper(m.model, kernels);
  const vocab = m.model.vocab;
  if (req.prime.length > 0) stepper.prime(req.prime);
  else stepper.feed(vocab.has('\n') ? vocab.tokenOf('\n') : vocab.fallback);
  const rng = new Rng(req.seed);
  let text = '';
  let produced = 0;
  const slice = (): void => {
    if (cancelled.delete(req.id)) {
      respond(req.id, { text });
      return;
    }
    const end = performance.now() + 30;
    let chunk = '';
    while (produced < req.length && performance.now() < end) {
      const token = stepper.choose(rng, req);
      chunk += vocab.chars[token]!;
      produced++;
      stepper.feed(token);
    }
    text += chunk;
    if (chunk) post({ kind: 'infer/chunk', requestId: req.id, text: chunk });
    if (produced >= req.length) respond(req.id, { text });
    else setImmediate(slice);
  };
  slice();
}
