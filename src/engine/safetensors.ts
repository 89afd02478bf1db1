/**
 * Reading and writing `.safetensors` checkpoints (DESIGN.md section 6).
 *
 * Layout (the public safetensors format, so PyTorch's
 * `safetensors.torch.load_file` reads our files and we read theirs):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON header:
 *              {"__metadata__": {string: string},
 *               "<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
 *   [rest]     data buffer; offsets are relative to its start
 *
 * The decoder treats its input as hostile: every failure is a
 * `CheckpointError` with a one-line message saying what is wrong, every
 * offset and shape is bounds-checked before anything is allocated, and the
 * header size is capped.
 *
 * Pure module: no fs, no vscode, no DOM.
 */
import { quoteForMessage } from './quote';

/** Thrown for any file that is not a readable F32 safetensors checkpoint. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
}

/**
 * Default cap on the JSON header size: 16 MiB (a vocabulary of every Unicode
 * code point, JSON inside JSON, needs about 10 MiB). It also caps the total
 * size of the metadata.
 */
export const MAX_HEADER_BYTES: number = 16 * 1024 * 1024;
/** Most metadata entries a file may have (ours has five or six). */
export const MAX_METADATA_ENTRIES = 1024;
/** Most tensors a file may have (a 4-layer model with Adam state has about 60). */
export const MAX_TENSORS = 16384;
/**
 * Most JSON strings a header may hold: two per metadata entry, at most six
 * per tensor (name, the three field names, the dtype, one spare). Counted on
 * the bytes before parsing, so a header of a million tiny keys costs a scan,
 * not a million-property object.
 */
const MAX_HEADER_STRINGS = 2 * MAX_METADATA_ENTRIES + 6 * MAX_TENSORS + 2;

const METADATA_KEY = '__metadata__';
const LENGTH_FIELD_BYTES = 8;
const F32_BYTES = 4;
/** The data buffer starts at a multiple of this offset (as the reference writer does). */
const DATA_ALIGNMENT = 8;

const NOT_SAFETENSORS = 'not a safetensors file';
const CORRUPT = 'corrupt safetensors file';

// ---------------------------------------------------------------------------
// Helpers

const quote = (s: string): string => quoteForMessage(s);

/** Lone surrogates cannot be encoded as UTF-8 and other readers reject them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describeJsonValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeSafeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Sets an own enumerable property, so a key such as "__proto__" is stored as data. */
function setOwn(obj: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function shapeText(shape: readonly unknown[]): string {
  return quoteForMessage(shape);
}

/** Unescaped double quotes in a JSON text's bytes, halved: how many strings it holds (at least). */
function countJsonStrings(bytes: Uint8Array, limit: number): number {
  let quotes = 0;
  const stop = 2 * limit + 2;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x5c) i++;
    else if (b === 0x22 && ++quotes > stop) break;
  }
  return quotes >> 1;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------
// Encoder

