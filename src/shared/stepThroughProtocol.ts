/**
 * The step-through of backpropagation through time in the gradient-flow
 * panel: the page asks for a snapshot's window and one error e_τ, the host
 * has the inference worker trace it with the model's current weights
 * (engine/bpttView.ts) and posts the terms back. Types only.
 */
import type { StepThroughView } from '../engine/bpttView';

/**
 * How long the inference worker spends on the chain's factor sizes
 * ‖∂s_k/∂s_{k−1}‖ (a Lanczos run each) before it leaves the rest out; the
 * panel says so when it does.
 */
export const STEP_THROUGH_FACTOR_BUDGET_MS = 4000;

export type { StepThroughChain, StepThroughTerm, StepThroughView } from '../engine/bpttView';

/** Webview → host: step through the window of the snapshot taken at training step `step`, with the chain of e_τ (τ = errorAt). */
export interface GradFlowStepThroughRequestMessage {
  kind: 'gradflow/stepThrough';
  step: number;
  errorAt: number;
}

/** Host → webview: the answer to the last request (`error`: one line saying why there is none). */
export interface GradFlowStepThroughResultMessage {
  kind: 'gradflow/stepThroughResult';
  step: number;
  errorAt: number;
  view: StepThroughView | null;
  error: string | null;
}
