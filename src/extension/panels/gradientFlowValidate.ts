/**
 * Checks messages from the gradient-flow webview (untrusted input), like
 * validate.ts does for the loss panel. Pure (no `vscode`).
 */
import type { GradFlowWebviewMessage } from '../../shared/gradFlowProtocol';
import { WEBVIEW_LIMITS } from '../../shared/panelProtocol';
import type { Checked } from '../../shared/rpc';
import { preview } from '../../shared/untrusted';
import { tooLarge } from './validate';

const MODEL_ID = /^[\w-]{1,100}$/;

export function checkGradFlowWebviewMessage(raw: unknown): Checked<GradFlowWebviewMessage> {
  const bad = (why: string): Checked<GradFlowWebviewMessage> => ({ ok: false, error: `ignored a message from the gradient-flow panel: ${why}` });
  const size = tooLarge(raw);
  if (size) return bad(size);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not an object');
  const m = raw as Record<string, unknown>;
  const extra = (keys: string[]) => Object.keys(m).filter((k) => !keys.includes(k));
  switch (m.kind) {
    case 'panel/ready':
      return extra(['kind']).length ? bad('unexpected fields') : { ok: true, message: { kind: 'panel/ready' } };
    case 'panel/error':
      if (extra(['kind', 'message']).length || typeof m.message !== 'string') return bad('panel/error needs only a string message');
      return { ok: true, message: { kind: 'panel/error', message: m.message.slice(0, WEBVIEW_LIMITS.maxErrorChars) } };
    case 'gradflow/compare':
      if (extra(['kind', 'modelId']).length) return bad('unexpected fields');
      if (m.modelId !== null && (typeof m.modelId !== 'string' || !MODEL_ID.test(m.modelId))) return bad('gradflow/compare: modelId must be a model id or null');
      return { ok: true, message: { kind: 'gradflow/compare', modelId: m.modelId } };
    case 'gradflow/stepThrough': {
      if (extra(['kind', 'step', 'errorAt']).length) return bad('unexpected fields');
      const step = m.step, errorAt = m.errorAt;
      if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) return bad('gradflow/stepThrough: step must be a training step');
      if (typeof errorAt !== 'number' || !Number.isInteger(errorAt) || errorAt < 0 || errorAt > 100_000) return bad('gradflow/stepThrough: errorAt must be a step of the window');
      return { ok: true, message: { kind: 'gradflow/stepThrough', step, errorAt } };
    }
    default:
      return bad(`unknown kind ${preview(m.kind)}`);
  }
}
