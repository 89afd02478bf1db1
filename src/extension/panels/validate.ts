/**
 * Checks for messages that come from a webview. A webview is untrusted input
 * (its page could be compromised, or simply be an older bundle): the
 * message's size is checked first (with a budget, so a huge message costs no
 * more than a small one), then every field for type and size before the host
 * acts on a message; anything else is rejected with a reason the host logs,
 * which echoes at most a few dozen characters of what was sent. Pure (no
 * `vscode`), so the Node tests run it directly.
 */
import { HIDDEN_MAX_CHARS, HIDDEN_MAX_FIELD_CHARS, HIDDEN_QUANTITIES, type HiddenQuantity, type HiddenViewState, type HiddenWebviewMessage } from '../../shared/hiddenStatesProtocol';
import type { LossWebviewMessage } from '../../shared/lossProtocol';
import { PAGE_MESSAGE_LIMITS, WEBVIEW_LIMITS, type PanelErrorMessage, type PanelReadyMessage } from '../../shared/panelProtocol';
import type { Checked } from '../../shared/rpc';
import { capText, exceedsLimits, preview } from '../../shared/untrusted';

export type { Checked } from '../../shared/rpc';

const MODEL_ID = /^[\w-]{1,100}$/;
const FILE_NAME = /^[\w .()-]{1,120}\.(png|csv)$/;
const PNG_DATA_URL = /^data:image\/png;base64,([A-Za-z0-9+/]+={0,2})$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const describe = preview;

/** Why a page's message is too large to look at, or undefined. */
export function tooLarge(raw: unknown): string | undefined {
  const why = exceedsLimits(raw, PAGE_MESSAGE_LIMITS);
  return why && `the message holds ${why}`;
}

