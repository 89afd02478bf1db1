/** The default branch of a `switch` over a message union: a compile error when a kind is left out, a throw if one arrives anyway. */
export function assertNever(x: never): never {
  throw new Error(`unexpected message kind ${JSON.stringify((x as { kind?: unknown }).kind)}`);
}
