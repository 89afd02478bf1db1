/**
 * Checkpoints written by RNN Lab 0.1.0 (test/fixtures/v0.1.0, see its README)
 * still load, evaluate to the loss 0.1.0 measured, and resume to the weights
 * 0.1.0 reached by resuming them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeCheckpoint, type Checkpoint } from '../../src/engine/checkpoint';
import { tsKernels } from '../../src/engine/kernels';
import { Rng } from '../../src/engine/rng';
import { defaultThreads } from '../../src/engine/session';
import { evaluateStream, splitTokens, Trainer } from '../../src/engine/trainer';
import { bestKernels, withThreads } from '../../src/engine/wasm';

const DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'v0.1.0');
const TEXT = readFileSync(join(DIR, 'text.txt'), 'utf8');
interface Recorded { best: number; bestName: string; typescript: number; step: number }
const RECORDED = JSON.parse(readFileSync(join(DIR, 'eval-0.1.0.json'), 'utf8')) as Record<string, Recorded>;

function load(name: string): Checkpoint {
  return decodeCheckpoint(new Uint8Array(readFileSync(join(DIR, `${name}.safetensors`))));
}

/**
 * Losses agree to float32 rounding: the networks outside a wasm arena (eval's
 * one stream, these small training windows) now fold both biases before
 * adding them, as the arena always did, so their last bits may differ from 0.1.0's.
 */
const LOSS_TOLERANCE = 1e-6;

for (const name of ['rnn-relu', 'lstm', 'gru']) {
  describe(`0.1.0 checkpoint ${name}`, () => {
    it('loads and evaluates to the loss 0.1.0 measured', () => {
      const ck = load(name);
      const rec = RECORDED[name]!;
      assert.equal(ck.trainState?.step, rec.step);
      const tokens = ck.model.vocab.encode(TEXT).tokens;
      const ts = evaluateStream(ck.model, tokens, tsKernels).loss;
      assert.ok(Math.abs(ts - rec.typescript) < LOSS_TOLERANCE, `typescript: ${ts} vs 0.1.0's ${rec.typescript}`);
      const best = bestKernels();
      const fast = evaluateStream(ck.model, tokens, best).loss;
      assert.ok(Math.abs(fast - rec.best) < LOSS_TOLERANCE, `${best.name}: ${fast} vs 0.1.0's ${rec.best} (${rec.bestName})`);
    });

    it('resumes where 0.1.0 stopped: five steps reach the weights 0.1.0 reached', () => {
      const ck = load(name);
      const after = load(`${name}.resumed`);
      // As 0.1.0's `rnn-lab train --init` ran it: its fastest kernels, its default threads.
      const train = ck.train;
      const kernels = withThreads(bestKernels(), defaultThreads(undefined, train.batch));
      const tokens = ck.model.vocab.encode(TEXT).tokens;
      const trainer = new Trainer(ck.model, train, splitTokens(tokens, train.valFraction).train, kernels, new Rng(train.seed));
      trainer.restore(ck.trainState!, ck.resumeTensors);
      for (let k = 0; k < 5; k++) trainer.step();
      assert.equal(trainer.state.step, after.trainState!.step);
      assert.deepEqual(trainer.state.rng, after.trainState!.rng);
      assert.equal(trainer.state.position, after.trainState!.position);
      const got = ck.model.params;
      const want = after.model.params;
      assert.deepEqual(got.tensors.map((t) => t.name), want.tensors.map((t) => t.name));
      // A window in a wasm arena (the LSTM's) runs 0.1.0's arithmetic unchanged, so on 0.1.0's backend it gives 0.1.0's bits.
      const inArena = trainer.graph.kernels !== kernels;
      const exact = inArena && kernels.name === RECORDED[name]!.bestName;
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
      assert.ok(exact ? worst === 0 : worst < 1e-6, `largest weight difference ${worst} (${kernels.name}${inArena ? ', arena' : ''})`);
      const loss = evaluateStream(ck.model, tokens, bestKernels()).loss;
      const rec = RECORDED[`${name}.resumed`]!;
      assert.ok(Math.abs(loss - rec.best) < LOSS_TOLERANCE, `${loss} vs 0.1.0's ${rec.best}`);
    });
  });
}
