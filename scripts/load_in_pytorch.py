#!/usr/bin/env python3
"""Load an RNN Lab checkpoint into PyTorch and generate text with it.

    python3 scripts/load_in_pytorch.py model.safetensors --prime "ROMEO:" --length 200

Reads the safetensors file with the standard library only (the `safetensors`
package works too: safetensors.torch.load_file), builds the same network as
RNN Lab (nn.LSTM / nn.GRU / nn.RNN on one-hot input + nn.Linear decoder; a
sigmoid RNN, which nn.RNN lacks, as a small module with nn.RNN's tensor names)
and loads the weights with load_state_dict(strict=True).
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


class SigmoidRNN(torch.nn.Module):
    """nn.RNN's equations and tensor names with f = sigmoid, which nn.RNN does not offer:
    h_t = sigmoid(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), layer by layer."""

    def __init__(self, input_size, hidden, layers):
        super().__init__()
        self.hidden, self.layers = hidden, layers
        for k in range(layers):
            inputs = input_size if k == 0 else hidden
            self.register_parameter(f"weight_ih_l{k}", torch.nn.Parameter(torch.empty(hidden, inputs)))
            self.register_parameter(f"weight_hh_l{k}", torch.nn.Parameter(torch.empty(hidden, hidden)))
            self.register_parameter(f"bias_ih_l{k}", torch.nn.Parameter(torch.empty(hidden)))
            self.register_parameter(f"bias_hh_l{k}", torch.nn.Parameter(torch.empty(hidden)))

    def forward(self, x, state=None):
        # x: [T, B, input]; state: [layers, B, hidden], as nn.RNN.
        h = list(state.unbind(0)) if state is not None else [x.new_zeros(x.shape[1], self.hidden) for _ in range(self.layers)]
        out = []
        for x_t in x.unbind(0):
            for k in range(self.layers):
                p = lambda name: getattr(self, f"{name}_l{k}")  # noqa: E731
                x_t = h[k] = torch.sigmoid(x_t @ p("weight_ih").T + p("bias_ih") + h[k] @ p("weight_hh").T + p("bias_hh"))
            out.append(x_t)
        return torch.stack(out), torch.stack(h)


class CharRNN(torch.nn.Module):
    def __init__(self, vocab_size, hidden, layers, cell, activation):
        super().__init__()
        if cell == "lstm":
            self.rnn = torch.nn.LSTM(vocab_size, hidden, layers)
        elif cell == "gru":
            self.rnn = torch.nn.GRU(vocab_size, hidden, layers)
        elif activation in ("tanh", "relu"):
            self.rnn = torch.nn.RNN(vocab_size, hidden, layers, nonlinearity=activation)
        elif activation == "sigmoid":
            self.rnn = SigmoidRNN(vocab_size, hidden, layers)
        else:
            raise SystemExit(f"unknown activation {activation!r}")
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
    ap.add_argument("--loss-for", metavar="FILE", help="print the mean loss of predicting each character of FILE from the ones before it, from a zero state, as `rnn-lab eval` does, and exit")
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

    if args.loss_for is not None:
        with open(args.loss_for, encoding="utf-8") as f:
            text = f.read()
        # Characters the model does not know are not scored, as in rnn-lab eval.
        x = torch.cat([one_hot(ch) for ch in text[:-1]])
        scored = [i for i, ch in enumerate(text[1:]) if ch in index]
        targets = torch.tensor([index[text[i + 1]] for i in scored])
        with torch.no_grad():
            logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits[scored, 0], targets)
        print(json.dumps({"loss": loss.item(), "chars": len(scored)}))
        return

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
