/** Checks the Experiment panel applies to what the host posts (a mismatch is reported, not thrown). */
import type { ExperimentHostMessage } from '../../src/shared/experimentPanelProtocol';
import { isRecord } from '../common/host';

type Result = { ok: true; message: ExperimentHostMessage } | { ok: false; error: string };

export function checkHostMessage(raw: unknown): Result {
  const bad = (why: string): Result => ({ ok: false, error: `ignored a message from the host: ${why}` });
  if (!isRecord(raw)) return bad('not an object');
  if (raw.kind !== 'experiment/data') return bad(`unknown kind ${String(raw.kind).slice(0, 40)}`);
  const v = raw.view;
  if (!isRecord(v) || typeof v.name !== 'string' || typeof v.out !== 'string' || typeof v.state !== 'string') return bad('experiment/data: bad view');
  if (!Array.isArray(v.planned) || !Array.isArray(v.rows) || !isRecord(v.curves)) return bad('experiment/data: bad runs');
  if (!v.rows.every((r) => isRecord(r) && typeof r.id === 'string' && typeof r.params === 'number' && isRecord(r.settings))) return bad('experiment/data: bad rows');
  return { ok: true, message: raw as unknown as ExperimentHostMessage };
}
