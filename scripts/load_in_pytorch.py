#!/usr/bin/env python3
"""Load an RNN Lab checkpoint into PyTorch and generate text with it.

    python3 scripts/load_in_pytorch.py model.safetensors --prime "ROMEO:" --length 200

Reads the safetensors file with the standard library only (the `safetensors`
package works too: safetensors.torch.load_file), builds the same network as
RNN Lab (nn.LSTM / nn.GRU / nn.RNN on one-hot input + nn.Linear decoder) and
loads the weights with load_state_dict(strict=True).
"""
import argparse
import json
import struct

import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        begin, end = t["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = flat.reshape(t["shape"])
    return tensors, meta


class CharRNN(torch.nn.Module):
    def __init__(self, vocab_size, hidden, layers, cell, activation):
        super().__init__()
        if cell == "lstm":
            self.rnn = torch.nn.LSTM(vocab_size, hidden, layers)
        elif cell == "gru":
            self.rnn = torch.nn.GRU(vocab_size, hidden, layers)
        elif activation in ("tanh", "relu"):
            self.rnn = torch.nn.RNN(vocab_size, hidden, layers, nonlinearity=activation)
        else:
            raise SystemExit("a sigmoid vanilla RNN has no nn.RNN equivalent in PyTorch")
        self.decoder = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return self.decoder(out), state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--prime", default="\n")
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logits-for", help="print the logits after this text as JSON and exit")
    args = ap.parse_args()

    tensors, meta = read_safetensors(args.checkpoint)
    assert meta.get("format") == "rnn-lab/1", "not an RNN Lab checkpoint"
    cfg = json.loads(meta["config"])["model"]
    vocab = json.loads(meta["vocab"])
    index = {ch: i for i, ch in enumerate(vocab)}
    model = CharRNN(len(vocab), cfg["hidden"], cfg["layers"], cfg["cell"], cfg["activation"])
    # optim.* (optimizer moments) and train.* (carried state) are for resuming only.
    model.load_state_dict({k: v for k, v in tensors.items() if k.startswith(("rnn.", "decoder."))})
    model.eval()

    def one_hot(ch):
        x = torch.zeros(1, 1, len(vocab))
        x[0, 0, index.get(ch, index.get(" ", 0))] = 1
        return x

    torch.manual_seed(args.seed)
    state = None
    with torch.no_grad():
        for ch in args.prime:
            logits, state = model(one_hot(ch), state)
        if args.logits_for is not None:
            state = None
            for ch in args.logits_for:
                logits, state = model(one_hot(ch), state)
            print(json.dumps(logits[0, 0].tolist()))
            return
        out = []
        for _ in range(args.length):
            p = torch.softmax(logits[0, 0] / max(args.temperature, 1e-6), dim=0)
            ch = vocab[torch.multinomial(p, 1).item()]
            out.append(ch)
            logits, state = model(one_hot(ch), state)
    print(args.prime + "".join(out))


if __name__ == "__main__":
    main()
