/**
 * Turns the host's run history (one event object per progress report) into
 * the compact parallel arrays the loss panel receives. Pure (no `vscode`):
 * the webview tests feed real engine output through the same function.
 */
import type { TrainProgressEvent, TrainValidationEvent } from '../protocol';
import type { LossSeriesChunk, LossValidationChunk } from '../webviewProtocol';

type ProgressPoint = Pick<TrainProgressEvent, 'step' | 'epoch' | 'epochProgress' | 'loss' | 'lr' | 'charsPerSec' | 'charsSeen'>;
type ValidationPoint = Pick<TrainValidationEvent, 'step' | 'loss'>;

/** JSON has no NaN or Infinity: a diverged loss travels as null and is drawn as a gap. */
function finite(x: number): number {
  return Number.isFinite(x) ? x : (null as unknown as number);
}

export function progressChunk(points: readonly ProgressPoint[], from = 0): LossSeriesChunk {
  const out: LossSeriesChunk = { step: [], epoch: [], chars: [], loss: [], lr: [], charsPerSec: [] };
  for (let i = from; i < points.length; i++) {
    const p = points[i]!;
    out.step.push(p.step);
    out.epoch.push(p.epoch + p.epochProgress);
    out.chars.push(p.charsSeen);
    out.loss.push(finite(p.loss));
    out.lr.push(finite(p.lr));
    out.charsPerSec.push(finite(p.charsPerSec));
  }
  return out;
}

export function validationChunk(points: readonly ValidationPoint[], from = 0): LossValidationChunk {
  const out: LossValidationChunk = { step: [], loss: [] };
  for (let i = from; i < points.length; i++) {
    out.step.push(points[i]!.step);
    out.loss.push(finite(points[i]!.loss));
  }
  return out;
}
