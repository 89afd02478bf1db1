#!/usr/bin/env python3
"""Load an RNN Lab checkpoint into PyTorch and generate text with it.

    python3 scripts/load_in_pytorch.py model.safetensors --prime "ROMEO:" --length 200

Reads the safetensors file with the standard library only (the `safetensors`
package works too: safetensors.torch.load_file), builds the same network as
RNN Lab (nn.LSTM / nn.GRU / nn.RNN on one-hot input + nn.Linear decoder; a
sigmoid RNN, which nn.RNN lacks, as a small module with nn.RNN's tensor names)
and loads the weights with load_state_dict(strict=True).

A block model (gpt, mingru, minlstm: DESIGN §2b) has nanoGPT's state-dict
names. A gpt loads into nanoGPT's own GPT with `--nanogpt DIR` (a nanoGPT
checkout; its model.py is imported):

    GPT(GPTConfig(block_size=context, vocab_size=V, n_layer=L, n_head=heads,
                  n_embd=C, dropout=0.0, bias=True)).load_state_dict(sd, strict=False)

strict=False because RNN Lab does not write the causal-mask buffers
(`transformer.h.{i}.attn.bias`); every other key must match, which the script
checks. Without --nanogpt (and for mingru/minlstm, which nanoGPT lacks) it
uses BlockLM of the exported PyTorch project's model.py (pytorch/ in this
repository), the same module with the same names.
"""
import argparse
import json
import os
import struct
import sys

import torch

PYTORCH_PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorch")
BLOCKS = ("gpt", "mingru", "minlstm")


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
    ap.add_argument("--nanogpt", metavar="DIR", help="a gpt checkpoint: load it into nanoGPT's GPT from this nanoGPT checkout (its model.py)")
    ap.add_argument("--loss-for", metavar="FILE", help="print the mean loss of predicting each character of FILE from the ones before it, from a zero state, as `rnn-lab eval` does, and exit")
    args = ap.parse_args()

    tensors, meta = read_safetensors(args.checkpoint)
    assert meta.get("format") == "rnn-lab/1", "not an RNN Lab checkpoint"
    cfg = json.loads(meta["config"])["model"]
    vocab = json.loads(meta["vocab"])
    index = {ch: i for i, ch in enumerate(vocab)}
    if cfg["cell"] in BLOCKS:
        return block_model(args, tensors, meta, cfg, vocab, index)
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


def load_block_model(cfg, vocab, tensors, seq, nanogpt=None):
    """A block model with nanoGPT's names: nanoGPT's GPT (gpt, given its checkout) or the exported project's BlockLM."""
    sd = {k: v for k, v in tensors.items() if not k.startswith(("optim.", "train."))}
    context = int(cfg.get("context") or seq)
    if nanogpt is not None:
        if cfg["cell"] != "gpt":
            raise SystemExit(f"nanoGPT has no {cfg['cell']} mixer: leave out --nanogpt")
        sys.path.insert(0, nanogpt)
        from model import GPT, GPTConfig  # nanoGPT's model.py

        model = GPT(GPTConfig(block_size=context, vocab_size=len(vocab), n_layer=cfg["layers"], n_head=cfg["heads"],
                              n_embd=cfg["hidden"], dropout=0.0, bias=True))
    else:
        sys.path.insert(0, PYTORCH_PROJECT)
        from model import BlockLM

        model = BlockLM(len(vocab), cfg["hidden"], cfg["layers"], cfg["cell"], int(cfg.get("heads", 1)), context)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    # Only the causal-mask buffers, which RNN Lab does not write, may be missing.
    bad = [k for k in missing if not k.endswith(".attn.bias")] + list(unexpected)
    if bad:
        raise SystemExit(f"checkpoint and model disagree on {bad[:5]}")
    return model.eval(), context


def block_model(args, tensors, meta, cfg, vocab, index):
    seq = json.loads(meta["config"]).get("train", {}).get("seq", 0)
    model, context = load_block_model(cfg, vocab, tensors, seq, args.nanogpt)
    fallback = index.get(" ", 0)
    nano = args.nanogpt is not None

    def logits_of(ids, state):
        """Next-token logits after ids (a gpt sees the last `context` of them), and the mixers' state."""
        if cfg["cell"] == "gpt":
            x = torch.tensor(ids[-context:]).unsqueeze(0 if nano else 1)
            if nano:
                return model(x)[0][0, -1], None
            return model(x, None)[0][-1, 0], None
        out, state = model(torch.tensor(ids[-1:]).unsqueeze(1), state)
        return out[-1, 0], state

    if args.loss_for is not None:
        sys.path.insert(0, PYTORCH_PROJECT)
        from data import Vocab
        from evaluate import evaluate, evaluate_windows

        with open(args.loss_for, encoding="utf-8") as f:
            text = f.read()
        v = Vocab(vocab)
        tokens = v.encode(text, strict=False)
        r = evaluate_windows(model, tokens, v, context) if cfg["cell"] == "gpt" else evaluate(model, tokens, v, 128)
        print(json.dumps({"loss": r["loss"], "chars": r["chars"]}))
        return

    torch.manual_seed(args.seed)
    state = None if cfg["cell"] == "gpt" else torch.zeros(cfg["layers"], 1, cfg["hidden"])
    with torch.no_grad():
        ids = []
        logits = None
        for ch in args.prime:
            ids.append(index.get(ch, fallback))
            logits, state = logits_of(ids, state)
        out = []
        for _ in range(args.length):
            p = torch.softmax(logits / max(args.temperature, 1e-6), dim=0)
            t = torch.multinomial(p, 1).item()
            out.append(vocab[t])
            ids.append(t)
            logits, state = logits_of(ids, state)
    print(args.prime + "".join(out))


if __name__ == "__main__":
    main()
