/**
 * Experiments in Restricted Mode. An experiment file sizes its models, runs
 * and budgets itself, so one in a workspace the user has not trusted (a
 * cloned repository) could start hundreds of large runs and write an output
 * folder with a click. There the CodeLens and the menus say so, and Run
 * Experiment first shows what the file would train (the runs, the largest
 * model's memory, the budget, the files it reads and writes) and trains only
 * after an explicit yes, and only that: a start checks the file and its text
 * are still what was confirmed. The memory limit is the user's own either way
 * (rnnLab.training.maxMemoryMB is a restricted setting).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

import { formatBytes } from '../engine/memory';
import { experimentDisplayName } from '../shared/experiment';
import type { ExperimentReview } from '../shared/experiment/review';

export const MANAGE_TRUST_COMMAND = 'workbench.trust.manage';
export const RUN_ONCE = 'Run Once';
export const MANAGE_TRUST = 'Manage Workspace Trust';

/** A path as the user knows it: relative to the workspace, or absolute and marked when outside it. */
function shown(file: string): string {
  const rel = vscode.workspace.asRelativePath(file, false);
  return rel === file ? `${file} (outside the workspace)` : rel;
}

/** The modal's detail: everything the run would cost and touch, one item a line. */
export function reviewDetail(file: string, out: string, review: ExperimentReview, maxMemoryBytes: number): string {
  const l = review.largest;
  return [
    `${path.basename(file)} comes from a workspace in Restricted Mode. It asks to train:`,
    `• ${review.runs} run${review.runs === 1 ? '' : 's'}, ${review.perRun} each (${review.inAll} in all)`,
    `• largest model: ${l.id}, ${l.params.toLocaleString('en-US')} parameters, about ${formatBytes(l.bytes)} of memory in training (your limit: ${formatBytes(maxMemoryBytes)})`,
    `• reads ${review.textFiles.map(shown).join(', ')}`,
    `• writes ${shown(out)}${path.sep}`,
    'Trust the workspace to run its experiments without asking.',
  ].join('\n');
}

/** Asks before an experiment of an untrusted workspace trains; true only for an explicit Run Once. */
export async function confirmRestrictedRun(file: string, out: string, review: ExperimentReview, maxMemoryBytes: number): Promise<boolean> {
  const answer = await vscode.window.showWarningMessage(
    `Run the experiment "${experimentDisplayName(review.name, file)}" from an untrusted workspace?`,
    { modal: true, detail: reviewDetail(file, out, review, maxMemoryBytes) },
    RUN_ONCE,
    MANAGE_TRUST,
  );
  if (answer === MANAGE_TRUST) await vscode.commands.executeCommand(MANAGE_TRUST_COMMAND);
  return answer === RUN_ONCE;
}
