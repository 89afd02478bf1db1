/** Training text as tokens in the smallest typed array, streamed from files in chunks. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import { fileSource, forEachCodePointOfFile } from '../../src/cli/corpus';
import { READ_CHUNK_BYTES } from '../../src/cli/files';
import { DataError } from '../../src/engine/errors';
import { tsKernels } from '../../src/engine/kernels';
import { createModel } from '../../src/engine/model';
import { buildSession } from '../../src/engine/session';
import { EXTENSION_MAX_TEXT_BYTES, hashTokens, stringSource, unknownToken } from '../../src/engine/text';
import { DEFAULT_TRAIN } from '../../src/engine/config';
import { evaluateStream } from '../../src/engine/trainer';
import { Vocab } from '../../src/engine/vocab';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-text-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A text of `n` distinct code points starting at `from`, repeated. */
function distinctText(n: number, from = 0x21, repeat = 3): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(from + i);
  return s.repeat(repeat);
}

describe('token arrays', () => {
  it('use 1 byte per token up to 255 characters, 2 up to 65,535, else 4, with an unknown marker', () => {
    for (const [n, from, type] of [
      [255, 0x100, Uint8Array],
      [256, 0x100, Uint16Array],
      [65_535, 0x10000, Uint16Array],
      [65_536, 0x10000, Int32Array],
    ] as const) {
      const src = stringSource(distinctText(n, from, 1));
      const vocab = new Vocab(src.distinct);
      const { tokens, unknown } = src.encode(vocab);
      assert.ok(tokens instanceof type, `${n} characters: ${tokens.constructor.name}`);
      assert.equal(unknown, 0);
      assert.equal(tokens.length, n);
      assert.equal(tokens[n - 1], n - 1);
      // The marker is no vocabulary index.
      assert.ok(unknownToken(tokens) < 0 || unknownToken(tokens) >= vocab.size);
    }
  });

  it('keep the data hash of 0.1.0 (Int32Array tokens), so older checkpoints resume on the same text', () => {
    const text = 'hello, world — ünïcödé 😀\n'.repeat(5);
    const vocab = Vocab.fromText(text);
    const small = stringSource(text).encode(vocab).tokens;
    assert.ok(small instanceof Uint8Array);
    assert.equal(hashTokens(small), hashTokens(vocab.encode(text).tokens));
  });

  it('eval does not score unknown characters, whatever the array type', () => {
    const vocab = Vocab.fromText('abc d');
    const { model } = createModel({ cell: 'gru', activation: 'tanh', hidden: 4, layers: 1 }, vocab, 1);
    const { tokens, unknown } = stringSource('abc dxxab cd').encode(vocab);
    assert.ok(tokens instanceof Uint8Array);
    assert.equal(unknown, 2);
    assert.equal(tokens[5], 0xff);
    const wide = Int32Array.from(tokens, (t) => (t === 0xff ? -1 : t));
    const a = evaluateStream(model, tokens, tsKernels);
    const b = evaluateStream(model, wide, tsKernels);
    assert.equal(a.chars, 9);
    assert.equal(a.loss, b.loss);
  });

  it('the session counts the tokens in its memory estimate', () => {
    const text = 'abcdefgh'.repeat(100_000);
    const plan = { text, shape: { cell: 'rnn' as const, activation: 'tanh' as const, hidden: 4, layers: 1 }, train: { ...DEFAULT_TRAIN, batch: 2, seq: 4 }, init: null, kernels: tsKernels, threads: 1 };
    const s = buildSession({ ...plan, maxMemoryBytes: 64 * 1024 ** 2 });
    assert.ok(s.trainTokens instanceof Uint8Array);
    assert.throws(() => buildSession({ ...plan, maxMemoryBytes: 700_000 }), /781\.3 KiB of tokens for 800,000 characters of text\), more than the limit/);
  });

  it('the extension\'s 64 MiB cap follows from the worst case of the same estimate', () => {
    assert.equal(EXTENSION_MAX_TEXT_BYTES, 64 * 1024 * 1024);
  });
});

describe('files streamed in chunks', () => {
  it('give the same tokens as the decoded string, across chunk boundaries inside multi-byte characters', () => {
    // 1-, 2-, 3- and 4-byte characters, so chunk ends fall inside each kind.
    const unit = 'a\u00e9\u20ac\u{1F600}\n';
    const text = unit.repeat(Math.ceil((READ_CHUNK_BYTES * 2.5) / Buffer.byteLength(unit)));
    const file = path.join(tmp, 'multi.txt');
    fs.writeFileSync(file, '\ufeff' + text);
    const src = fileSource([file, file]);
    const vocab = new Vocab(src.distinct);
    assert.deepEqual(src.distinct, ['\n', 'a', '\u00e9', '\u20ac', '\u{1F600}']);
    const streamed = src.encode(vocab).tokens;
    const direct = stringSource(text + text).encode(vocab).tokens;
    assert.equal(src.length, direct.length);
    assert.deepEqual(Buffer.from(streamed.buffer), Buffer.from(direct.buffer));
  });

  it('refuse empty, binary and invalid UTF-8 files, also past the first chunk', () => {
    const write = (name: string, bytes: Uint8Array | string): string => {
      const p = path.join(tmp, name);
      fs.writeFileSync(p, bytes);
      return p;
    };
    const big = Buffer.alloc(READ_CHUNK_BYTES + 10, 0x61);
    const nul = Buffer.from(big);
    nul[READ_CHUNK_BYTES + 3] = 0;
    const bad = Buffer.from(big);
    bad[READ_CHUNK_BYTES + 3] = 0xff;
    const cut = Buffer.concat([big, Buffer.from([0xe2, 0x82])]);
    const none = (): void => {};
    assert.throws(() => forEachCodePointOfFile(write('empty.txt', ''), none), (e: Error) => e instanceof DataError && /is empty/.test(e.message));
    assert.throws(() => forEachCodePointOfFile(write('bom.txt', '\ufeff'), none), /is empty/);
    assert.throws(() => forEachCodePointOfFile(write('nul.txt', nul), none), new RegExp(`looks binary \\(a NUL byte at offset ${READ_CHUNK_BYTES + 3}\\)`));
    assert.throws(() => forEachCodePointOfFile(write('bad.txt', bad), none), /is not valid UTF-8/);
    assert.throws(() => forEachCodePointOfFile(write('cut.txt', cut), none), /is not valid UTF-8/);
  });
});
