/** The pure rules behind the completions status-bar item (src/extension/completionsToggle.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completionsOffReason, toggleForLanguage, type CompletionSwitches } from '../../src/extension/completionsToggle';

const ON: CompletionSwitches = { language: 'markdown', inlineSuggest: true, everywhere: true, forLanguage: true, languages: ['plaintext', 'markdown'] };

describe('completions on or off', () => {
  it('says why they are off, the outermost switch first', () => {
    assert.equal(completionsOffReason(ON), null);
    assert.match(completionsOffReason({ ...ON, inlineSuggest: false, everywhere: false })!, /editor\.inlineSuggest\.enabled/);
    assert.match(completionsOffReason({ ...ON, everywhere: false, forLanguage: false })!, /off everywhere/);
    assert.match(completionsOffReason({ ...ON, forLanguage: false })!, /off for markdown/);
    assert.match(completionsOffReason({ ...ON, languages: ['plaintext'] })!, /markdown is not in rnnLab\.completions\.languages/);
    assert.equal(completionsOffReason({ ...ON, languages: ['*'] }), null);
    assert.equal(completionsOffReason({ ...ON, everywhere: false, forLanguage: true }), null, 'a language switched on stays on');
  });

  it('turns a language on or off with the fewest changes', () => {
    assert.deepEqual(toggleForLanguage(ON, false), { override: false });
    assert.deepEqual(toggleForLanguage({ ...ON, forLanguage: false }, true), { override: undefined });
    assert.deepEqual(toggleForLanguage({ ...ON, everywhere: false, forLanguage: false }, true), { override: true });
    assert.deepEqual(toggleForLanguage({ ...ON, languages: ['plaintext'] }, true), { override: undefined, languages: ['plaintext', 'markdown'] });
    for (const s of [ON, { ...ON, everywhere: false }, { ...ON, languages: ['plaintext'] }, { ...ON, forLanguage: false }]) {
      const c = toggleForLanguage(s, true);
      const after = { ...s, forLanguage: c.override ?? s.everywhere, languages: c.languages ?? s.languages };
      assert.equal(completionsOffReason(after), null, `on after the change: ${JSON.stringify(s)}`);
      const off = toggleForLanguage(after, false);
      assert.notEqual(completionsOffReason({ ...after, forLanguage: off.override ?? after.everywhere }), null);
    }
  });
});