/**
 * Serializes F32 tensors (in the given order, contiguous) and string metadata.
 * Throws CheckpointError for invalid input (duplicate or reserved names, a shape
 * whose product differs from data.length, non-string metadata values).
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const fail = (what: string): never => {
    throw new CheckpointError(`cannot write safetensors file: ${what}`);
  };

  // Header JSON is built by hand so that key order is fixed and names such as
  // "__proto__" are written as ordinary keys.
  const metaParts: string[] = [];
  if (!isPlainObject(metadata)) fail('metadata must be an object of strings');
  for (const key of Object.keys(metadata)) {
    const value: unknown = metadata[key];
    if (typeof value !== 'string') fail(`metadata ${quote(key)} is ${describeJsonValue(value)}, expected a string`);
    if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value as string)) {
      fail(`metadata ${quote(key)} contains an unpaired UTF-16 surrogate`);
    }
    metaParts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  }

  const seen = new Set<string>();
  const parts: string[] = [`${JSON.stringify(METADATA_KEY)}:{${metaParts.join(',')}}`];
  let offset = 0;
  for (const t of tensors) {
    const name: unknown = t.name;
    if (typeof name !== 'string') fail(`tensor name is ${describeJsonValue(name)}, expected a string`);
    const n = name as string;
    if (n === METADATA_KEY) fail(`tensor name ${quote(n)} is reserved for metadata`);
    if (seen.has(n)) fail(`duplicate tensor name ${quote(n)}`);
    if (LONE_SURROGATE.test(n)) fail(`tensor name ${quote(n)} contains an unpaired UTF-16 surrogate`);
    seen.add(n);
    if (!(t.data instanceof Float32Array)) fail(`tensor ${quote(n)}: data must be a Float32Array`);
    if (!Array.isArray(t.shape)) fail(`tensor ${quote(n)}: shape must be an array`);
    let count = 1;
    for (const d of t.shape) {
      if (!isNonNegativeSafeInteger(d)) fail(`tensor ${quote(n)}: shape ${shapeText(t.shape)} has an entry that is not a non-negative integer`);
      count *= d;
    }
    if (count !== t.data.length) {
      fail(`tensor ${quote(n)}: shape ${shapeText(t.shape)} holds ${count} values but data has ${t.data.length}`);
    }
    const begin = offset;
    offset += t.data.length * F32_BYTES;
    parts.push(
      `${JSON.stringify(n)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${begin},${offset}]}`,
    );
  }
  const headerText = `{${parts.join(',')}}`;
  const headerUtf8 = new TextEncoder().encode(headerText);
  // Pad with spaces so the data buffer starts 8-byte aligned.
  const headerLength = Math.ceil(headerUtf8.length / DATA_ALIGNMENT) * DATA_ALIGNMENT;
  const dataStart = LENGTH_FIELD_BYTES + headerLength;

  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(headerUtf8, LENGTH_FIELD_BYTES);
  out.fill(0x20, LENGTH_FIELD_BYTES + headerUtf8.length, dataStart);

  let pos = dataStart;
  for (const t of tensors) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      view.setFloat32(pos, data[i]!, true);
      pos += F32_BYTES;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Decoder

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface DecodeOptions {
  maxHeaderBytes?: number;
  /**
   * false: tensors are views into `bytes` where the layout allows it (4-byte
   * aligned on a little-endian host), so decoding a large file costs no second
   * copy; the caller then must not modify `bytes` while it uses them.
   * Default true: fresh arrays, independent of `bytes`.
   */
  copy?: boolean;
}

/**
 * Parses a safetensors file holding only F32 tensors. Throws CheckpointError,
 * and nothing else, for any malformed or unsupported input.
 */
