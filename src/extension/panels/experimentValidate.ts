/** Checks the Experiment panel's messages (untrusted input: size first, then every field). Pure. */
import { EXPERIMENT_ACTIONS, EXPERIMENT_LIMITS, type ExperimentAction, type ExperimentWebviewMessage } from '../../shared/experimentPanelProtocol';
import { WEBVIEW_LIMITS } from '../../shared/panelProtocol';
import type { Checked } from '../../shared/rpc';
import { capText, preview } from '../../shared/untrusted';
import { tooLarge } from './validate';

export function checkExperimentWebviewMessage(raw: unknown): Checked<ExperimentWebviewMessage> {
  const bad = (why: string): { ok: false; error: string } => ({ ok: false, error: `ignored a message from the experiment panel: ${why}` });
  const size = tooLarge(raw);
  if (size) return bad(size);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad(`not an object: ${preview(raw)}`);
  const m = raw as Record<string, unknown>;
  const only = (keys: string[]): string | undefined => {
    const extra = Object.keys(m).filter((k) => !keys.includes(k));
    return extra.length ? `unexpected field(s) ${capText(extra.join(', '))}` : undefined;
  };
  switch (m.kind) {
    case 'panel/ready': {
      const extra = only(['kind']);
      return extra ? bad(extra) : { ok: true, message: { kind: 'panel/ready' } };
    }
    case 'panel/error': {
      const extra = only(['kind', 'message']);
      if (extra) return bad(extra);
      if (typeof m.message !== 'string') return bad('panel/error needs a string message');
      return { ok: true, message: { kind: 'panel/error', message: m.message.slice(0, WEBVIEW_LIMITS.maxErrorChars) } };
    }
    case 'experiment/action': {
      const extra = only(['kind', 'action', 'runIds']);
      if (extra) return bad(extra);
      if (typeof m.action !== 'string' || !(EXPERIMENT_ACTIONS as readonly string[]).includes(m.action)) return bad(`unknown action ${preview(m.action)}`);
      const ids = m.runIds;
      if (!Array.isArray(ids) || ids.length > EXPERIMENT_LIMITS.maxRunIds) return bad(`runIds must be a list of at most ${EXPERIMENT_LIMITS.maxRunIds} run ids`);
      if (!ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= EXPERIMENT_LIMITS.maxRunIdChars)) return bad('every run id must be a string of 1 to 200 characters');
      return { ok: true, message: { kind: 'experiment/action', action: m.action as ExperimentAction, runIds: ids as string[] } };
    }
    default:
      return bad(`unknown kind ${preview(m.kind)}`);
  }
}
