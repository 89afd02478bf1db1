/**
 * Values echoed in error messages come from files and settings a user (or an
 * attacker) controls: a message must stay one short line whatever the value.
 */

/** Longest rendering of one value inside a message, in characters. */
export const MESSAGE_VALUE_MAX = 80;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A value for a one-line message: JSON-like (strings quoted, control
 * characters escaped), about `max` characters at most, an ellipsis marking a
 * cut. Costs time proportional to `max`, not to the value: a
 * 10-million-entry array or a megabyte string is never serialised whole.
 */
export function quoteForMessage(value: unknown, max = MESSAGE_VALUE_MAX): string {
  const out: Sink = { text: '', full: false, max };
  render(value, out, 0);
  // A piece may overrun `max` a little (a string is cut inside its quotes); never by much.
  if (out.text.length > 2 * max) return `${out.text.slice(0, 2 * max)}…`;
  return out.full && !out.text.endsWith('…"') ? `${out.text}…` : out.text;
}

interface Sink {
  text: string;
  /** Nothing more is added once the text has reached `max`. */
  full: boolean;
  max: number;
}

function emit(out: Sink, s: string): void {
  if (out.full) return;
  out.text += s;
  if (out.text.length >= out.max) out.full = true;
}

function quoteString(v: string, room: number): string {
  const cut = v.length > room;
  const head = cut ? v.slice(0, Math.max(room, 1)) : v;
  const quoted = JSON.stringify(head).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut ? `${quoted.slice(0, -1)}…"` : quoted;
}

function render(v: unknown, out: Sink, depth: number): void {
  if (out.full) return;
  if (typeof v === 'string') {
    emit(out, quoteString(v, out.max - out.text.length));
    return;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    emit(out, String(v));
    return;
  }
  if (v === null || v === undefined) {
    emit(out, String(v));
    return;
  }
  if (typeof v !== 'object') {
    emit(out, typeof v);
    return;
  }
  if (depth > 8) {
    emit(out, '…');
    return;
  }
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = v as ArrayLike<unknown>;
    emit(out, '[');
    for (let i = 0; i < a.length && !out.full; i++) {
      if (i > 0) emit(out, ',');
      render(a[i], out, depth + 1);
    }
    emit(out, ']');
    return;
  }
  emit(out, '{');
  let first = true;
  // for…in stops early, unlike Object.keys on an object with a million keys.
  for (const k in v as Record<string, unknown>) {
    if (out.full) break;
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    if (!first) emit(out, ',');
    first = false;
    render(k, out, depth + 1);
    emit(out, ':');
    render((v as Record<string, unknown>)[k], out, depth + 1);
  }
  emit(out, '}');
}
