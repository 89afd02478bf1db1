/**
 * `npm run fuzz`: feeds mutated checkpoints to the decoder and checks the
 * contract of test/fuzz/checkpoints.ts on each: a one-line CheckpointError,
 * or a model that re-saves and loads again unchanged (every 100th accepted
 * one also resumes for a step). Stops at the first violation, printing the
 * mutations that produced it.
 *
 *   npm run fuzz -- [--inputs N] [--seconds S] [--seed K]
 *
 * Default: 1,500,000 inputs (or the time budget, whichever comes first).
 */
import { baseCheckpoints, checkInvariant, type Outcome } from './checkpoints';
import { EDGE_NUMBERS, ENTRY_FIELDS, KNOWN_PATHS, META_KEYS, applyMutation, type Mutation } from './mutations';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`checkpoint fuzz: --${name} needs a non-negative number`);
    process.exit(2);
  }
  return v;
}
if (process.argv.includes('--help')) {
  console.log('usage: npm run fuzz -- [--inputs N (default 1500000)] [--seconds S (default: no limit)] [--seed K (default 1)]');
  process.exit(0);
}
const inputs = flag('inputs', 1_500_000);
const seconds = flag('seconds', Infinity);
let state = flag('seed', 1) >>> 0 || 1;

/** xorshift32: deterministic per seed, so a failure can be replayed. */
function rand(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state;
}
const pick = <T>(a: readonly T[]): T => a[rand() % a.length]!;
const JSONISH: unknown[] = [...EDGE_NUMBERS.filter(Number.isFinite), null, '', 'lstm', 'gru', 'adam', 'sgd', 'F16', 'F32', [], {}, [0, 0], [1, 2, 3, 4], true, 'x'.repeat(200), ['a', 'a']];

function randomValue(): number {
  switch (rand() % 3) {
    case 0:
      return pick(EDGE_NUMBERS);
    case 1:
      return new Float32Array(new Uint32Array([rand()]).buffer)[0]!;
    default:
      return (rand() / 0xffffffff - 0.5) * 2 ** (rand() % 140 - 70);
  }
}

function randomMutation(size: number): Mutation {
  switch (rand() % 7) {
    case 0:
    case 1: {
      const flips: [number, number][] = [];
      const n = 1 + (rand() % 4);
      // Mostly the header and the start of the data, where structure lives.
      for (let i = 0; i < n; i++) flips.push([rand() % (rand() % 2 ? Math.min(size, 600) : size), rand() & 0xff]);
      return { kind: 'bytes', flips };
    }
    case 2:
      return { kind: 'truncate', at: rand() % (size + 1) };
    case 3:
      return { kind: 'value', tensor: rand(), index: rand(), value: randomValue() };
    case 4:
      return { kind: 'meta', entry: rand() % META_KEYS.length, path: rand() % 5 === 0 ? [] : pick(KNOWN_PATHS), value: pick(JSONISH) };
    case 5:
      return { kind: 'entry', tensor: rand(), field: pick(ENTRY_FIELDS), value: pick(JSONISH) };
    default:
      return { kind: 'drop', tensor: rand() };
  }
}

const bases = baseCheckpoints();
const counts: Record<Outcome, number> = { refused: 0, resumed: 0, diverged: 0 };
const t0 = performance.now();
let done = 0;
let lastReport = t0;
while (done < inputs && (performance.now() - t0) / 1000 < seconds) {
  const base = rand() % bases.length;
  let bytes = bases[base]!;
  const mutations: Mutation[] = [];
  const n = 1 + (rand() % 3);
  for (let i = 0; i < n; i++) {
    const m = randomMutation(bytes.length);
    mutations.push(m);
    bytes = applyMutation(bytes, m);
  }
  try {
    const accepted = counts.resumed + counts.diverged;
    counts[checkInvariant(bytes, accepted % 100 === 0)]++;
  } catch (e) {
    console.error(`checkpoint fuzz: contract violated after ${done} inputs: ${(e as Error).message}`);
    console.error(`base ${base}, mutations ${JSON.stringify(mutations)}`);
    process.exit(1);
  }
  done++;
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    console.log(`${done.toLocaleString('en-US')} inputs, ${Math.round(done / ((now - t0) / 1000)).toLocaleString('en-US')}/s`);
  }
}
const elapsed = (performance.now() - t0) / 1000;
console.log(
  `checkpoint fuzz: ${done.toLocaleString('en-US')} inputs in ${elapsed.toFixed(1)} s ` +
    `(${Math.round(done / elapsed).toLocaleString('en-US')}/s): ${counts.refused.toLocaleString('en-US')} refused, ` +
    `${(counts.resumed + counts.diverged).toLocaleString('en-US')} accepted and re-saved, no contract violation`,
);
