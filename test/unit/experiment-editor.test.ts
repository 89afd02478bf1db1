/**
 * The editor's pure parts of experiments: the starter file New Experiment…
 * writes, the output folder's name, the CSV export, the panel's view of an
 * output folder (a real one, trained here by the shared runner), the page's
 * table model (columns, states, sorting, selection) and the checks on what
 * the page sends.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { EngineTrainer } from '../../src/cli/experiment/engineTrainer';
import { planExperiment, runExperiment } from '../../src/cli/experiment/runner';
import { Output } from '../../src/cli/output';
import type { TrainReporter } from '../../src/cli/progress';
import { FAMILY_NAMES } from '../../src/engine/models/catalog';
import { experimentView } from '../../src/extension/panels/experimentView';
import { checkExperimentWebviewMessage } from '../../src/extension/panels/experimentValidate';
import {
  countRuns,
  experimentDisplayName,
  experimentFileName,
  experimentOutputDir,
  parseExperiment,
  resultsCsv,
  starterExperimentText,
  type ResultRow,
} from '../../src/shared/experiment';
import { experimentFolderOf, readResultRows } from '../../src/shared/experiment/outputDir';
import type { ExperimentView } from '../../src/shared/experimentPanelProtocol';
import { ExperimentPanelModel } from '../../webview/experiment/state';
import { makeText } from './helpers/text';

class Silent extends Output {
  constructor() {
    super(false);
  }
  override event(): void {}
  override info(): void {}
}
const quiet: TrainReporter = { start() {}, step() {}, val() {}, checkpoint() {}, finish() {}, done() {} };

let root = '';
let out = '';
before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-lab-exp-editor-'));
  fs.writeFileSync(path.join(root, 'notes.txt'), makeText(5000));
  const file = path.join(root, 'pair.rnnlab.json');
  fs.writeFileSync(file, JSON.stringify({ text: 'notes.txt', budget: { steps: 12 }, valEvery: 4, base: { hidden: 8, layers: 1, seq: 8, batch: 4 }, grid: { cell: ['rnn', 'gru'] } }));
  const trainer = new EngineTrainer({ sliceMs: 0 });
  out = experimentOutputDir(file);
  await runExperiment(planExperiment(file, trainer, { yes: false, maxMemoryBytes: 2 ** 30 }), {
    out, resume: false, saveEvery: 0, saveSeconds: Infinity, maxMemoryBytes: 2 ** 30, output: new Silent(), trainer, reporter: () => quiet, shouldStop: () => false,
  });
});
after(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('New Experiment…', () => {
  it('the starter is a valid experiment on the text beside it: the three cells at one parameter count, minutes each', () => {
    const spec = parseExperiment(starterExperimentText('my notes.md'), { families: FAMILY_NAMES });
    assert.deepEqual(spec.text, ['my notes.md']);
    assert.deepEqual(spec.grid, [['cell', ['rnn', 'lstm', 'gru']]]);
    assert.equal(spec.matchParams, 100000);
    assert.deepEqual(spec.budget, { minutes: 2 });
    assert.equal(countRuns(spec), 3);
    assert.equal(spec.name, 'cells on my notes.md');
  });

  it('names: the experiment file beside the text, its output folder beside it, its display name', () => {
    assert.equal(experimentFileName('notes.txt'), 'notes.rnnlab.json');
    assert.equal(experimentFileName('archive.tar.txt'), 'archive.tar.rnnlab.json');
    assert.equal(experimentFileName('README'), 'README.rnnlab.json');
    assert.equal(experimentFileName('.bashrc'), '.bashrc.rnnlab.json');
    assert.equal(experimentOutputDir('/w/cells.rnnlab.json'), '/w/cells.runs');
    assert.equal(experimentDisplayName('', '/w/cells.rnnlab.json'), 'cells');
    assert.equal(experimentDisplayName('My sweep', '/w/cells.rnnlab.json'), 'My sweep');
  });
});

describe('an experiment\'s output folder, as the panel reads it', () => {
  it('finds the folder from itself, its results.jsonl or report.html; nothing elsewhere', () => {
    assert.equal(experimentFolderOf(out), out);
    assert.equal(experimentFolderOf(path.join(out, 'results.jsonl')), out);
    assert.equal(experimentFolderOf(path.join(out, 'report.html')), out);
    assert.equal(experimentFolderOf(root), null);
    assert.equal(experimentFolderOf(path.join(root, 'gone')), null);
  });

  it('the view of a finished folder: every row, each run\'s curve from its history, ending at its last step', () => {
    const view = experimentView(out, undefined);
    assert.equal(view.state, 'results');
    assert.deepEqual(view.rows.map((r) => r.id).sort(), ['gru-s42', 'rnn-s42']);
    assert.deepEqual(view.planned.map((p) => p.id).sort(), ['gru-s42', 'rnn-s42']);
    for (const r of view.rows) {
      assert.equal(view.curves[r.id]!.at(-1)!.step, 12);
      assert.ok(view.curves[r.id]!.every((p) => Number.isFinite(p.loss) && p.charsSeen > 0));
    }
  });

  it('a live view: the running run\'s curve is its live points; finished rows come from the experiment', () => {
    const rows = readResultRows(out);
    const live = {
      name: 'pair', state: 'running' as const, reason: undefined, planned: rows.map((r) => ({ id: r.id, origin: r.origin, varied: r.varied, params: r.params })),
      rows: rows.slice(0, 1), running: rows[1]!.id, live: { runId: rows[1]!.id, step: 3, loss: 3.1, charsPerSec: 100, seconds: 0.1 },
      liveCurve: [{ step: 1, loss: 3.5, charsSeen: 32, seconds: 0.01 }, { step: 3, loss: 3.1, charsSeen: 96, seconds: 0.1 }],
    };
    const view = experimentView(out, live);
    assert.equal(view.state, 'running');
    assert.equal(view.rows.length, 1);
    assert.deepEqual(view.curves[rows[1]!.id], live.liveCurve);
  });

  it('malformed lines of results.jsonl are skipped, not fatal', () => {
    const copy = fs.mkdtempSync(path.join(root, 'copy-'));
    const good = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    fs.writeFileSync(path.join(copy, 'results.jsonl'), `{"id":"x"}\nnot json\n${good}{"half":`);
    assert.deepEqual(readResultRows(copy).map((r) => r.id).sort(), ['gru-s42', 'rnn-s42']);
  });
});

describe('CSV export', () => {
  it('the varied settings as columns, then the results; fields with commas or quotes are quoted', () => {
    const rows = readResultRows(out);
    const csv = resultsCsv(rows);
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], 'id,cell,seed,params,steps,chars,seconds,charsPerSec,valLoss,valBpc,stoppedAt,diverged,checkpoint');
    assert.equal(lines.length, 3);
    assert.equal(lines[1]!.split(',')[0], rows[0]!.id);
    assert.equal(lines[1]!.split(',')[1], rows[0]!.settings.cell);
    assert.equal(Number(lines[1]!.split(',')[9]), rows[0]!.valBpc);
    const odd: ResultRow = { ...rows[0]!, id: 'a,"b"' };
    assert.equal(resultsCsv([odd]).split('\r\n')[1]!.split(',')[0], '"a');
    assert.match(resultsCsv([odd]), /^"a,""b"""/m);
  });
});

describe('the panel\'s table model', () => {
  const base = (): ExperimentView => experimentView(out, undefined);

  it('columns: run, the varied setting, then state and the results; rows best first with their states', () => {
    const m = new ExperimentPanelModel();
    m.receive({ kind: 'experiment/data', view: base() });
    assert.deepEqual(m.columns().map((c) => c.key), ['run', 's.cell', 'state', 'valBpc', 'params', 'steps', 'charsPerSec', 'seconds', 'rung']);
    const rows = m.rows();
    assert.deepEqual(rows.map((r) => r.id), [...base().rows].sort((a, b) => a.valLoss! - b.valLoss!).map((r) => r.id));
    assert.ok(rows.every((r) => r.state === 'done' && r.finished));
  });

  it('sorting: numbers by value, empty cells last both ways, a second click reverses', () => {
    const v = base();
    const m = new ExperimentPanelModel({ sortKey: 'params' });
    // One run still to come: no params? It has them from the plan; no val bpc yet.
    m.receive({ kind: 'experiment/data', view: { ...v, rows: v.rows.slice(0, 1), running: v.rows[1]!.id, state: 'running' } });
    const byBpc = (): string[] => m.rows().map((r) => String(r.values.valBpc));
    m.sortBy('valBpc');
    assert.equal(byBpc().at(-1), 'null');
    m.sortBy('valBpc');
    assert.equal(m.sortDescending, true);
    assert.equal(byBpc().at(-1), 'null', 'empty cells stay last when reversed');
    m.sortBy('params');
    const params = m.rows().map((r) => r.values.params as number);
    assert.deepEqual(params, [...params].sort((a, b) => a - b));
    assert.equal(m.rows().find((r) => r.id === v.rows[1]!.id)!.state, 'training');
  });

  it('selection: only finished runs; runs gone from the view are dropped; the state survives a reload', () => {
    const v = base();
    const m = new ExperimentPanelModel();
    m.receive({ kind: 'experiment/data', view: { ...v, rows: v.rows.slice(0, 1) } });
    m.toggle(v.rows[1]!.id);
    assert.equal(m.selected.size, 0, 'an unfinished run cannot be selected');
    m.toggle(v.rows[0]!.id);
    assert.deepEqual(m.selectedInOrder(), [v.rows[0]!.id]);
    const saved = JSON.parse(JSON.stringify(m.persisted())) as Record<string, unknown>;
    assert.equal(saved.out, out);
    const again = new ExperimentPanelModel(saved);
    again.receive({ kind: 'experiment/data', view: { ...v, rows: [] } });
    assert.equal(again.selected.size, 0);
  });
});

describe('messages from the Experiment panel\'s page (untrusted)', () => {
  it('accepts the actions it knows with run ids; refuses anything else with a reason', () => {
    assert.deepEqual(checkExperimentWebviewMessage({ kind: 'experiment/action', action: 'loss', runIds: ['a'] }), { ok: true, message: { kind: 'experiment/action', action: 'loss', runIds: ['a'] } });
    const refused = (m: unknown): string => {
      const r = checkExperimentWebviewMessage(m);
      assert.equal(r.ok, false);
      return (r as { error: string }).error;
    };
    assert.match(refused({ kind: 'experiment/action', action: 'rm -rf', runIds: [] }), /unknown action/);
    assert.match(refused({ kind: 'experiment/action', action: 'csv', runIds: [1] }), /every run id must be a string/);
    assert.match(refused({ kind: 'experiment/action', action: 'csv', runIds: Array.from({ length: 1001 }, () => 'x') }), /at most 1000/);
    assert.match(refused({ kind: 'experiment/action', action: 'csv', runIds: [], extra: 1 }), /unexpected field/);
    assert.match(refused({ kind: 'nope' }), /unknown kind/);
    assert.match(refused('x'.repeat(10)), /not an object/);
  });
});

describe('one writer per output folder', () => {
  it('a second experiment on a folder in use is refused in one line; the folder is free again when the first ends', async () => {
    const file = path.join(root, 'lock.rnnlab.json');
    fs.writeFileSync(file, JSON.stringify({ text: 'notes.txt', budget: { steps: 6 }, base: { hidden: 8, layers: 1, seq: 8, batch: 4, cell: 'rnn' } }));
    const trainer = new EngineTrainer({ sliceMs: 0 });
    const plan = planExperiment(file, trainer, { yes: false, maxMemoryBytes: 2 ** 30 });
    const lockOut = experimentOutputDir(file);
    const opts = { out: lockOut, resume: true, saveEvery: 0, saveSeconds: Infinity, maxMemoryBytes: 2 ** 30, output: new Silent(), trainer, reporter: () => quiet, shouldStop: () => false };
    const first = runExperiment(plan, opts);
    await assert.rejects(runExperiment(plan, opts), (e: Error) => {
      assert.equal(e.message, `'${lockOut}' is in use by another experiment (process ${process.pid}): let it finish or stop it first`);
      return true;
    });
    assert.equal((await first).rows.length, 1);
    assert.equal(fs.existsSync(path.join(lockOut, 'experiment.lock')), false, 'the lock is released');
    assert.equal((await runExperiment(plan, opts)).rows.length, 1, 'a later run (nothing left to train) takes the folder again');
  });
});