/** Only these keys, each of the right type. */
function onlyKeys(m: Record<string, unknown>, keys: string[]): string | undefined {
  const extra = Object.keys(m).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field(s) ${capText(extra.join(', '))}` : undefined;
}

type Rejected = { ok: false; error: string };

/** The two messages every panel's page sends: panel/ready and panel/error (its text capped). */
function checkPanelMessage(raw: Record<string, unknown>, kind: 'panel/ready' | 'panel/error', bad: (why: string) => Rejected): Checked<PanelReadyMessage | PanelErrorMessage> {
  if (kind === 'panel/ready') {
    const extra = onlyKeys(raw, ['kind']);
    return extra ? bad(extra) : { ok: true, message: { kind } };
  }
  const extra = onlyKeys(raw, ['kind', 'message']);
  if (extra) return bad(extra);
  if (typeof raw.message !== 'string') return bad('panel/error needs a string message');
  return { ok: true, message: { kind, message: raw.message.slice(0, WEBVIEW_LIMITS.maxErrorChars) } };
}

export function checkLossWebviewMessage(raw: unknown): Checked<LossWebviewMessage> {
  const bad = (why: string): Rejected => ({ ok: false, error: `ignored a message from the loss panel: ${why}` });
  const size = tooLarge(raw);
  if (size) return bad(size);
  if (!isRecord(raw)) return bad(`not an object: ${describe(raw)}`);
  const kind = raw.kind;
  switch (kind) {
    case 'panel/ready':
    case 'panel/error':
      return checkPanelMessage(raw, kind, bad);
    case 'loss/compare': {
      const extra = onlyKeys(raw, ['kind', 'modelIds']);
      if (extra) return bad(extra);
      const ids = raw.modelIds;
      if (!Array.isArray(ids) || ids.length > WEBVIEW_LIMITS.maxCompare) return bad(`loss/compare needs an array of at most ${WEBVIEW_LIMITS.maxCompare} model ids`);
      if (!ids.every((id): id is string => typeof id === 'string' && MODEL_ID.test(id))) return bad('loss/compare: a model id is not a valid id');
      return { ok: true, message: { kind, modelIds: [...new Set(ids)] } };
    }
    case 'panel/export': {
      const extra = onlyKeys(raw, ['kind', 'format', 'fileName', 'data']);
      if (extra) return bad(extra);
      const { format, fileName, data } = raw;
      if (format !== 'png' && format !== 'csv') return bad(`panel/export: unknown format ${describe(format)}`);
      if (typeof fileName !== 'string' || !FILE_NAME.test(fileName) || !fileName.endsWith(`.${format}`)) return bad(`panel/export: bad file name ${describe(fileName)}`);
      if (typeof data !== 'string' || data.length > WEBVIEW_LIMITS.maxExportChars) return bad('panel/export: data must be a string of at most 64 MiB');
      if (format === 'png' && !PNG_DATA_URL.test(data)) return bad('panel/export: png data must be a data:image/png;base64 URL');
      return { ok: true, message: { kind, format, fileName, data } };
    }
    default:
      return bad(`unknown kind ${describe(kind)}`);
  }
}

function isIndex(x: unknown, limit: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < limit;
}

function isQuantity(x: unknown): x is HiddenQuantity {
  return typeof x === 'string' && (HIDDEN_QUANTITIES as readonly string[]).includes(x);
}

export function checkHiddenWebviewMessage(raw: unknown): Checked<HiddenWebviewMessage> {
  const bad = (why: string): Rejected => ({ ok: false, error: `ignored a message from the hidden-states view: ${why}` });
  const size = tooLarge(raw);
  if (size) return bad(size);
  if (!isRecord(raw)) return bad(`not an object: ${describe(raw)}`);
  const kind = raw.kind;
  switch (kind) {
    case 'panel/ready':
    case 'panel/error':
      return checkPanelMessage(raw, kind, bad);
    case 'hidden/select':
    case 'hidden/pick': {
      const extra = onlyKeys(raw, kind === 'hidden/pick' ? ['kind', 'layer', 'quantity', 'neuron'] : ['kind', 'layer', 'quantity']);
      if (extra) return bad(extra);
      const { layer, quantity } = raw;
      if (!isIndex(layer, WEBVIEW_LIMITS.maxLayers)) return bad(`${kind}: layer must be an integer from 0 to ${WEBVIEW_LIMITS.maxLayers - 1}, got ${describe(layer)}`);
      if (!isQuantity(quantity)) return bad(`${kind}: unknown quantity ${describe(quantity)}`);
      if (kind === 'hidden/select') return { ok: true, message: { kind, layer, quantity } };
      const neuron = raw.neuron;
      if (neuron !== null && !isIndex(neuron, WEBVIEW_LIMITS.maxHidden)) return bad(`hidden/pick: neuron must be null or an integer index, got ${describe(neuron)}`);
      return { ok: true, message: { kind, layer, quantity, neuron } };
    }
    case 'hidden/attend': {
      const extra = onlyKeys(raw, ['kind', 't']);
      if (extra) return bad(extra);
      if (!isIndex(raw.t, HIDDEN_MAX_CHARS)) return bad(`hidden/attend: t must be an integer from 0 to ${HIDDEN_MAX_CHARS - 1}, got ${describe(raw.t)}`);
      return { ok: true, message: { kind, t: raw.t } };
    }
    case 'hidden/openInEditor': {
      const extra = onlyKeys(raw, ['kind']);
      return extra ? bad(extra) : { ok: true, message: { kind } };
    }
    case 'hidden/view': {
      const extra = onlyKeys(raw, ['kind', 'view']);
      if (extra) return bad(extra);
      const view = checkHiddenViewState(raw.view);
      return typeof view === 'string' ? bad(`hidden/view: ${view}`) : { ok: true, message: { kind, view } };
    }
    default:
      return bad(`unknown kind ${describe(kind)}`);
  }
}

const SORTS: readonly string[] = ['index', 'variance', 'mean', 'correlation'];
const PATTERNS: readonly string[] = ['quotes', 'newline', 'regex'];

/** A page's options (every field optional, each checked), or why they are refused. */
export function checkHiddenViewState(raw: unknown): HiddenViewState | string {
  if (!isRecord(raw)) return `view must be an object, got ${describe(raw)}`;
  const extra = onlyKeys(raw, ['layer', 'quantity', 'sort', 'pattern', 'regex', 'topK', 'minVariance', 'search', 'attendAt']);
  if (extra) return extra;
  const { layer, quantity, sort, pattern, regex, topK, minVariance, search, attendAt } = raw;
  const isText = (x: unknown): x is string => typeof x === 'string' && x.length <= HIDDEN_MAX_FIELD_CHARS;
  if (layer !== undefined && !isIndex(layer, WEBVIEW_LIMITS.maxLayers)) return `bad layer ${describe(layer)}`;
  if (quantity !== undefined && !isQuantity(quantity)) return `unknown quantity ${describe(quantity)}`;
  if (sort !== undefined && !SORTS.includes(sort as string)) return `unknown sort ${describe(sort)}`;
  if (pattern !== undefined && !PATTERNS.includes(pattern as string)) return `unknown pattern ${describe(pattern)}`;
  if (regex !== undefined && !isText(regex)) return `regex must be text of at most ${HIDDEN_MAX_FIELD_CHARS} characters`;
  if (search !== undefined && !isText(search)) return `search must be text of at most ${HIDDEN_MAX_FIELD_CHARS} characters`;
  if (topK !== undefined && !isIndex(topK, WEBVIEW_LIMITS.maxHidden + 1)) return `bad topK ${describe(topK)}`;
  if (minVariance !== undefined && !(typeof minVariance === 'number' && Number.isFinite(minVariance) && minVariance >= 0)) return `bad minVariance ${describe(minVariance)}`;
  if (attendAt !== undefined && attendAt !== null && !isIndex(attendAt, HIDDEN_MAX_CHARS)) return `bad attendAt ${describe(attendAt)}`;
  return raw as HiddenViewState;
}

/** The bytes of a checked PNG data URL, or an error when they are not a PNG. */
export function pngBytes(dataUrl: string): Uint8Array {
  const m = PNG_DATA_URL.exec(dataUrl);
  if (!m) throw new Error('not a PNG data URL');
  const bytes = Buffer.from(m[1]!, 'base64');
  const magic = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) throw new Error('the exported image is not a PNG');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
