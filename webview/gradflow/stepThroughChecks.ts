/** What the step-through section checks of the host's answer before drawing it (a mismatch is reported, not thrown). */
import { isNumberArray, isRecord } from '../common/host';

const isTerm = (x: unknown): boolean =>
  isRecord(x) && typeof x.key === 'string' && typeof x.tex === 'string' && x.tex.length < 2000 && typeof x.norm === 'number' && isNumberArray(x.head);

const CHAIN_ARRAYS = ['stateGradNorm', 'jacobianNorm', 'weightJacobianNorm', 'weightGradNorm', 'stateBound', 'weightBound'] as const;
/** Left out (null) where the worker's time bound cut the chain's factor sizes. */
const MAY_BE_CUT = new Set<string>(['jacobianNorm', 'stateBound', 'weightBound']);

/** Why a gradflow/stepThroughResult is malformed, or null. */
export function stepThroughProblem(m: Record<string, unknown>): string | null {
  if (typeof m.step !== 'number' || typeof m.errorAt !== 'number') return 'step and errorAt must be numbers';
  if (m.view === null) return typeof m.error === 'string' ? null : 'a result without a view needs an error';
  const v = m.view;
  if (!isRecord(v)) return 'view must be an object';
  const { T, layers } = v;
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1 || typeof layers !== 'number' || !Number.isInteger(layers) || layers < 1) return 'T and layers must be positive integers';
  if (!Array.isArray(v.chars) || v.chars.length !== T + 1 || typeof v.recursionTex !== 'string' || typeof v.chainStateTex !== 'string' || typeof v.model !== 'string') return 'chars, recursionTex, chainStateTex and model are needed';
  if (!isNumberArray(v.errors) || v.errors.length !== T || !isNumberArray(v.targetProb) || v.targetProb.length !== T) return 'errors and targetProb must have T numbers';
  if (!Array.isArray(v.output) || v.output.length !== T || !v.output.every((o) => Array.isArray(o) && o.every(isTerm))) return 'output must be [T] terms';
  if (!Array.isArray(v.terms) || v.terms.length !== layers || !v.terms.every((l) => Array.isArray(l) && l.length === T && l.every((s) => Array.isArray(s) && s.every(isTerm)))) return 'terms must be [layer][T] terms';
  if (v.chain !== null) {
    const c = v.chain;
    if (!isRecord(c) || typeof c.errorAt !== 'number' || !Number.isInteger(c.errorAt) || c.errorAt < 0 || c.errorAt >= T) return 'chain.errorAt must be a step of the window';
    for (const k of CHAIN_ARRAYS) if (!isNumberArray(c[k], MAY_BE_CUT.has(k)) || (c[k] as unknown[]).length !== T) return `chain.${k} must have T numbers`;
    if (typeof c.factorsFrom !== 'number' || !Number.isInteger(c.factorsFrom) || c.factorsFrom < 1 || c.factorsFrom > c.errorAt + 1) return 'chain.factorsFrom must be a step from 1 to errorAt + 1';
  }
  return null;
}
