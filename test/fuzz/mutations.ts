/**
 * Mutations of a checkpoint file, as plain data so that fast-check can
 * generate and shrink them and the fuzz can draw them from a seeded generator.
 */
import { joinFile, splitFile, tensorSpans } from './checkpoints';

export type Mutation =
  | { kind: 'bytes'; flips: [number, number][] }
  | { kind: 'truncate'; at: number }
  | { kind: 'value'; tensor: number; index: number; value: number }
  /** Sets a field of a metadata entry's inner JSON (config, vocab, train_state), or the entry itself. */
  | { kind: 'meta'; entry: number; path: string[]; value: unknown }
  | { kind: 'entry'; tensor: number; field: string; value: unknown }
  | { kind: 'drop'; tensor: number };

export const META_KEYS = ['config', 'vocab', 'train_state', 'format', 'sources', 'extra key'];
export const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets', 'extra'];
/** Values that sit on the edges of what the engine accepts. */
export const EDGE_NUMBERS = [
  NaN, Infinity, -Infinity, -1, -0, 0, 1, 0.5, 1e-45, -1e-45, 1e38, -1e38, 3.4e38, -3.4e38,
  2 ** 31, 2 ** 32, 2 ** 52, 2 ** 52 + 1, 2 ** 53 - 1, 2 ** 53, 1e300, -1e300, 4096, 4097, 1_114_112,
];

/** The mutated file; a structural edit of a file whose header no longer parses leaves it as it is. */
export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  try {
    return mutate(bytes, m);
  } catch {
    return bytes;
  }
}

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'bytes': {
      const out = bytes.slice();
      for (const [i, v] of m.flips) out[i % out.length] = v;
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, m.at % (bytes.length + 1));
    case 'value': {
      const spans = tensorSpans(bytes).filter((s) => s.count > 0);
      if (spans.length === 0) return bytes;
      const s = spans[m.tensor % spans.length]!;
      const out = bytes.slice();
      new DataView(out.buffer).setFloat32(s.start + 4 * (m.index % s.count), m.value, true);
      return out;
    }
    case 'meta': {
      const { header, data } = splitFile(bytes);
      const meta = { ...((header.__metadata__ as Record<string, string> | undefined) ?? {}) };
      const key = META_KEYS[m.entry % META_KEYS.length]!;
      if (m.path.length === 0) meta[key] = typeof m.value === 'string' ? m.value : JSON.stringify(m.value) ?? '';
      else {
        let inner: unknown;
        try {
          inner = JSON.parse(meta[key] ?? '{}');
        } catch {
          inner = {};
        }
        inner = setPath(inner, m.path, m.value);
        meta[key] = JSON.stringify(inner) ?? '';
      }
      return joinFile({ ...header, __metadata__: meta }, data);
    }
    case 'entry': {
      const { header, data } = splitFile(bytes);
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      if (names.length === 0) return bytes;
      const name = names[m.tensor % names.length]!;
      const entry = { ...(header[name] as Record<string, unknown>), [m.field]: m.value };
      return joinFile({ ...header, [name]: entry }, data);
    }
    case 'drop': {
      const { header, data } = splitFile(bytes);
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      if (names.length === 0) return bytes;
      const copy = { ...header };
      delete copy[names[m.tensor % names.length]!];
      return joinFile(copy, data);
    }
  }
}

/** `obj` with `value` at `path` (objects created along the way; array indices as keys). */
function setPath(obj: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const base: Record<string, unknown> =
    typeof obj === 'object' && obj !== null ? (Array.isArray(obj) ? [...obj] : { ...(obj as object) }) as Record<string, unknown> : {};
  base[head] = setPath(base[head], rest, value);
  return base;
}

/** Paths inside the inner JSON documents that matter most (the fuzz and the property test also try random ones). */
export const KNOWN_PATHS: string[][] = [
  ['model', 'hidden'], ['model', 'layers'], ['model', 'vocabSize'], ['model', 'cell'], ['model', 'activation'],
  ['train', 'optimizer'], ['train', 'momentum'], ['train', 'lr'], ['train', 'batch'], ['train', 'seq'], ['train', 'beta2'],
  ['step'], ['epoch'], ['position'], ['charsSeen'], ['dataHash'], ['rng'], ['rng', '0'], ['rng', '3'],
  ['0'], ['1'], ['5'],
];
