import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  CheckpointError,
  MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
} from '../../src/engine/safetensors';

// ---------------------------------------------------------------------------
// Helpers

/** Builds a file by hand: u64 LE header length, header text as given (no padding), data bytes. */
function rawFile(header: string | object, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32(n: number): Uint8Array {
  return new Uint8Array(n * 4);
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function expectCheckpointError(bytes: Uint8Array, pattern: RegExp, options?: { maxHeaderBytes?: number }): void {
  assert.throws(
    () => decodeSafetensors(bytes, options),
    (e: unknown) => {
      assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
      assert.equal(e.name, 'CheckpointError');
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), `message should be one line: ${JSON.stringify(e.message)}`);
      return true;
    },
  );
}

/** Seeded PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleTensors(): NamedTensor[] {
  return [
    {
      name: 'rnn.weight_ih_l0',
      shape: [2, 3],
      data: new Float32Array([1, -2.5, 3.25, 0, -0, 1e-42 /* subnormal */]),
    },
    { name: 'empty', shape: [0], data: new Float32Array(0) },
    { name: 'scalar', shape: [], data: new Float32Array([42.5]) },
    { name: 'specials', shape: [5], data: new Float32Array([NaN, Infinity, -Infinity, 3.4028234663852886e38, Math.PI]) },
    { name: 'zero_dims', shape: [3, 0, 2], data: new Float32Array(0) },
    { name: 'décodeur.weight ✓', shape: [1, 1, 2], data: new Float32Array([7, 8]) },
  ];
}

const sampleMetadata: Record<string, string> = {
  format: 'rnn-lab/1',
  vocab: JSON.stringify(['a', 'é', '日', '😀', '\n', '"', '\\']),
  'clé ünïcødé 🚀': 'valeur\twith\ncontrol chars and 中文',
  empty: '',
};

// ---------------------------------------------------------------------------

