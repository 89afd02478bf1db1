/** Checks the gradient-flow panel applies to what the host posts (a mismatch is reported, not thrown). */
import type { GradFlowHostMessage, GradFlowSnapshot } from '../../src/shared/webviewProtocol';
import { isNumberArray, isRecord } from '../common/host';
import { stepThroughProblem } from './stepThroughChecks';

type Result = { ok: true; message: GradFlowHostMessage } | { ok: false; error: string };

const isMatrix = (x: unknown, rows: number, cols: number): boolean =>
  Array.isArray(x) && x.length === rows && x.every((r) => isNumberArray(r) && r.length === cols);

/** Why a snapshot is malformed, or null when every array has the shape its T and rowTs promise. */
export function snapshotProblem(s: unknown): string | null {
  if (!isRecord(s)) return 'a snapshot is not an object';
  const { T, hGradNorm, wContribution, rowTs, rowH, rowW } = s as Partial<Record<keyof GradFlowSnapshot, unknown>>;
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1 || T > 10_000) return 'T must be a positive integer';
  for (const k of ['step', 'gradNorm', 'clippedNorm', 'clip', 'loss'] as const) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) return `${k} must be a finite number`;
  }
  if (typeof s.clipped !== 'boolean' || typeof s.text !== 'string') return 'clipped and text are needed';
  if (!Array.isArray(hGradNorm) || hGradNorm.length < 1) return 'hGradNorm must have a row per layer';
  const L = hGradNorm.length;
  if (!isMatrix(hGradNorm, L, T) || !isMatrix(wContribution, L, T)) return 'hGradNorm and wContribution must be [layer][T] number arrays';
  if (!isNumberArray(rowTs) || !rowTs.every((t) => Number.isInteger(t) && t >= 0 && t < T)) return 'rowTs must be steps below T';
  for (const m of [rowH, rowW]) {
    if (!Array.isArray(m) || m.length !== L || !m.every((layer) => isMatrix(layer, rowTs.length, T))) return 'rowH and rowW must be [layer][rowTs][T] number arrays';
  }
  if (s.network !== undefined && s.network !== 'cells' && s.network !== 'blocks') return 'network must be cells or blocks';
  if (s.taps !== undefined && !(Array.isArray(s.taps) && s.taps.length === L && s.taps.every((x) => typeof x === 'string'))) return 'taps must name every row';
  for (const k of ['paramGradNorms', 'windowParamNorms'] as const) {
    const r = s[k];
    if (!isRecord(r) || !Object.values(r).every((v) => typeof v === 'number' && Number.isFinite(v))) return `${k} must map names to numbers`;
  }
  return null;
}

const isModel = (m: unknown): boolean =>
  isRecord(m) && typeof m.id === 'string' && typeof m.name === 'string' && typeof m.cell === 'string' && typeof m.layers === 'number';

export function checkHostMessage(raw: unknown): Result {
  const bad = (why: string): Result => ({ ok: false, error: `ignored a message from the host: ${why}` });
  if (!isRecord(raw)) return bad('not an object');
  switch (raw.kind) {
    case 'gradflow/init':
      if (!Array.isArray(raw.models) || !raw.models.every(isModel)) return bad('gradflow/init: bad models');
      if (typeof raw.primary !== 'string' || (raw.compare !== null && typeof raw.compare !== 'string')) return bad('gradflow/init: bad primary or compare');
      return { ok: true, message: raw as unknown as GradFlowHostMessage };
    case 'gradflow/models':
      if (!Array.isArray(raw.models) || !raw.models.every(isModel)) return bad('gradflow/models: bad models');
      return { ok: true, message: raw as unknown as GradFlowHostMessage };
    case 'gradflow/data': {
      if (typeof raw.modelId !== 'string' || typeof raw.reset !== 'boolean' || !Array.isArray(raw.snapshots)) return bad('gradflow/data: needs modelId, reset and snapshots');
      for (const s of raw.snapshots) {
        const why = snapshotProblem(s);
        if (why) return bad(`gradflow/data: ${why}`);
      }
      return { ok: true, message: raw as unknown as GradFlowHostMessage };
    }
    case 'gradflow/stepThroughResult': {
      const why = stepThroughProblem(raw);
      return why ? bad(`gradflow/stepThroughResult: ${why}`) : { ok: true, message: raw as unknown as GradFlowHostMessage };
    }
    default:
      return bad(`unknown kind ${JSON.stringify(raw.kind)}`);
  }
}
