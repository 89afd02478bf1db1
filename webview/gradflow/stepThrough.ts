/**
 * The step-through of backpropagation through time, a section of the
 * gradient-flow panel: for the shown snapshot's window, traced with the
 * model's current weights (the host asks the inference worker), the design
 * document's δ recursion in KaTeX, each of its terms at a chosen step t by
 * norm and first components, and the chain of the selected error e_τ factor
 * by factor with the size of each, so the vanishing product shows term by
 * term. A passive view: it asks when the snapshot or the error changes and
 * draws what comes back.
 */
import katex from 'katex';
import type { GradFlowStepThroughResultMessage, GradFlowWebviewMessage, StepThroughTerm, StepThroughView } from '../../src/shared/webviewProtocol';
import { STEP_THROUGH_FACTOR_BUDGET_MS } from '../../src/shared/stepThroughProtocol';
import { formatChar, formatValue } from './stepThroughFormat';

export interface StepThroughSection {
  /** What the page shows: which snapshot and error to ask for (null: no snapshot). */
  sync(step: number | null, T: number, errorAt: number | null): void;
  receive(m: GradFlowStepThroughResultMessage): void;
  /** What is drawn, for tests. */
  readonly shown: { view: StepThroughView | null; t: number; layer: number };
}

function tex(el: Element, source: string, display = false): void {
  katex.render(source, el as HTMLElement, { throwOnError: false, displayMode: display, output: 'htmlAndMathml' });
}

function cell(row: HTMLTableRowElement, text: string, cls?: string, value?: number): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  if (value !== undefined) td.dataset.value = String(value);
  return td;
}

/** A number of the chain, or a dash where the time bound left it out. */
function maybeCell(row: HTMLTableRowElement, value: number | null, cls: string): void {
  if (value === null) cell(row, '—', `${cls} st-cut`).title = 'not computed within the time bound';
  else cell(row, formatValue(value), cls, value);
}

/** A bar on a log scale from 1e-12 to the largest value of its column (its width in %). */
function logBar(row: HTMLTableRowElement, value: number, max: number): void {
  const td = row.insertCell();
  td.className = 'st-bar';
  const bar = document.createElement('span');
  const lo = Math.log10(Math.max(max, 1e-300)) - 12;
  const frac = value > 0 ? Math.max(0, Math.min(1, (Math.log10(value) - lo) / 12)) : 0;
  bar.style.width = `${(frac * 100).toFixed(1)}%`;
  td.append(bar);
}

