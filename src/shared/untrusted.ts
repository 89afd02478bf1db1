/**
 * Cheap first looks at untrusted values (messages from a webview, fields of a
 * hostile file): how big a value is, measured with a budget so a huge value
 * costs no more than the budget, and a short description of it for an error
 * message that never serialises the whole value. Pure; no DOM, no Node.
 */

export interface SizeLimits {
  /** Values counted (every array element, object property, primitive). */
  maxNodes: number;
  /** Characters of all strings together (keys included). */
  maxChars: number;
  /** Nesting depth. */
  maxDepth: number;
}

/**
 * Why `value` exceeds `limits`, or undefined when it fits. Stops at the first
 * limit it crosses: an array's length and a string's length are read before
 * anything is walked, so a 5-million-element message is refused in O(1).
 */
export function exceedsLimits(value: unknown, limits: SizeLimits): string | undefined {
  let nodes = 0;
  let chars = 0;
  const visit = (v: unknown, depth: number): string | undefined => {
    if (++nodes > limits.maxNodes) return `more than ${limits.maxNodes} values`;
    if (typeof v === 'string') {
      chars += v.length;
      return chars > limits.maxChars ? `more than ${limits.maxChars} characters` : undefined;
    }
    if (typeof v !== 'object' || v === null) return undefined;
    if (depth >= limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    if (ArrayBuffer.isView(v)) {
      nodes += v.byteLength >> 2;
      return nodes > limits.maxNodes ? `more than ${limits.maxNodes} values` : undefined;
    }
    if (Array.isArray(v)) {
      if (nodes + v.length > limits.maxNodes) return `an array of ${v.length} elements (more than ${limits.maxNodes} values)`;
      for (let i = 0; i < v.length; i++) {
        const why = visit(v[i], depth + 1);
        if (why) return why;
      }
      return undefined;
    }
    // for…in stops early; Object.keys would first allocate every key of a huge object.
    for (const key in v) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
      chars += key.length;
      if (chars > limits.maxChars) return `more than ${limits.maxChars} characters`;
      const why = visit((v as Record<string, unknown>)[key], depth + 1);
      if (why) return why;
    }
    return undefined;
  };
  return visit(value, 0);
}

/** Longest text an error message echoes of an untrusted value. */
export const MAX_ECHO_CHARS = 80;

/**
 * A short description of any value for an error message: strings and
 * numbers shown (capped), arrays and objects summarised by their size and
 * first entries. Touches at most a few entries whatever the value's size.
 */
export function preview(value: unknown, maxChars = MAX_ECHO_CHARS): string {
  return capText(describe(value, 2), maxChars);
}

/** `text`, cut to `maxChars` with an ellipsis that says how much was left out. */
export function capText(text: string, maxChars = MAX_ECHO_CHARS): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(0, maxChars - 1))}… (${text.length} characters)`;
}

function describe(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > MAX_ECHO_CHARS ? `${v.slice(0, MAX_ECHO_CHARS)}…` : v);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(v);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      break;
  }
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength} bytes)`;
  if (Array.isArray(v)) {
    if (depth === 0) return `[${v.length} elements]`;
    const head = v.slice(0, 3).map((x) => describe(x, depth - 1));
    return `[${head.join(', ')}${v.length > 3 ? `, … ${v.length} elements` : ''}]`;
  }
  const keys: string[] = [];
  let more = false;
  for (const key in v as object) {
    if (keys.length === 3) {
      more = true;
      break;
    }
    keys.push(key);
  }
  if (depth === 0) return `{${keys.map((k) => capText(k, 20)).join(', ')}${more ? ', …' : ''}}`;
  const rec = v as Record<string, unknown>;
  return `{${keys.map((k) => `${capText(k, 20)}: ${describe(rec[k], depth - 1)}`).join(', ')}${more ? ', …' : ''}}`;
}
