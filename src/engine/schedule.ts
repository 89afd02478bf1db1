import type { TrainConfig } from './config';

type ScheduleConfig = Pick<TrainConfig, 'lr' | 'schedule' | 'warmupSteps' | 'decaySteps' | 'lrMinFraction'>;

/**
 * Learning rate for the update with index `step` (0-based): linear warm-up
 * over `warmupSteps`, then constant, linear or cosine decay down to
 * lrMinFraction·lr at `decaySteps` (and held there after).
 */
export function learningRate(c: ScheduleConfig, step: number): number {
  if (step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  if (c.schedule === 'constant' || c.decaySteps <= c.warmupSteps) return c.lr;
  const progress = Math.min(1, (step - c.warmupSteps) / (c.decaySteps - c.warmupSteps));
  const floor = c.lr * c.lrMinFraction;
  const shape = c.schedule === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return floor + (c.lr - floor) * shape;
}
