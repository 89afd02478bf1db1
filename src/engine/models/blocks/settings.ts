/**
 * The block families' settings beyond hidden/layers, as optional fields of
 * every ModelConfig (gpt's; the recurrent block families have none).
 */
declare module '../family' {
  interface FamilySettings {
    /** Attention heads of a gpt (must divide the width). */
    heads?: number;
    /** Positions of a gpt's wpe: at least the training window (default: --seq). */
    context?: number;
  }
}

export {};