describe('safetensors round trip', () => {
  it('decodes what it encodes: shapes, exact float bits, order and unicode metadata', () => {
    const tensors = sampleTensors();
    const file = encodeSafetensors(tensors, sampleMetadata);
    const decoded = decodeSafetensors(file);

    assert.deepEqual(decoded.metadata, sampleMetadata);
    assert.deepEqual([...decoded.tensors.keys()], tensors.map((t) => t.name));
    for (const t of tensors) {
      const got = decoded.tensors.get(t.name);
      assert.ok(got, `missing ${t.name}`);
      assert.deepEqual(got.shape, t.shape);
      assert.ok(got.data instanceof Float32Array);
      assert.equal(got.data.length, t.data.length);
      // Byte comparison: distinguishes -0 from 0 and keeps NaN.
      assert.deepEqual(bytesOf(got.data), bytesOf(t.data), `data of ${t.name}`);
    }
    assert.equal(decoded.tensors.get('scalar')!.data[0], 42.5);
    assert.ok(Object.is(decoded.tensors.get('rnn.weight_ih_l0')!.data[4], -0));
  });

  it('round-trips with empty metadata and no tensors', () => {
    const file = encodeSafetensors([], {});
    const decoded = decodeSafetensors(file);
    assert.equal(decoded.tensors.size, 0);
    assert.deepEqual(decoded.metadata, {});
  });

  it('reads from an input whose byteOffset is not 4-aligned and returns fresh copies', () => {
    const file = encodeSafetensors(sampleTensors(), sampleMetadata);
    for (const shift of [1, 2, 3, 5]) {
      const backing = new Uint8Array(file.length + shift + 3);
      backing.set(file, shift);
      const view = backing.subarray(shift, shift + file.length);
      const decoded = decodeSafetensors(view);
      const w = decoded.tensors.get('rnn.weight_ih_l0')!.data;
      assert.equal(w.byteOffset % 4, 0);
      assert.notEqual(w.buffer, backing.buffer);
      assert.deepEqual(Array.from(w.subarray(0, 4)), [1, -2.5, 3.25, 0]);
      // Mutating the input afterwards must not change decoded tensors.
      backing.fill(0xff);
      assert.equal(w[1], -2.5);
    }
  });

  it('stores "__proto__" names and metadata keys as plain data', () => {
    const file = encodeSafetensors(
      [{ name: '__proto__', shape: [1], data: new Float32Array([3]) }],
      JSON.parse('{"__proto__": "x", "constructor": "y"}') as Record<string, string>,
    );
    const decoded = decodeSafetensors(file);
    assert.equal(decoded.tensors.get('__proto__')!.data[0], 3);
    assert.ok(Object.prototype.hasOwnProperty.call(decoded.metadata, '__proto__'));
    assert.equal(decoded.metadata['__proto__'], 'x');
    assert.equal(Object.getPrototypeOf(decoded.metadata), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
});

describe('safetensors byte layout', () => {
  it('writes length field, space-padded JSON header aligned to 8 and little-endian data', () => {
    const file = encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array([1, -2]) }], { k: 'v' });
    const expectedJson = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    assert.equal(expectedJson.length, 79);
    const n = 80; // 79 rounded up to a multiple of 8

    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    assert.equal(dv.getBigUint64(0, true), BigInt(n));
    assert.deepEqual(Array.from(file.subarray(0, 8)), [80, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(file.length, 8 + n + 8);

    const headerText = new TextDecoder().decode(file.subarray(8, 8 + n));
    assert.equal(headerText, `${expectedJson} `);
    const header = JSON.parse(headerText) as Record<string, unknown>;
    assert.deepEqual(Object.keys(header), ['__metadata__', 'a']);
    assert.deepEqual(header['a'], { dtype: 'F32', shape: [2], data_offsets: [0, 8] });

    // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian.
    assert.deepEqual(Array.from(file.subarray(8 + n)), [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
  });

  it('aligns the data buffer to 8 bytes for every header length, padding only with spaces', () => {
    for (let len = 0; len < 24; len++) {
      const file = encodeSafetensors([{ name: 't', shape: [1], data: new Float32Array([1]) }], { pad: 'x'.repeat(len) });
      const n = Number(new DataView(file.buffer).getBigUint64(0, true));
      assert.equal((8 + n) % 8, 0, `len ${len}`);
      const text = new TextDecoder().decode(file.subarray(8, 8 + n));
      const trimmed = text.replace(/ +$/, '');
      assert.ok(text.length - trimmed.length < 8, 'pads fewer than 8 spaces');
      assert.ok(trimmed.endsWith('}'));
      assert.doesNotThrow(() => JSON.parse(trimmed));
      assert.equal(file.length, 8 + n + 4);
    }
  });

  it('lays tensors out contiguously in the given order', () => {
    const file = encodeSafetensors(
      [
        { name: 'z', shape: [3], data: new Float32Array([1, 2, 3]) },
        { name: 'e', shape: [0], data: new Float32Array(0) },
        { name: 'a', shape: [2], data: new Float32Array([4, 5]) },
      ],
      {},
    );
    const n = Number(new DataView(file.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { data_offsets: number[] }>;
    assert.deepEqual(Object.keys(header), ['__metadata__', 'z', 'e', 'a']);
    assert.deepEqual(header['z']!.data_offsets, [0, 12]);
    assert.deepEqual(header['e']!.data_offsets, [12, 12]);
    assert.deepEqual(header['a']!.data_offsets, [12, 20]);
    const data = new DataView(file.buffer, 8 + n);
    assert.deepEqual([0, 4, 8, 12, 16].map((o) => data.getFloat32(o, true)), [1, 2, 3, 4, 5]);
  });
});

describe('safetensors encoder validation', () => {
  const one = (name: string): NamedTensor => ({ name, shape: [1], data: new Float32Array([1]) });
  it('rejects duplicate names', () => {
    assert.throws(() => encodeSafetensors([one('a'), one('b'), one('a')], {}), (e: unknown) => e instanceof CheckpointError && /duplicate.*"a"/.test(e.message));
  });
  it('rejects the reserved name __metadata__', () => {
    assert.throws(() => encodeSafetensors([one('__metadata__')], {}), (e: unknown) => e instanceof CheckpointError && /reserved/.test(e.message));
  });
  it('rejects a shape whose product differs from data.length', () => {
    assert.throws(
      () => encodeSafetensors([{ name: 'w', shape: [2, 3], data: new Float32Array(5) }], {}),
      (e: unknown) => e instanceof CheckpointError && /"w".*6 values.*5/.test(e.message),
    );
    assert.throws(
      () => encodeSafetensors([{ name: 's', shape: [], data: new Float32Array(0) }], {}),
      (e: unknown) => e instanceof CheckpointError && /1 values but data has 0/.test(e.message),
    );
  });
  it('rejects bad shape entries and non-string metadata', () => {
    for (const shape of [[-1], [1.5], [NaN], [2 ** 53]]) {
      assert.throws(() => encodeSafetensors([{ name: 'w', shape, data: new Float32Array(1) }], {}), CheckpointError);
    }
    assert.throws(
      () => encodeSafetensors([], { n: 3 as unknown as string }),
      (e: unknown) => e instanceof CheckpointError && /metadata "n".*expected a string/.test(e.message),
    );
    assert.throws(() => encodeSafetensors([one('\ud800')], {}), (e: unknown) => e instanceof CheckpointError && /surrogate/.test(e.message));
  });
});

describe('safetensors decoder on hostile input', () => {
  const t = (begin: number, end: number, shape: unknown[] = [(end - begin) / 4], dtype: unknown = 'F32') => ({
    dtype,
    shape,
    data_offsets: [begin, end],
  });

  it('rejects files shorter than the 8-byte length field', () => {
    for (const n of [0, 1, 7]) expectCheckpointError(new Uint8Array(n), /not a safetensors file: file is \d+ bytes, shorter than the 8-byte/);
  });

  it('rejects a header length beyond the file, including u64 values above 2^53', () => {
    const body = rawFile({ a: t(0, 4) }, f32(1));
    for (const declared of [2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n, 9_000_000_000_000_000_000n, BigInt(body.length - 8 + 1)]) {
      const file = rawFile({ a: t(0, 4) }, f32(1), declared);
      expectCheckpointError(file, new RegExp(`header length ${declared} exceeds file size ${file.length} bytes`));
    }
    // Something that is not a safetensors file at all (e.g. a text file).
    expectCheckpointError(new TextEncoder().encode('hello world, not a checkpoint'), /not a safetensors file: header length \d+ exceeds file size 29 bytes/);
  });

  it('caps the header size', () => {
    const file = rawFile({ a: t(0, 4) }, f32(1));
    expectCheckpointError(file, /header is \d+ bytes, larger than the limit of 10 bytes/, { maxHeaderBytes: 10 });
    assert.equal(MAX_HEADER_BYTES, 16 * 1024 * 1024);
    // Default cap: a 16 MiB + 8 header inside a file big enough to hold it.
    const big = new Uint8Array(8 + MAX_HEADER_BYTES + 8);
    new DataView(big.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 8), true);
    expectCheckpointError(big, new RegExp(`header is ${MAX_HEADER_BYTES + 8} bytes, larger than the limit of ${MAX_HEADER_BYTES} bytes`));
  });

  it('rejects a header that is not UTF-8', () => {
    const file = rawFile('{"a":1}');
    file[10] = 0xff;
    expectCheckpointError(file, /header is not valid UTF-8/);
    const overlong = rawFile('{"\u0000":1}');
    overlong.set([0xc0, 0x80], 10); // overlong encoding of NUL
    expectCheckpointError(overlong, /not valid UTF-8/);
  });

  it('rejects a header that is not JSON', () => {
    expectCheckpointError(rawFile('{abc'), /not a safetensors file: header is not valid JSON/);
    expectCheckpointError(rawFile(''), /header is not valid JSON/);
    expectCheckpointError(rawFile('{"a":\n\n{'), /header is not valid JSON/);
    expectCheckpointError(rawFile('\ufeff{}'), /header is not valid JSON/); // BOM is not JSON whitespace
  });

  it('rejects a header that is not a JSON object', () => {
    expectCheckpointError(rawFile('[]'), /header is an array, expected a JSON object/);
    expectCheckpointError(rawFile('null'), /header is null, expected a JSON object/);
    expectCheckpointError(rawFile('"str"'), /header is a string, expected a JSON object/);
    expectCheckpointError(rawFile('12'), /header is a number, expected a JSON object/);
  });

  it('rejects metadata that is not string to string', () => {
    expectCheckpointError(rawFile({ __metadata__: 'x' }), /__metadata__ is a string, expected an object of strings/);
    expectCheckpointError(rawFile({ __metadata__: ['a'] }), /__metadata__ is an array/);
    expectCheckpointError(rawFile({ __metadata__: { a: 'ok', b: 3 } }), /__metadata__ value for "b" is a number, expected a string/);
    expectCheckpointError(rawFile({ __metadata__: { c: null } }), /__metadata__ value for "c" is null/);
    expectCheckpointError(rawFile({ __metadata__: { d: { e: 'f' } } }), /__metadata__ value for "d" is an object/);
  });

  it('rejects tensor entries with missing fields or wrong types', () => {
    const d = f32(1);
    expectCheckpointError(rawFile({ w: 'x' }, d), /tensor "w" is a string, expected an object with dtype, shape and data_offsets/);
    expectCheckpointError(rawFile({ w: null }, d), /tensor "w" is null/);
    expectCheckpointError(rawFile({ w: { shape: [1], data_offsets: [0, 4] } }, d), /tensor "w" is missing "dtype"/);
    expectCheckpointError(rawFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, d), /tensor "w" is missing "shape"/);
    expectCheckpointError(rawFile({ w: { dtype: 'F32', shape: [1] } }, d), /tensor "w" is missing "data_offsets"/);
    expectCheckpointError(rawFile({ w: t(0, 4, [1], 32) }, d), /tensor "w": dtype is a number, expected a string/);
    expectCheckpointError(rawFile({ w: { dtype: 'F32', shape: 1, data_offsets: [0, 4] } }, d), /tensor "w": shape is a number, expected an array/);
    expectCheckpointError(rawFile({ w: { dtype: 'F32', shape: {}, data_offsets: [0, 4] } }, d), /shape is an object/);
    for (const offs of [[0], [0, 4, 8], '0,4', [0, '4'], [-4, 4], [0, 4.5], [0, 2 ** 53], null]) {
      expectCheckpointError(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: offs } }, d), /tensor "w": data_offsets must be two non-negative integers/);
    }
  });

  it('names the unsupported dtype', () => {
    for (const dtype of ['F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'f32']) {
      expectCheckpointError(rawFile({ w: t(0, 4, [1], dtype) }, f32(1)), new RegExp(`tensor "w" has dtype "${dtype}"; only F32 is supported`));
    }
  });

  it('rejects shape entries that are not non-negative safe integers', () => {
    const cases: [unknown, RegExp][] = [
      [-1, /shape entry 1 is -1, expected a non-negative integer/],
      [1.5, /shape entry 1 is 1.5/],
      ['2', /shape entry 1 is a string/],
      [null, /shape entry 1 is null/],
      [2 ** 53, /shape entry 1 is 9007199254740992/],
      [1e400, /shape entry 1 is Infinity/],
      [[1], /shape entry 1 is an array/],
    ];
    for (const [dim, re] of cases) {
      const header = `{"w":{"dtype":"F32","shape":[1,${JSON.stringify(dim) ?? 'null'}],"data_offsets":[0,4]}}`;
      expectCheckpointError(rawFile(dim === 1e400 ? header.replace('null', '1e400') : header, f32(1)), re);
    }
  });

  it('rejects a shape that does not match the byte span', () => {
    expectCheckpointError(rawFile({ w: t(0, 8, [3]) }, f32(2)), /tensor "w": shape \[3\] needs 12 bytes of F32 but data_offsets \[0, 8\] span 8 bytes/);
    expectCheckpointError(rawFile({ w: t(0, 4, []) , v: t(4, 4, [1]) }, f32(1)), /tensor "v": shape \[1\] needs 4 bytes/);
    expectCheckpointError(rawFile({ w: t(0, 6, [1]) }, new Uint8Array(6)), /needs 4 bytes of F32 but .* span 6 bytes/);
    // Shapes whose product overflows 2^53 or even u64: rejected without allocating.
    expectCheckpointError(rawFile({ w: t(0, 8, [65536, 65536, 65536, 65536]) }, f32(2)), /needs more than 2\^53 bytes of F32/);
    expectCheckpointError(rawFile({ w: t(0, 8, [2 ** 53 - 1, 2 ** 53 - 1]) }, f32(2)), /needs more than/);
    expectCheckpointError(rawFile({ w: t(0, 8, [65536, 65536, 65536]) }, f32(2)), /needs 1125899906842624 bytes of F32/);
    // A zero dimension makes the product 0 whatever the other dims are.
    const z = decodeSafetensors(rawFile({ w: t(0, 0, [2 ** 53 - 1, 0, 2 ** 53 - 1]) }));
    assert.equal(z.tensors.get('w')!.data.length, 0);
    // Many dimensions: still fast and a clean error.
    const many = new Array(200_000).fill(2);
    const start = Date.now();
    expectCheckpointError(rawFile({ w: t(0, 8, many) }, f32(2)), /needs more than/);
    assert.ok(Date.now() - start < 2000);
  });

  it('rejects begin after end', () => {
    expectCheckpointError(rawFile({ w: t(8, 4, [1]) }, f32(2)), /tensor "w": data_offsets \[8, 4\] begin after they end/);
  });

  it('rejects offsets beyond the data buffer (lying offsets)', () => {
    expectCheckpointError(rawFile({ w: t(0, 400, [100]) }, f32(2)), /tensor "w": data_offsets \[0, 400\] extend beyond the 8-byte data buffer/);
    expectCheckpointError(rawFile({ w: t(0, 4e9, [1e9]) }, f32(1)), /extend beyond the 4-byte data buffer/);
    expectCheckpointError(rawFile({ w: t(2 ** 53 - 5, 2 ** 53 - 1, [1]) }, f32(1)), /extend beyond/);
    // A valid file whose data was truncated.
    const file = encodeSafetensors(sampleTensors(), {});
    expectCheckpointError(file.subarray(0, file.length - 3), /extend beyond the \d+-byte data buffer/);
  });

  it('rejects overlapping tensors', () => {
    expectCheckpointError(rawFile({ a: t(0, 8), b: t(4, 12) }, f32(3)), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/);
    expectCheckpointError(rawFile({ a: t(0, 8), b: t(0, 8) }, f32(2)), /overlap/);
    // Header order does not matter; a zero-sized tensor inside another one is also an overlap.
    expectCheckpointError(rawFile({ b: t(4, 4, [0]), a: t(0, 8) }, f32(2)), /tensors "a" \[0, 8\] and "b" \[4, 4\] overlap/);
  });

  it('rejects gaps and trailing bytes in the data buffer', () => {
    expectCheckpointError(rawFile({ a: t(0, 4), b: t(8, 12) }, f32(3)), /data buffer has 4 unused bytes at offset 4, before tensor "b"/);
    expectCheckpointError(rawFile({ a: t(4, 8) }, f32(2)), /4 unused bytes at offset 0, before tensor "a"/);
    const valid = encodeSafetensors(sampleTensors(), sampleMetadata);
    const padded = new Uint8Array(valid.length + 5);
    padded.set(valid);
    expectCheckpointError(padded, /data buffer has 5 trailing bytes at offset \d+ not covered by any tensor/);
    expectCheckpointError(rawFile({}, f32(1)), /4 trailing bytes at offset 0/);
  });

  it('keeps long or multi-line hostile names on one shortened line', () => {
    const name = `evil\nname ${'x'.repeat(500)}`;
    expectCheckpointError(rawFile({ [name]: t(0, 4, [1], 'F16') }, f32(1)), /tensor "evil\\nname x+…" has dtype "F16"/);
  });

  it('rejects a bad maxHeaderBytes option and non-Uint8Array input with CheckpointError', () => {
    expectCheckpointError(encodeSafetensors([], {}), /invalid maxHeaderBytes/, { maxHeaderBytes: -1 });
    assert.throws(() => decodeSafetensors('abc' as unknown as Uint8Array), CheckpointError);
  });
});

describe('safetensors decoder on files from other writers', () => {
  it('accepts no __metadata__, null __metadata__, unpadded headers and out-of-order entries', () => {
    const data = new Uint8Array(12);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -3, true);
    dv.setFloat32(8, 9, true);
    for (const meta of [undefined, null]) {
      // 'b' is listed first but stored second; header length is not a multiple of 8.
      const header: Record<string, unknown> = { b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 8] } };
      if (meta === null) header['__metadata__'] = null;
      const file = rawFile(header, data);
      assert.notEqual((file.length - 12) % 8, 0);
      const decoded = decodeSafetensors(file);
      assert.deepEqual(decoded.metadata, {});
      assert.deepEqual(decoded.tensors.get('a'), { shape: [2, 1], data: new Float32Array([1.5, -3]) });
      assert.deepEqual(decoded.tensors.get('b'), { shape: [1], data: new Float32Array([9]) });
    }
  });

  it('ignores unknown fields in tensor entries', () => {
    const decoded = decodeSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, f32(1)));
    assert.deepEqual(decoded.tensors.get('a')!.shape, [1]);
  });
});

