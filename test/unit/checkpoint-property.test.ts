/**
 * The decoder accepts exactly what the engine can use: for mutated
 * checkpoints (byte flips, header and metadata edits, tensor values such as
 * NaN or negative moments, truncations) decoding either fails with a
 * one-line CheckpointError, or the result re-saves, loads again unchanged
 * and resumes for one step. The long version of this runs as `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { baseCheckpoints, checkInvariant, type Outcome } from '../fuzz/checkpoints';
import { EDGE_NUMBERS, ENTRY_FIELDS, KNOWN_PATHS, META_KEYS, applyMutation, type Mutation } from '../fuzz/mutations';

const BASES = baseCheckpoints();

const edgeValue = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS),
  fc.double(),
  fc.float(),
  fc.integer(),
);
const jsonish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(...EDGE_NUMBERS.filter(Number.isFinite), null, '', 'lstm', 'adam', 'F16', [], {}, [0, 0], [1, 2, 3, 4]) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const path = fc.oneof(fc.constantFrom(...KNOWN_PATHS), fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('value' as const), tensor: fc.nat(), index: fc.nat(), value: edgeValue }),
  fc.record({ kind: fc.constant('meta' as const), entry: fc.nat(META_KEYS.length - 1), path, value: jsonish }),
  fc.record({ kind: fc.constant('entry' as const), tensor: fc.nat(), field: fc.constantFrom(...ENTRY_FIELDS), value: jsonish }),
  fc.record({ kind: fc.constant('drop' as const), tensor: fc.nat() }),
);

describe('checkpoint decoder: property', () => {
  it('refuses with a one-line CheckpointError, or re-saves, reloads and resumes', () => {
    const seen: Record<Outcome, number> = { refused: 0, resumed: 0, diverged: 0 };
    fc.assert(
      fc.property(fc.nat(BASES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (base, mutations) => {
        let bytes = BASES[base]!;
        for (const m of mutations) bytes = applyMutation(bytes, m);
        seen[checkInvariant(bytes)]++;
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 600) },
    );
    if (process.env.PROPERTY_RUNS) console.log(seen);
    // Both sides of the contract were exercised.
    assert.ok(seen.refused > 50 && seen.resumed > 50, JSON.stringify(seen));
  });
});
