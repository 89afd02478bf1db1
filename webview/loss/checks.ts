/** Checks the loss panel applies to what the host posts (a mismatch is reported, not thrown). */
import type { LossHostMessage, LossModelInfo } from '../../src/shared/webviewProtocol';
import { isNumberArray, isRecord } from '../common/host';

type Result = { ok: true; message: LossHostMessage } | { ok: false; error: string };

function isModelInfo(x: unknown): x is LossModelInfo {
  return (
    isRecord(x) &&
    typeof x.id === 'string' &&
    typeof x.name === 'string' &&
    typeof x.cell === 'string' &&
    typeof x.hidden === 'number' &&
    typeof x.layers === 'number' &&
    typeof x.params === 'number' &&
    typeof x.state === 'string' &&
    typeof x.steps === 'number'
  );
}

function sameLengths(o: Record<string, unknown>, keys: string[], allowNull: string[]): boolean {
  let n = -1;
  for (const k of keys) {
    const a = o[k];
    if (!isNumberArray(a, allowNull.includes(k))) return false;
    if (n >= 0 && a.length !== n) return false;
    n = a.length;
  }
  return true;
}

export function checkHostMessage(raw: unknown): Result {
  const bad = (why: string): Result => ({ ok: false, error: `ignored a message from the host: ${why}` });
  if (!isRecord(raw)) return bad('not an object');
  switch (raw.kind) {
    case 'loss/init':
      if (!Array.isArray(raw.models) || !raw.models.every(isModelInfo)) return bad('loss/init: bad models');
      if (typeof raw.primary !== 'string' || !Array.isArray(raw.compare) || !raw.compare.every((c) => typeof c === 'string')) return bad('loss/init: bad primary or compare');
      return { ok: true, message: raw as unknown as LossHostMessage };
    case 'loss/models':
      if (!Array.isArray(raw.models) || !raw.models.every(isModelInfo)) return bad('loss/models: bad models');
      return { ok: true, message: raw as unknown as LossHostMessage };
    case 'loss/data': {
      if (typeof raw.modelId !== 'string' || typeof raw.reset !== 'boolean') return bad('loss/data: needs modelId and reset');
      const p = raw.progress;
      const v = raw.validation;
      if (!isRecord(p) || !sameLengths(p, ['step', 'epoch', 'chars', 'loss', 'lr', 'charsPerSec'], ['loss', 'lr', 'charsPerSec'])) {
        return bad('loss/data: progress must be parallel number arrays step, epoch, chars, loss, lr, charsPerSec');
      }
      if (!isRecord(v) || !sameLengths(v, ['step', 'loss'], ['loss'])) return bad('loss/data: validation must be parallel number arrays step, loss');
      return { ok: true, message: raw as unknown as LossHostMessage };
    }
    case 'loss/remove':
      if (typeof raw.modelId !== 'string') return bad('loss/remove: needs modelId');
      return { ok: true, message: raw as unknown as LossHostMessage };
    default:
      return bad(`unknown kind ${JSON.stringify(raw.kind)}`);
  }
}
