/** `rnn-lab export-pytorch <checkpoint> <dir>`: the run as a PyTorch project that trains on under torchrun. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Command } from 'commander';

import { parameterCount } from '../../engine';
import { PROJECT_CHECKPOINT, PROJECT_FILE_NAMES, pytorchProjectFiles } from '../../shared/pytorchProject';
import { loadCheckpoint } from '../checkpointFile';
import { FileError, isSystemError, quotePath, readBytes, translateFsError, writeFileAtomic } from '../files';
import { EXIT_OK, type Output } from '../output';

export function addExportPytorchCommand(program: Command, run: (json: boolean, fn: (out: Output) => Promise<number>) => Promise<void>): void {
  program
    .command('export-pytorch')
    .description('write a PyTorch project (model.py, data.py, train.py, the checkpoint) that continues this run under torchrun')
    .argument('<checkpoint>', 'a model saved by rnn-lab')
    .argument('<dir>', 'folder to create (or an empty one)')
    .option('--force', 'write into a folder that already has files (replacing the project files)')
    .option('--json', 'print {"dir","files"} as JSON')
    .action(async (checkpoint: string, dir: string, opts: { force?: boolean; json?: boolean }) => {
      await run(Boolean(opts.json), async (out) => exportProject(checkpoint, dir, Boolean(opts.force), out));
    });
}

function exportProject(checkpointPath: string, dir: string, force: boolean, out: Output): number {
  const ckpt = loadCheckpoint(checkpointPath);
  const bytes = readBytes(checkpointPath, 'checkpoint file');
  prepareFolder(dir, force);
  const c = ckpt.model.config;
  const files = pytorchProjectFiles({
    family: c.cell,
    hidden: c.hidden,
    layers: c.layers,
    vocabSize: c.vocabSize,
    params: parameterCount(c),
    step: ckpt.trainState?.step ?? 0,
    batch: ckpt.train.batch,
    seq: ckpt.train.seq,
    optimizer: ckpt.train.optimizer,
  });
  const enc = new TextEncoder();
  for (const f of files) writeFileAtomic(path.join(dir, f.path), enc.encode(f.text));
  writeFileAtomic(path.join(dir, PROJECT_CHECKPOINT), bytes);
  const written = [...files.map((f) => f.path), PROJECT_CHECKPOINT];
  if (out.json) out.result({ dir: path.resolve(dir), files: written });
  else {
    out.info(`Wrote a PyTorch project to ${quotePath(dir)}: ${written.join(', ')}.`);
    out.info(`Continue training: cd ${quotePath(dir)} && torchrun --nproc_per_node=2 train.py --init ${PROJECT_CHECKPOINT} --data <your text> --steps 1000`);
  }
  return EXIT_OK;
}

/** Creates `dir`, or accepts an existing empty folder (any folder with --force); refuses anything else. */
function prepareFolder(dir: string, force: boolean): void {
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if (!(isSystemError(e) && e.code === 'ENOENT')) throw translateFsError(e, 'write', dir);
  }
  if (st === null) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw translateFsError(e, 'write', dir);
    }
    return;
  }
  if (!st.isDirectory()) throw new FileError(`cannot export to ${quotePath(dir)}: it exists and is not a folder`);
  if (!force && fs.readdirSync(dir).length > 0) {
    throw new FileError(`cannot export to ${quotePath(dir)}: the folder is not empty (choose a new folder, or pass --force to replace the project files)`);
  }
  for (const name of PROJECT_FILE_NAMES) {
    const target = path.join(dir, name);
    const t = fs.lstatSync(target, { throwIfNoEntry: false });
    if (t && !t.isFile()) throw new FileError(`cannot export to ${quotePath(dir)}: ${quotePath(target)} exists and is not a regular file`);
  }
}
