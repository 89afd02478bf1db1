/**
 * What an experiment would cost before it trains: its run count, the budget
 * per run and for all runs, the largest model's parameters and training
 * memory, the files it reads. The editor shows it and asks before it runs an
 * experiment file from a workspace in Restricted Mode.
 */
import { budgetLabel, survivorCount } from './halving';
import type { PlannedRun } from './expand';
import type { Budget, ExperimentSpec } from './spec';

/** What a review reads of the runner's Plan (a type of its own: the runner is Node-only, this module is not). */
export interface ReviewedPlan {
  spec: Pick<ExperimentSpec, 'name' | 'halving'>;
  runs: readonly PlannedRun[];
  rungs: readonly Budget[];
  textFiles: string[];
  fingerprint: string;
}

export interface ExperimentReview {
  name: string;
  runs: number;
  /** One run's budget (`2000 steps`). */
  perRun: string;
  /** Every run's budget added up (fewer when halving: only the survivors train the later rungs). */
  inAll: string;
  /** The run needing the most training memory. */
  largest: { id: string; params: number; bytes: number };
  /** The text files, absolute. */
  textFiles: string[];
  /** Of the file and its text: a start that was confirmed trains exactly what was reviewed. */
  fingerprint: string;
}

function amount(b: Budget): number {
  return 'steps' in b ? b.steps : 'chars' in b ? b.chars : b.minutes;
}

function budgetOf(like: Budget, n: number): Budget {
  return 'steps' in like ? { steps: n } : 'chars' in like ? { chars: n } : { minutes: n };
}

/** Every run's budget added up over the rungs: all runs train the first, the survivors of each rung the next. */
export function totalBudget(runs: number, rungs: readonly Budget[], keep: number): Budget {
  let alive = runs;
  let before = 0;
  let total = 0;
  rungs.forEach((b, r) => {
    if (r > 0) alive = survivorCount(alive, keep);
    total += alive * (amount(b) - before);
    before = amount(b);
  });
  return budgetOf(rungs[0] ?? { steps: 0 }, total);
}

/** The review of a plan; `trainingBytes` is the engine's memory estimate of one run. */
export function reviewPlan(plan: ReviewedPlan, trainingBytes: (run: PlannedRun) => number): ExperimentReview {
  if (plan.runs.length === 0) throw new Error('the experiment has no runs');
  let largest = { id: '', params: 0, bytes: -1 };
  for (const run of plan.runs) {
    const bytes = trainingBytes(run);
    if (bytes > largest.bytes) largest = { id: run.id, params: run.params, bytes };
  }
  const last = plan.rungs[plan.rungs.length - 1]!;
  return {
    name: plan.spec.name,
    runs: plan.runs.length,
    perRun: budgetLabel(last),
    inAll: budgetLabel(totalBudget(plan.runs.length, plan.rungs, plan.spec.halving?.keep ?? 1)),
    largest,
    textFiles: plan.textFiles,
    fingerprint: plan.fingerprint,
  };
}
