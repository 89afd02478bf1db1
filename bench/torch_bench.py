#!/usr/bin/env python3
"""PyTorch's CPU training throughput for the configurations of `npm run bench`.

The same model and step as RNN Lab's benchmark: one layer of nn.LSTM / nn.GRU /
nn.RNN(tanh) fed one-hot characters, nn.Linear decoder, softmax cross-entropy,
Adam (lr 0.002), gradient-norm clipping at 5, truncated BPTT over windows of
T characters in B parallel streams with the state carried (detached) between
windows. The block families (gpt, mingru, minlstm: config
family:C:B:T:layers:heads) are the modules of the exported PyTorch project
(pytorch/model.py: nanoGPT's GPT, and minGRU/minLSTM with the log-space
parallel scan PyTorch users train them with), AdamW with nanoGPT's weight
decay groups, clipping at 1. Prints one JSON object per configuration on stdout:

    {"cell": "lstm", "hidden": 512, "batch": 32, "seq": 100, "threads": 2,
     "charsPerSec": 12600.0, "msPerStep": 254.0, "cpuMsPerStep": 500.0, "torch": "1.13.1"}

(cpuMsPerStep: the process's CPU time per step, all threads: on a shared
machine, chars per CPU-second on one thread is the figure least disturbed
by other load.)

bench/bench.ts runs this with /usr/bin/python3 and the environment that lets
PyTorch run at its best (OpenBLAS' pthread build, passive OpenMP waiting,
large malloc thresholds); run by hand it measures whatever environment it has.

    python3 bench/torch_bench.py --text data.txt --config lstm:512:32:100 \
        --threads 2 --seconds 3
"""

import argparse
import json
import sys
import time

import os

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'pytorch'))
from model import BLOCKS, BlockLM  # noqa: E402  (the exported project's modules)


def parse_config(s):
    parts = s.split(':')
    cell, h, b, t = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    layers = int(parts[4]) if len(parts) > 4 else 1
    heads = int(parts[5]) if len(parts) > 5 else 1
    return cell, h, b, t, layers, heads


class CharModel(nn.Module):
    def __init__(self, cell, vocab, hidden):
        super().__init__()
        kind = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[cell]
        self.rnn = kind(vocab, hidden, 1)
        self.decoder = nn.Linear(hidden, vocab)
        self.vocab = vocab

    def forward(self, tokens, state):
        x = F.one_hot(tokens, self.vocab).float()  # [T, B, V]
        out, state = self.rnn(x, state)
        return self.decoder(out), state


def detach(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def make(cell, vocab, hidden, layers, heads, seq):
    """The model, its optimizer and clipping norm, as each family's users train it."""
    if cell in BLOCKS:
        model = BlockLM(vocab, hidden, layers, cell, heads=heads, context=seq)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        rest = [p for p in model.parameters() if p.dim() < 2]
        groups = [{'params': decay, 'weight_decay': 0.1}, {'params': rest, 'weight_decay': 0.0}]
        return model, torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.99)), 1.0
    model = CharModel(cell, vocab, hidden)
    return model, torch.optim.Adam(model.parameters(), lr=0.002), 5.0


def bench(cell, hidden, batch, seq, data, vocab, seconds, layers=1, heads=1):
    torch.manual_seed(1)
    model, opt, clip = make(cell, vocab, hidden, layers, heads, seq)
    # B streams laid end to end, as the engine does.
    stream = (len(data) - 1) // batch
    steps_per_epoch = stream // seq
    inputs = data[: batch * stream].view(batch, stream).t().contiguous()       # [stream, B]
    targets = data[1: batch * stream + 1].view(batch, stream).t().contiguous()
    initial = model.zero_state(batch, torch.device('cpu')) if cell in BLOCKS else None
    state = initial
    pos = 0

    def step():
        nonlocal state, pos
        if pos >= steps_per_epoch:
            pos, state = 0, initial
        x = inputs[pos * seq:(pos + 1) * seq]
        y = targets[pos * seq:(pos + 1) * seq]
        pos += 1
        logits, new_state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        state = None if new_state is None else detach(new_state)
        return loss.item()

    step()  # warm-up: first touch of every buffer
    steps = 0
    start = time.perf_counter()
    cpu0 = time.process_time()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and steps >= 3:
            break
    return steps * batch * seq / elapsed, elapsed * 1000 / steps, (time.process_time() - cpu0) * 1000 / steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--text', required=True)
    p.add_argument('--config', action='append', required=True, help='cell:H:B:T, or family:C:B:T:layers:heads for gpt/mingru/minlstm')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seconds', type=float, default=3.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.text, encoding='utf-8') as f:
        text = f.read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    for c in args.config:
        cell, h, b, t, layers, heads = parse_config(c)
        cps, ms, cpu_ms = bench(cell, h, b, t, data, len(chars), args.seconds, layers, heads)
        print(json.dumps({'cell': cell, 'hidden': h, 'batch': b, 'seq': t, 'layers': layers, 'heads': heads, 'threads': torch.get_num_threads(),
                          'charsPerSec': cps, 'msPerStep': ms, 'cpuMsPerStep': cpu_ms, 'torch': torch.__version__}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
