#!/usr/bin/env python3
"""PyTorch's CPU training throughput for the configurations of `npm run bench`.

The same model and step as RNN Lab's benchmark: one layer of nn.LSTM / nn.GRU /
nn.RNN(tanh) fed one-hot characters, nn.Linear decoder, softmax cross-entropy,
Adam (lr 0.002), gradient-norm clipping at 5, truncated BPTT over windows of
T characters in B parallel streams with the state carried (detached) between
windows. Prints one JSON object per configuration on stdout:

    {"cell": "lstm", "hidden": 512, "batch": 32, "seq": 100, "threads": 2,
     "charsPerSec": 12600.0, "msPerStep": 254.0, "torch": "1.13.1"}

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

import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_config(s):
    cell, h, b, t = s.split(':')
    return cell, int(h), int(b), int(t)


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


def bench(cell, hidden, batch, seq, data, vocab, seconds):
    torch.manual_seed(1)
    model = CharModel(cell, vocab, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    # B streams laid end to end, as the engine does.
    stream = (len(data) - 1) // batch
    steps_per_epoch = stream // seq
    inputs = data[: batch * stream].view(batch, stream).t().contiguous()       # [stream, B]
    targets = data[1: batch * stream + 1].view(batch, stream).t().contiguous()
    state = None
    pos = 0

    def step():
        nonlocal state, pos
        if pos >= steps_per_epoch:
            pos, state = 0, None
        x = inputs[pos * seq:(pos + 1) * seq]
        y = targets[pos * seq:(pos + 1) * seq]
        pos += 1
        logits, new_state = model(x, state)
        loss = F.cross_entropy(logits.view(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        state = detach(new_state)
        return loss.item()

    step()  # warm-up: first touch of every buffer
    steps = 0
    start = time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and steps >= 3:
            break
    return steps * batch * seq / elapsed, elapsed * 1000 / steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--text', required=True)
    p.add_argument('--config', action='append', required=True, help='cell:H:B:T')
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
        cell, h, b, t = parse_config(c)
        cps, ms = bench(cell, h, b, t, data, len(chars), args.seconds)
        print(json.dumps({'cell': cell, 'hidden': h, 'batch': b, 'seq': t, 'threads': torch.get_num_threads(),
                          'charsPerSec': cps, 'msPerStep': ms, 'torch': torch.__version__}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
