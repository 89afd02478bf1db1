/** Checks the hidden-states view applies to what the host posts (a mismatch is reported, not thrown). */
import { HIDDEN_QUANTITIES, type HiddenHostMessage } from '../../src/shared/webviewProtocol';
import { isNumberArray, isRecord } from '../common/host';

type Result = { ok: true; message: HiddenHostMessage } | { ok: false; error: string };

const isInt = (x: unknown, min = 0): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min;
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

export function checkHostMessage(raw: unknown): Result {
  const bad = (why: string): Result => ({ ok: false, error: `ignored a message from the host: ${why}` });
  if (!isRecord(raw)) return bad('not an object');
  switch (raw.kind) {
    case 'hidden/trace': {
      const r = raw;
      if (!isInt(r.seq) || typeof r.modelId !== 'string' || typeof r.modelName !== 'string' || typeof r.source !== 'string') return bad('hidden/trace: bad seq, model or source');
      if (typeof r.cell !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(r.cell)) return bad('hidden/trace: bad model family');
      if (!isInt(r.layers, 1) || !isInt(r.hidden, 1) || !isInt(r.totalChars) || !isInt(r.firstLine) || !isInt(r.topK)) return bad('hidden/trace: layers, hidden, totalChars, firstLine and topK must be integers');
      if (!isStrings(r.quantities) || !r.quantities.every((q) => (HIDDEN_QUANTITIES as readonly string[]).includes(q))) return bad('hidden/trace: bad quantities');
      if (!isStrings(r.chars)) return bad('hidden/trace: chars must be strings');
      const T = r.chars.length;
      if (!isNumberArray(r.surprisal, true) || r.surprisal.length !== T) return bad('hidden/trace: surprisal must have one entry per character');
      if (!isNumberArray(r.unknown)) return bad('hidden/trace: bad unknown positions');
      if (!isStrings(r.topChars) || !isNumberArray(r.topProbs) || r.topChars.length !== T * r.topK || r.topProbs.length !== T * r.topK) return bad('hidden/trace: topChars and topProbs must have topK entries per character');
      if (!isInt(r.heads)) return bad('hidden/trace: heads must be an integer');
      return { ok: true, message: raw as unknown as HiddenHostMessage };
    }
    case 'hidden/matrix':
      if (!isInt(raw.seq) || !isInt(raw.layer) || typeof raw.quantity !== 'string' || !(HIDDEN_QUANTITIES as readonly string[]).includes(raw.quantity)) return bad('hidden/matrix: bad seq, layer or quantity');
      if (!isNumberArray(raw.values)) return bad('hidden/matrix: values must be finite numbers');
      return { ok: true, message: raw as unknown as HiddenHostMessage };
    case 'hidden/attention':
      if (!isInt(raw.seq) || !isInt(raw.t)) return bad('hidden/attention: bad seq or position');
      if (!isNumberArray(raw.weights)) return bad('hidden/attention: weights must be finite numbers');
      return { ok: true, message: raw as unknown as HiddenHostMessage };
    case 'hidden/status':
      if (!['noEditor', 'noModel', 'empty', 'loading', 'error'].includes(raw.state as string) || typeof raw.message !== 'string') return bad('hidden/status: bad state or message');
      return { ok: true, message: raw as unknown as HiddenHostMessage };
    default:
      return bad(`unknown kind ${JSON.stringify(raw.kind)}`);
  }
}
