/**
 * Messages from a webview are untrusted: the host's validators measure a
 * message's size before anything else (so a huge one costs no more than a
 * small one) and echo at most a few dozen characters of what they refuse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGradFlowWebviewMessage } from '../../src/extension/panels/gradientFlowValidate';
import { checkHiddenWebviewMessage, checkLossWebviewMessage } from '../../src/extension/panels/validate';

const validators = { loss: checkLossWebviewMessage, hidden: checkHiddenWebviewMessage, gradflow: checkGradFlowWebviewMessage };

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('panel message validators', () => {
  const huge = new Array(5_000_000).fill(1.5);
  // Flat, as a deserialised message's string is (a fresh repeat() is a rope that the first slice would copy).
  const longKind = 'k'.repeat(50_000_000);
  void longKind.charCodeAt(longKind.length - 1);
  /** [what, message, whether it is refused in O(1)] — an object's keys cannot be counted without listing them. */
  const hostile: [string, unknown, boolean][] = [
    ['a 5-million-element array as the message', huge, true],
    ['a 5-million-element array as its kind', { kind: huge }, true],
    ['a 5-million-element array in a field', { kind: 'loss/compare', modelIds: huge }, true],
    ['a 50-million-character kind', { kind: longKind }, true],
    ['an object with 100,000 keys', Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])), false],
  ];
  for (const [name, check] of Object.entries(validators)) {
    for (const [what, raw, constantTime] of hostile) {
      it(`${name}: refuses ${what}${constantTime ? ' at once' : ''}, with a short reason`, () => {
        const { value, ms } = timed(() => check(raw));
        assert.equal(value.ok, false);
        if (!value.ok) assert.ok(value.error.length < 200, `${value.error.length} characters: ${value.error.slice(0, 200)}`);
        // Serialising the 5-million-element message alone took 0.2 s of host time.
        if (constantTime) assert.ok(ms < 20, `${ms.toFixed(1)} ms`);
      });
    }
  }

  it('still accepts what the pages send', () => {
    assert.deepEqual(checkLossWebviewMessage({ kind: 'loss/compare', modelIds: ['a', 'b', 'a'] }), { ok: true, message: { kind: 'loss/compare', modelIds: ['a', 'b'] } });
    assert.deepEqual(checkHiddenWebviewMessage({ kind: 'hidden/pick', layer: 1, quantity: 'c', neuron: null }), { ok: true, message: { kind: 'hidden/pick', layer: 1, quantity: 'c', neuron: null } });
    assert.deepEqual(checkGradFlowWebviewMessage({ kind: 'gradflow/compare', modelId: null }), { ok: true, message: { kind: 'gradflow/compare', modelId: null } });
    const csv = 'step,loss\n'.repeat(1_000_000);
    assert.equal(checkLossWebviewMessage({ kind: 'panel/export', format: 'csv', fileName: 'loss.csv', data: csv }).ok, true, 'a 10 MB export passes the size check');
  });
});