export function mountStepThrough(parent: HTMLElement, post: (m: GradFlowWebviewMessage) => void): StepThroughSection {
  const section = document.createElement('section');
  section.className = 'gf-section st';
  section.id = 'step-through';
  section.innerHTML = `
    <h3>Backpropagation through time, step by step <small>the model's current weights on this snapshot's window · E = Σ<sub>t</sub> e<sub>t</sub> · δ = ∂E/∂(pre-activation)</small></h3>
    <div class="toolbar">
      <label class="field">Step t <input id="st-t" type="range" min="0" max="0" step="1" value="0" aria-label="Step t"><output id="st-t-label"></output></label>
      <label class="field" id="st-layer-field">Layer <select id="st-layer" aria-label="Step-through layer"></select></label>
      <span id="st-status" class="status-inline" role="status"></span>
    </div>
    <div id="st-eq" class="st-eq"></div>
    <table id="st-terms" class="st-table"><thead><tr><th>term</th><th>‖·‖</th><th>first components</th></tr></thead><tbody></tbody></table>
    <h3 id="st-chain-title">The chain of one error <small>click an output o<sub>t</sub> above to choose e<sub>τ</sub></small></h3>
    <div id="st-chain-eq" class="st-eq"></div>
    <p id="st-chain-note" class="st-note">Each factor's size is its spectral norm ‖∂s<sub>k</sub>/∂s<sub>k−1</sub>‖₂, by at most 32 Lanczos steps (to far better than the 4 digits shown); the gradients are exact. The factor sizes get ${STEP_THROUGH_FACTOR_BUDGET_MS / 1000} s of work per request, from k = τ back.</p>
    <p id="st-chain-cut" class="st-note" role="status" hidden></p>
    <table id="st-chain" class="st-table"><thead><tr>
      <th>k</th><th>x<sub>k</sub></th><th>factor</th><th>its size</th><th>product of the sizes</th><th>‖∂e<sub>τ</sub>/∂s<sub>k</sub>‖</th><th>‖∂s<sub>k</sub>/∂W‖</th><th>‖∂e<sub>τ</sub>/∂W at k‖</th><th class="st-bar-head">‖∂e<sub>τ</sub>/∂W at k‖ (log)</th>
    </tr></thead><tbody></tbody></table>`;
  parent.append(section);
  const $ = <T extends Element>(sel: string): T => section.querySelector(sel) as T;
  const slider = $<HTMLInputElement>('#st-t');
  const tLabel = $<HTMLOutputElement>('#st-t-label');
  const layerSel = $<HTMLSelectElement>('#st-layer');
  const layerField = $<HTMLElement>('#st-layer-field');
  const status = $<HTMLElement>('#st-status');
  const eq = $<HTMLElement>('#st-eq');
  const terms = $<HTMLTableElement>('#st-terms').tBodies[0]!;
  const chainEq = $<HTMLElement>('#st-chain-eq');
  const chain = $<HTMLTableElement>('#st-chain').tBodies[0]!;
  const chainCut = $<HTMLElement>('#st-chain-cut');

  const shown = { view: null as StepThroughView | null, t: 0, layer: 0 };
  let asked: string | null = null;
  let inFlight = false;
  let wanted: { step: number; errorAt: number } | null = null;
  let pinnedT = false;

  const ask = (): void => {
    if (!wanted || inFlight) return;
    const key = `${wanted.step}:${wanted.errorAt}`;
    if (key === asked) return;
    asked = key;
    inFlight = true;
    status.textContent = 'Computing the step-through… (completions keep working meanwhile)';
    post({ kind: 'gradflow/stepThrough', step: wanted.step, errorAt: wanted.errorAt });
  };

  function termRow(t: StepThroughTerm): void {
    const row = terms.insertRow();
    row.dataset.key = t.key;
    tex(row.insertCell(), t.tex);
    cell(row, formatValue(t.norm), 'st-num st-norm', t.norm);
    const comps = row.insertCell();
    comps.className = 'st-num st-head';
    comps.textContent = `[${t.head.map(formatValue).join(', ')}${shown.view && shown.view.hidden > t.head.length ? ', …' : ''}]`;
    comps.dataset.values = JSON.stringify(t.head);
  }

  function drawTerms(): void {
    const v = shown.view;
    terms.replaceChildren();
    if (!v) return;
    const t = shown.t;
    tLabel.textContent = `t = ${t}: reads ${formatChar(v.chars[t])}, predicts ${formatChar(v.chars[t + 1])} · e_t = ${formatValue(v.errors[t]!)} · o_t[y_t] = ${formatValue(v.targetProb[t]!)}`;
    if (shown.layer === v.layers - 1) for (const x of v.output[t]!) termRow(x);
    for (const x of v.terms[shown.layer]![t]!) termRow(x);
  }

  function drawChain(): void {
    const v = shown.view;
    chain.replaceChildren();
    chainEq.replaceChildren();
    const c = v?.chain;
    chainCut.hidden = !c || c.factorsFrom <= 1;
    if (!v || !c) return;
    if (c.factorsFrom > 1) {
      chainCut.textContent = `Factor sizes computed back to k = ${c.factorsFrom - 1} within the ${STEP_THROUGH_FACTOR_BUDGET_MS / 1000} s bound; earlier rows show the actual gradients only (the sizes computed are kept: another e_τ of this window goes further back).`;
    }
    const s = v.chainStateTex;
    const tau = c.errorAt;
    tex(chainEq, String.raw`\frac{\partial e_{${tau}}}{\partial W^{(k)}} = \frac{\partial e_{${tau}}}{\partial h_{${tau}}} \cdot \frac{\partial ${s}_{${tau}}}{\partial ${s}_{${tau - 1}}} \cdots \frac{\partial ${s}_{k+1}}{\partial ${s}_{k}} \cdot \frac{\partial ${s}_{k}}{\partial W^{(k)}}`, true);
    const maxW = Math.max(...c.weightGradNorm, ...c.weightBound.slice(0, tau + 1).filter((x): x is number => x !== null));
    for (let k = tau; k >= 0; k--) {
      const row = chain.insertRow();
      row.dataset.k = String(k);
      cell(row, String(k), 'st-num');
      cell(row, formatChar(v.chars[k]));
      const factor = row.insertCell();
      const size = k === tau ? c.stateGradNorm[tau]! : (c.jacobianNorm[k + 1] ?? null);
      tex(factor, k === tau ? String.raw`\frac{\partial e_{${tau}}}{\partial h_{${tau}}}` : String.raw`\frac{\partial ${s}_{${k + 1}}}{\partial ${s}_{${k}}}`);
      maybeCell(row, size, 'st-num st-factor');
      maybeCell(row, c.stateBound[k] ?? null, 'st-num st-bound');
      cell(row, formatValue(c.stateGradNorm[k]!), 'st-num st-actual', c.stateGradNorm[k]!);
      cell(row, formatValue(c.weightJacobianNorm[k]!), 'st-num st-wjac', c.weightJacobianNorm[k]!);
      cell(row, formatValue(c.weightGradNorm[k]!), 'st-num st-wgrad', c.weightGradNorm[k]!);
      logBar(row, c.weightGradNorm[k]!, maxW);
    }
  }

  function drawAll(): void {
    const v = shown.view;
    eq.replaceChildren();
    if (v) tex(eq, v.recursionTex, true);
    drawTerms();
    drawChain();
  }

  slider.addEventListener('input', () => {
    shown.t = Number(slider.value);
    pinnedT = true;
    drawTerms();
  });
  layerSel.addEventListener('change', () => {
    shown.layer = Number(layerSel.value);
    drawTerms();
  });

  return {
    shown,
    sync(step, T, errorAt) {
      if (step === null || T < 1) {
        wanted = null;
        section.hidden = true;
        return;
      }
      section.hidden = false;
      wanted = { step, errorAt: errorAt ?? T - 1 };
      ask();
    },
    receive(m) {
      inFlight = false;
      if (m.error !== null || !m.view) {
        status.textContent = m.error ?? 'No step-through for this window.';
        section.classList.add('st-none');
        shown.view = null;
        drawAll();
      } else {
        section.classList.remove('st-none');
        const v = m.view;
        status.textContent = `${v.model} · E = ${formatValue(v.E)} over ${v.T} steps · chain of e_${m.errorAt}`;
        shown.view = v;
        slider.max = String(v.T - 1);
        if (!pinnedT || shown.t > v.T - 1) shown.t = v.chain?.errorAt ?? v.T - 1;
        slider.value = String(shown.t);
        if (layerSel.options.length !== v.layers) {
          layerSel.replaceChildren(...Array.from({ length: v.layers }, (_, l) => new Option(`${l + 1}`, String(l))));
          shown.layer = v.layers - 1;
        }
        layerSel.value = String(shown.layer);
        layerField.hidden = v.layers < 2;
        drawAll();
      }
      ask();
    },
  };
}
