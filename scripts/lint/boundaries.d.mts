/** Types of boundaries.mjs, for the TypeScript tests that read its lists. */
export declare const PURE_ENGINE: readonly string[];
export declare const boundaries: readonly object[];
