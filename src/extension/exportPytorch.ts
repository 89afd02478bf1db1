/** "Export as PyTorch Project…": the model's checkpoint with model.py, data.py and train.py for torchrun. */
import * as vscode from 'vscode';

import { PROJECT_CHECKPOINT, pytorchProjectFiles } from '../shared/pytorchProject';
import type { ModelEntry } from './library';
import { UserError } from '../engine/errors';

/**
 * Writes the project into `folder` (created when missing; an existing folder
 * must be empty, so nothing of the user's is ever replaced).
 */
export async function writePytorchProject(entry: ModelEntry, checkpoint: Uint8Array, folder: vscode.Uri): Promise<void> {
  let existing: [string, vscode.FileType][] | null = null;
  try {
    const st = await vscode.workspace.fs.stat(folder);
    if (st.type !== vscode.FileType.Directory) throw new UserError(`cannot export to ${folder.fsPath}: it exists and is not a folder`);
    existing = await vscode.workspace.fs.readDirectory(folder);
  } catch (e) {
    if (e instanceof UserError) throw e;
  }
  if (existing && existing.length > 0) throw new UserError(`cannot export to ${folder.fsPath}: the folder is not empty; choose a new or empty folder`);
  await vscode.workspace.fs.createDirectory(folder);
  const train = entry.settings?.train;
  const files = pytorchProjectFiles({
    family: entry.cell,
    hidden: entry.hidden,
    layers: entry.layers,
    vocabSize: entry.vocabSize,
    params: entry.params,
    step: entry.steps,
    ...(train ? { batch: train.batch, seq: train.seq, optimizer: train.optimizer } : {}),
  });
  const enc = new TextEncoder();
  for (const f of files) await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, f.path), enc.encode(f.text));
  await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, PROJECT_CHECKPOINT), checkpoint);
}

/** The folder a project goes to when the user picks where: `<model name>-pytorch` inside the chosen folder. */
export function projectFolderIn(parent: vscode.Uri, entry: ModelEntry): vscode.Uri {
  const safeName = entry.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'model';
  return vscode.Uri.joinPath(parent, `${safeName}-pytorch`);
}