export function decodeSafetensors(bytes: Uint8Array, options?: DecodeOptions): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new CheckpointError(`${NOT_SAFETENSORS}: expected the file's bytes as a Uint8Array`);
  }
  const maxHeaderBytes = options?.maxHeaderBytes ?? MAX_HEADER_BYTES;
  if (!isNonNegativeSafeInteger(maxHeaderBytes)) {
    throw new CheckpointError(`invalid maxHeaderBytes option ${String(maxHeaderBytes)}: expected a non-negative integer`);
  }

  const fileSize = bytes.byteLength;
  if (fileSize < LENGTH_FIELD_BYTES) {
    throw new CheckpointError(
      `${NOT_SAFETENSORS}: file is ${fileSize} bytes, shorter than the 8-byte header length field`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // u64 may exceed 2^53: compare as BigInt before converting.
  const declared = view.getBigUint64(0, true);
  const remaining = fileSize - LENGTH_FIELD_BYTES;
  if (declared > BigInt(remaining)) {
    throw new CheckpointError(
      `${NOT_SAFETENSORS}: header length ${declared} exceeds file size ${fileSize} bytes ` +
        `(only ${remaining} bytes follow the length field)`,
    );
  }
  if (declared > BigInt(maxHeaderBytes)) {
    throw new CheckpointError(
      `safetensors header is ${declared} bytes, larger than the limit of ${maxHeaderBytes} bytes`,
    );
  }
  const headerLength = Number(declared);
  const dataStart = LENGTH_FIELD_BYTES + headerLength;
  const dataLength = fileSize - dataStart;

  const headerBytes = bytes.subarray(LENGTH_FIELD_BYTES, dataStart);
  if (countJsonStrings(headerBytes, MAX_HEADER_STRINGS) > MAX_HEADER_STRINGS) {
    throw new CheckpointError(
      `${CORRUPT}: header holds more than ${MAX_HEADER_STRINGS} strings, more than ${MAX_TENSORS} tensors and ` +
        `${MAX_METADATA_ENTRIES} metadata entries can need`,
    );
  }
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new CheckpointError(`${NOT_SAFETENSORS}: header is not valid UTF-8`);
  }

  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    const detail = e instanceof Error ? e.message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ') : '';
    const short = detail.length > 120 ? `${detail.slice(0, 120)}…` : detail;
    throw new CheckpointError(`${NOT_SAFETENSORS}: header is not valid JSON${short ? ` (${short})` : ''}`);
  }
  if (!isPlainObject(header)) {
    throw new CheckpointError(`${NOT_SAFETENSORS}: header is ${describeJsonValue(header)}, expected a JSON object`);
  }

  // Metadata: optional (absent or null), otherwise string -> string.
  const metadata: Record<string, string> = {};
  const rawMeta = Object.prototype.hasOwnProperty.call(header, METADATA_KEY) ? header[METADATA_KEY] : undefined;
  if (rawMeta !== undefined && rawMeta !== null) {
    if (!isPlainObject(rawMeta)) {
      throw new CheckpointError(`${CORRUPT}: __metadata__ is ${describeJsonValue(rawMeta)}, expected an object of strings`);
    }
    const keys = Object.keys(rawMeta);
    if (keys.length > MAX_METADATA_ENTRIES) {
      throw new CheckpointError(`${CORRUPT}: __metadata__ has ${keys.length} entries, more than the limit of ${MAX_METADATA_ENTRIES}`);
    }
    for (const key of keys) {
      const value = rawMeta[key];
      if (typeof value !== 'string') {
        throw new CheckpointError(
          `${CORRUPT}: __metadata__ value for ${quote(key)} is ${describeJsonValue(value)}, expected a string`,
        );
      }
      // The encoder refuses these, so a decoded file could not be saved again.
      if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        throw new CheckpointError(`${CORRUPT}: __metadata__ entry ${quote(key)} contains an unpaired UTF-16 surrogate`);
      }
      setOwn(metadata, key, value);
    }
  }

  // Tensor entries: validate each fully before anything is allocated.
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    if (name === METADATA_KEY) continue;
    if (entries.length === MAX_TENSORS) {
      throw new CheckpointError(`${CORRUPT}: more than ${MAX_TENSORS} tensors`);
    }
    if (LONE_SURROGATE.test(name)) throw new CheckpointError(`${CORRUPT}: tensor name ${quote(name)} contains an unpaired UTF-16 surrogate`);
    entries.push(parseEntry(name, header[name], dataLength));
  }

  // The spec requires tensors to tile the data buffer exactly: no overlap, no gap.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      throw new CheckpointError(
        `${CORRUPT}: tensors ${quote(previous!.name)} [${previous!.begin}, ${previous!.end}] and ` +
          `${quote(e.name)} [${e.begin}, ${e.end}] overlap in the data buffer`,
      );
    }
    if (e.begin > cursor) {
      throw new CheckpointError(
        `${CORRUPT}: data buffer has ${e.begin - cursor} unused bytes at offset ${cursor}, before tensor ${quote(e.name)}`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    throw new CheckpointError(
      `${CORRUPT}: data buffer has ${dataLength - cursor} trailing bytes at offset ${cursor} not covered by any tensor`,
    );
  }

  // Views where allowed and possible; otherwise fresh aligned arrays, decoded little-endian explicitly.
  const share = options?.copy === false && LITTLE_ENDIAN_HOST;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    const count = (e.end - e.begin) / F32_BYTES;
    const at = bytes.byteOffset + dataStart + e.begin;
    if (share && at % F32_BYTES === 0) {
      tensors.set(e.name, { shape: e.shape, data: new Float32Array(bytes.buffer, at, count) });
      continue;
    }
    const data = new Float32Array(count);
    let pos = dataStart + e.begin;
    for (let i = 0; i < count; i++) {
      data[i] = view.getFloat32(pos, true);
      pos += F32_BYTES;
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseEntry(name: string, raw: unknown, dataLength: number): Entry {
  const where = `${CORRUPT}: tensor ${quote(name)}`;
  if (!isPlainObject(raw)) {
    throw new CheckpointError(`${where} is ${describeJsonValue(raw)}, expected an object with dtype, shape and data_offsets`);
  }
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(raw, field)) {
      throw new CheckpointError(`${where} is missing "${field}"`);
    }
  }

  const dtype = raw['dtype'];
  if (typeof dtype !== 'string') {
    throw new CheckpointError(`${where}: dtype is ${describeJsonValue(dtype)}, expected a string such as "F32"`);
  }
  if (dtype !== 'F32') {
    throw new CheckpointError(
      `unsupported safetensors file: tensor ${quote(name)} has dtype ${quote(dtype)}; only F32 is supported ` +
        `(convert with tensor.float() before saving)`,
    );
  }

  const rawShape = raw['shape'];
  if (!Array.isArray(rawShape)) {
    throw new CheckpointError(`${where}: shape is ${describeJsonValue(rawShape)}, expected an array of integers`);
  }
  const shape: number[] = [];
  let hasZero = false;
  for (let i = 0; i < rawShape.length; i++) {
    const d: unknown = rawShape[i];
    if (!isNonNegativeSafeInteger(d)) {
      throw new CheckpointError(
        `${where}: shape entry ${i} is ${typeof d === 'number' ? String(d) : describeJsonValue(d)}, ` +
          `expected a non-negative integer`,
      );
    }
    if (d === 0) hasZero = true;
    shape.push(d);
  }
  const offsets = raw['data_offsets'];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !isNonNegativeSafeInteger(offsets[0]) ||
    !isNonNegativeSafeInteger(offsets[1])
  ) {
    throw new CheckpointError(`${where}: data_offsets must be two non-negative integers [begin, end]`);
  }
  const begin: number = offsets[0];
  const end: number = offsets[1];
  if (begin > end) {
    throw new CheckpointError(`${where}: data_offsets [${begin}, ${end}] begin after they end`);
  }
  if (end > dataLength) {
    throw new CheckpointError(
      `${where}: data_offsets [${begin}, ${end}] extend beyond the ${dataLength}-byte data buffer`,
    );
  }
  // Element count, stopping once the byte size would pass 2^53 (below that
  // every partial product is exact), so a hostile shape can neither overflow
  // nor cost time.
  const maxCount = Number.MAX_SAFE_INTEGER / F32_BYTES;
  let count = hasZero ? 0 : 1;
  let tooLarge = false;
  for (let i = 0; i < shape.length && !hasZero; i++) {
    count *= shape[i]!;
    if (count > maxCount) {
      tooLarge = true;
      break;
    }
  }
  const span = end - begin;
  if (tooLarge || count * F32_BYTES !== span) {
    const needs = tooLarge ? 'more than 2^53 bytes' : `${count * F32_BYTES} bytes`;
    throw new CheckpointError(
      `${where}: shape ${shapeText(shape)} needs ${needs} of F32 but data_offsets [${begin}, ${end}] span ${span} bytes`,
    );
  }
  return { name, shape, begin, end };
}
