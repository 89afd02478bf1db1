/**
 * The files of an exported PyTorch project (DESIGN §6c): the Python sources
 * under pytorch/, bundled as text, and a README written for the model. Pure:
 * the CLI and the extension write them (and the checkpoint) where the user asks.
 */
import checkpointIo from '../../pytorch/checkpoint_io.py';
import dataPy from '../../pytorch/data.py';
import evaluatePy from '../../pytorch/evaluate.py';
import modelPy from '../../pytorch/model.py';
import trainPy from '../../pytorch/train.py';

/** What the README says about the model. */
export interface ExportedModel {
  family: string;
  hidden: number;
  layers: number;
  vocabSize: number;
  params: number;
  /** Updates the checkpoint has had. */
  step: number;
  /** How it was trained, when known (an imported model may not say). */
  batch?: number;
  seq?: number;
  optimizer?: string;
}

export interface ProjectFile {
  path: string;
  text: string;
}

/** The checkpoint's name inside the project. */
export const PROJECT_CHECKPOINT = 'model.safetensors';

const SOURCES: readonly ProjectFile[] = [
  { path: 'model.py', text: modelPy },
  { path: 'data.py', text: dataPy },
  { path: 'train.py', text: trainPy },
  { path: 'evaluate.py', text: evaluatePy },
  { path: 'checkpoint_io.py', text: checkpointIo },
  { path: 'requirements.txt', text: 'torch>=1.13\n# optional: the reference safetensors reader/writer (checkpoint_io.py has its own)\nsafetensors\n' },
];

/** Every file name a project has, the checkpoint included. */
export const PROJECT_FILE_NAMES: readonly string[] = [...SOURCES.map((f) => f.path), 'README.md', PROJECT_CHECKPOINT];

/** The project's text files (the checkpoint itself is copied by the caller). */
export function pytorchProjectFiles(m: ExportedModel): ProjectFile[] {
  return [...SOURCES, { path: 'README.md', text: projectReadme(m) }];
}

function projectReadme(m: ExportedModel): string {
  const shape = `${m.family} · width ${m.hidden} · ${m.layers} ${m.layers === 1 ? 'layer' : 'layers'} · ${m.vocabSize} characters · ${m.params.toLocaleString('en-US')} parameters`;
  const how = m.batch && m.seq ? ` (batch ${m.batch} × sequence ${m.seq}${m.optimizer ? `, ${m.optimizer}` : ''})` : '';
  return `# An RNN Lab model as a PyTorch project

${shape}, trained for ${m.step.toLocaleString('en-US')} steps${how}.

\`${PROJECT_CHECKPOINT}\` is the RNN Lab checkpoint (format \`rnn-lab/1\`): weights with PyTorch
state-dict names, optimizer moments, the carried hidden state and the position in the data.
\`train.py\` continues that run exactly — the same batches, schedule and update rules as
RNN Lab — and writes \`rnn-lab/1\` checkpoints that RNN Lab opens again (import the file in the
Models view, or \`rnn-lab eval|sample|train --init\` it).

| file | what it is |
|---|---|
| \`model.py\` | the model as plain \`torch.nn\` modules, with RNN Lab's parameter names |
| \`data.py\` | the vocabulary and RNN Lab's B contiguous streams with truncated BPTT |
| \`train.py\` | continues training, on one process or many (\`torchrun\`, DistributedDataParallel) |
| \`evaluate.py\` | loss per character on a text, as \`rnn-lab eval\` computes it |
| \`checkpoint_io.py\` | reads and writes \`rnn-lab/1\` safetensors (uses \`safetensors\` when installed) |

\`\`\`sh
pip install -r requirements.txt      # torch; safetensors is optional
\`\`\`

## One process (CPU or one GPU)

\`\`\`sh
python train.py --init ${PROJECT_CHECKPOINT} --data input.txt --steps 1000 --out out.safetensors
python train.py --init ${PROJECT_CHECKPOINT} --data input.txt --steps 1000 --device cuda
\`\`\`

\`--data\` takes the text the model was trained on (several files are concatenated in order).
Every setting you leave out comes from the checkpoint; \`--steps\` counts further steps.
Others: \`--batch\`, \`--seq\`, \`--lr\`, \`--optimizer\`, \`--momentum\`, \`--weight-decay\`,
\`--clip\`, \`--save-every\`, \`--log-every\` (\`python train.py --help\`).

## N GPUs on one machine

\`\`\`sh
torchrun --standalone --nproc_per_node=N train.py --init ${PROJECT_CHECKPOINT} --data input.txt --steps 1000 --device cuda
\`\`\`

Each process takes B/N of the B streams (\`--batch\` must be a multiple of N) and
DistributedDataParallel averages the gradients (nccl on GPUs, gloo on CPU), so N processes
follow the same run as one process with batch B. Only rank 0 writes checkpoints.

## Several machines

On each of M machines (\`--node_rank\` 0 … M-1, the first one's address as the rendezvous point):

\`\`\`sh
torchrun --nnodes=M --node_rank=R --nproc_per_node=N --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
  train.py --init ${PROJECT_CHECKPOINT} --data input.txt --steps 1000 --device cuda
\`\`\`

The batch is split over all M·N processes.

## Back into RNN Lab

\`\`\`sh
python evaluate.py --init out.safetensors --data input.txt   # the same number as: rnn-lab eval out.safetensors input.txt
rnn-lab train input.txt --init out.safetensors --steps 500    # go on training in RNN Lab
\`\`\`

## Troubleshooting

- **torchrun crashes with \`'NoneType' object has no attribute 'get'\`** (PyTorch 1.13 on Python 3.11,
  an IntFlag change): add \`--redirects 1 --tee 1\` to the torchrun command. Newer PyTorch has no such problem.
- **"does not split over N processes"**: pass \`--batch\` as a multiple of the number of processes.
- **"characters the model does not know"**: a model's vocabulary is fixed; train on text made of its characters.
- Dropout masks come from PyTorch's random generator, so a run with dropout follows RNN Lab's statistically,
  not bit for bit; without dropout the weights agree to float32 rounding.
`;
}
