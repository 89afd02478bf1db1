/**
 * Shared by the integration suites (esbuild bundles it into each suite).
 */

/** A waitFor that polls `probe` every 50 ms until it returns something truthy, or fails after `timeoutMs` (default `defaultTimeoutMs`). */
export function waiter(defaultTimeoutMs: number) {
  return async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = defaultTimeoutMs): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
}