describe('safetensors decoder fuzz', () => {
  it('either decodes or throws CheckpointError on 2000 corrupted files', () => {
    const base = encodeSafetensors(sampleTensors(), sampleMetadata);
    const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
    const rand = mulberry32(0x5eed);
    const randInt = (n: number) => Math.floor(rand() * n);
    let decodedCount = 0;
    let rejected = 0;
    for (let iter = 0; iter < 2000; iter++) {
      let file = base.slice();
      const mutations = 1 + randInt(4);
      for (let m = 0; m < mutations; m++) {
        const kind = randInt(10);
        if (kind < 4) {
          // flip a bit, biased to the length field and header where parsing happens
          const pos = rand() < 0.8 ? randInt(Math.min(headerEnd, file.length) || 1) : randInt(file.length || 1);
          if (pos < file.length) file[pos]! ^= 1 << randInt(8);
        } else if (kind < 6) {
          const pos = randInt(file.length || 1);
          if (pos < file.length) file[pos] = randInt(256);
        } else if (kind < 7) {
          // replace a header byte with a JSON-significant character
          const chars = '{}[]",:-0123456789e. ';
          const pos = 8 + randInt(Math.max(1, headerEnd - 8));
          if (pos < file.length) file[pos] = chars.charCodeAt(randInt(chars.length));
        } else if (kind < 9) {
          file = file.slice(0, randInt(file.length + 1));
        } else {
          const extra = new Uint8Array(1 + randInt(16)).map(() => randInt(256));
          const grown = new Uint8Array(file.length + extra.length);
          grown.set(file);
          grown.set(extra, file.length);
          file = grown;
        }
      }
      let result;
      try {
        result = decodeSafetensors(file);
      } catch (e) {
        if (!(e instanceof CheckpointError)) {
          assert.fail(`iteration ${iter}: expected CheckpointError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
        assert.ok(e.message.length > 0 && !e.message.includes('\n'));
        rejected++;
        continue;
      }
      decodedCount++;
      for (const [name, tensor] of result.tensors) {
        const count = tensor.shape.reduce((p, d) => p * d, 1);
        assert.equal(tensor.data.length, count, `iteration ${iter}: tensor ${name}`);
      }
    }
    // Both outcomes occur, so the fuzzer exercises both paths.
    assert.ok(rejected > 500, `rejected ${rejected}`);
    assert.ok(decodedCount > 20, `decoded ${decodedCount}`);
  });
});
