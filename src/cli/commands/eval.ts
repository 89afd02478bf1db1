/** `rnn-lab eval <checkpoint> <file>`: loss and bits per character of a model on a text. */
import type { Command } from 'commander';

import { DataError, DivergenceError, evaluateStream, bestKernels } from '../../engine';
import { loadCheckpoint } from '../checkpointFile';
import { encodeFileMarkingUnknown } from '../corpus';
import { quotePath } from '../files';
import { EXIT_OK, formatCount, round, type Output } from '../output';

export function addEvalCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  program
    .command('eval')
    .description('measure a model on a text: mean loss and bits per character over the whole file, from a zero state')
    .argument('<checkpoint>', 'a model saved by rnn-lab')
    .argument('<file>', 'UTF-8 text file')
    .option('--json', 'print {"loss","bpc","chars","unknown"} as JSON')
    .action(async (checkpoint: string, file: string, opts: { json?: boolean }) => {
      await run(Boolean(opts.json), async (out) => evaluate(checkpoint, file, out));
    });
}

function evaluate(checkpointPath: string, file: string, out: Output): number {
  const { model } = loadCheckpoint(checkpointPath, { weightsOnly: true });
  // Streamed into the smallest token array; unknown characters are fed as the fallback and not scored as targets.
  const { tokens, unknown } = encodeFileMarkingUnknown(model.vocab, file);
  const r = evaluateStream(model, tokens, bestKernels());
  if (r.chars === 0) {
    throw new DataError(`${quotePath(file)} has nothing to score: it needs at least two characters, the second onwards known to the model`);
  }
  if (!Number.isFinite(r.loss)) {
    // Weights that overflow give NaN: a model that has diverged is not a result.
    throw new DivergenceError(
      `the loss of ${quotePath(checkpointPath)} on ${quotePath(file)} is ${r.loss}: its weights have diverged; use an earlier checkpoint or train again with a lower learning rate`,
      0,
    );
  }
  const result = { loss: round(r.loss, 6), bpc: round(r.bpc, 6), chars: r.chars, unknown };
  if (out.json) out.result(result);
  else {
    out.info(
      `loss ${r.loss.toFixed(4)} nats/char, ${r.bpc.toFixed(4)} bits/char over ${formatCount(r.chars)} predicted characters` +
        (unknown > 0 ? ` (${formatCount(unknown)} characters unknown to the model were not scored)` : ''),
    );
  }
  return EXIT_OK;
}
