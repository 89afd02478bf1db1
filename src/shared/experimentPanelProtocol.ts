/**
 * The Experiment panel's channel: the host sends the whole view of one
 * experiment (planned runs, finished rows, curves, who is running), the page
 * asks for actions on the runs the user selected. Types and constants only.
 */
import type { CurvePoint } from './experiment/charts';
import type { ResultRow } from './experiment/results';
import type { PlannedRunInfo } from './experimentProtocol';
import type { PanelErrorMessage, PanelReadyMessage } from './panelProtocol';

/** Where an experiment is: waiting for a slot, training, stopped by the user or a reload, finished, failed; `results` is a folder only read (a CLI's). */
export type ExperimentState = 'queued' | 'running' | 'stopped' | 'done' | 'failed' | 'results';

/** A run's state in the table. */
export type RunRowState = 'planned' | 'training' | 'done' | 'halted' | 'diverged';

export interface ExperimentView {
  name: string;
  /** The output folder (shown, and the panel's identity). */
  out: string;
  state: ExperimentState;
  /** Why it is queued, stopped or failed, in words. */
  reason?: string;
  /** Every run of the plan (known while the editor runs it; rows only for a folder read from disk). */
  planned: PlannedRunInfo[];
  rows: ResultRow[];
  /** The run training now. */
  running: string | null;
  /** The running run's latest step, loss and throughput. */
  live: { runId: string; step: number; loss: number; charsPerSec: number; seconds: number } | null;
  /** Training-loss points per run (thinned), finished runs from their histories, the running one live. */
  curves: Record<string, CurvePoint[]>;
}

export interface ExperimentDataMessage {
  kind: 'experiment/data';
  view: ExperimentView;
}

export type ExperimentHostMessage = ExperimentDataMessage;

export const EXPERIMENT_ACTIONS = ['loss', 'hidden', 'completions', 'csv', 'run', 'stop', 'report'] as const;
export type ExperimentAction = (typeof EXPERIMENT_ACTIONS)[number];

/** Page → host: do `action` with the selected runs (csv exports the table in the order shown). */
export interface ExperimentActionMessage {
  kind: 'experiment/action';
  action: ExperimentAction;
  runIds: string[];
}

export type ExperimentWebviewMessage = ExperimentActionMessage | PanelReadyMessage | PanelErrorMessage;

/** What the page keeps across reloads (vscode.setState). */
export interface ExperimentPanelState {
  sortKey: string;
  sortDescending: boolean;
  axis: 'step' | 'chars' | 'seconds';
  selected: string[];
}

export const EXPERIMENT_LIMITS = { maxRunIds: 1000, maxRunIdChars: 200 } as const;
