#!/usr/bin/env python3
"""Turn a character-level model trained in PyTorch into an RNN Lab checkpoint.

    python3 scripts/from_pytorch.py weights.pt --vocab vocab.json --out model.safetensors
    python3 scripts/from_pytorch.py weights.safetensors --vocab vocab.json --activation relu --out model.safetensors

The model is what RNN Lab trains: `rnn = nn.LSTM / nn.GRU / nn.RNN(V, H, L)`
reading one-hot characters, then `decoder = nn.Linear(H, V)`. The input is its
state_dict, saved with `torch.save(model.state_dict(), "weights.pt")` (loaded
with weights_only=True: pickled objects other than tensors are refused) or as a
safetensors file. The cell, H, L and V are read from the tensor shapes; the
tensor names may carry any prefix (`rnn.`, `lstm.`, `fc.`, ...), found from
`weight_ih_l0` and from the one [V, H] matrix left over, or given with
--rnn-prefix / --decoder-prefix. A vanilla RNN's nonlinearity is not in its
weights: pass --activation (nn.RNN's default is tanh).

--vocab is a JSON array of one-character strings in index order: vocab[i] is
the character of one-hot input i and of output i, as the model was trained.

The output holds the weights as float32 under RNN Lab's names and the metadata
an RNN Lab checkpoint needs: "format" ("rnn-lab/1"), "config" ({"model":
{cell, activation, hidden, layers, vocabSize}}; training settings take their
defaults) and "vocab". It has no "train_state": RNN Lab evaluates it, samples
from it and continues training it (from step 0, with fresh optimizer state).
"""
import argparse
import json
import os
import struct
import sys

import torch

FORMAT = "rnn-lab/1"
GATES = {4: "lstm", 3: "gru", 1: "rnn"}
SAFETENSORS_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def fail(message):
    raise SystemExit(f"from_pytorch: {message}")


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            fail(f"{path}: safetensors header of {n} bytes is implausible")
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    header.pop("__metadata__", None)
    tensors = {}
    for name, t in header.items():
        dtype = SAFETENSORS_DTYPES.get(t["dtype"])
        if dtype is None:
            fail(f"tensor {name} has dtype {t['dtype']}; expected a float type ({', '.join(SAFETENSORS_DTYPES)})")
        begin, end = t["data_offsets"]
        size = torch.finfo(dtype).bits // 8
        flat = torch.frombuffer(data, dtype=dtype, offset=begin, count=(end - begin) // size) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(t["shape"])
    return tensors


def read_state_dict(path):
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling problem is the same answer for the user
        fail(f"cannot load {path} as a state_dict ({str(e).splitlines()[0][:200]}); save it with torch.save(model.state_dict(), path)")
    # A training checkpoint often wraps the state_dict.
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
            break
    if not isinstance(loaded, dict) or not all(torch.is_tensor(v) for v in loaded.values()):
        fail(f"{path} does not hold a state_dict (a dict of tensors)")
    return dict(loaded)


def find_rnn_prefix(tensors):
    prefixes = sorted(k[: -len("weight_ih_l0")] for k in tensors if k.endswith("weight_ih_l0"))
    if len(prefixes) != 1:
        fail(f"expected one recurrent module (a tensor named <prefix>weight_ih_l0), found {len(prefixes)}: give --rnn-prefix")
    return prefixes[0]


def find_decoder_prefix(tensors, rnn_prefix, vocab_size, hidden):
    candidates = sorted(
        k[: -len("weight")]
        for k, v in tensors.items()
        if k.endswith("weight") and not k.startswith(rnn_prefix) and tuple(v.shape) == (vocab_size, hidden) and (k[: -len("weight")] + "bias") in tensors
    )
    if len(candidates) != 1:
        fail(f"expected one linear decoder of shape [{vocab_size}, {hidden}] with a bias, found {len(candidates)}: give --decoder-prefix")
    return candidates[0]


def convert(tensors, vocab, activation, rnn_prefix=None, decoder_prefix=None):
    """RNN Lab's tensors and config for a PyTorch state_dict."""
    rnn_prefix = find_rnn_prefix(tensors) if rnn_prefix is None else rnn_prefix
    W_hh = tensors.get(rnn_prefix + "weight_hh_l0")
    if W_hh is None or W_hh.dim() != 2:
        fail(f"{rnn_prefix}weight_hh_l0 is missing or not a matrix")
    hidden = W_hh.shape[1]
    cell = GATES.get(W_hh.shape[0] // hidden if W_hh.shape[0] % hidden == 0 else 0)
    if cell is None:
        fail(f"{rnn_prefix}weight_hh_l0 has shape {list(W_hh.shape)}: not an LSTM (4H rows), GRU (3H) or RNN (H)")
    layers = 0
    while rnn_prefix + f"weight_ih_l{layers}" in tensors:
        layers += 1
    if not 1 <= layers <= 4:
        fail(f"RNN Lab models have 1 to 4 layers; this one has {layers}")
    if any(k.startswith(rnn_prefix) and "_reverse" in k for k in tensors):
        fail("bidirectional recurrent layers cannot predict the next character: RNN Lab models are unidirectional")
    if not 1 <= hidden <= 4096:
        fail(f"RNN Lab models have 1 to 4096 hidden units; this one has {hidden}")
    V = len(vocab)
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    out = {}
    for k in range(layers):
        inputs = V if k == 0 else hidden
        for name, shape in (
            (f"weight_ih_l{k}", (gates * hidden, inputs)),
            (f"weight_hh_l{k}", (gates * hidden, hidden)),
            (f"bias_ih_l{k}", (gates * hidden,)),
            (f"bias_hh_l{k}", (gates * hidden,)),
        ):
            t = tensors.get(rnn_prefix + name)
            if t is None:
                fail(f"missing {rnn_prefix}{name} (RNN Lab's cells have both biases, as nn.{cell.upper()} with bias=True)")
            if tuple(t.shape) != shape:
                what = f"a vocabulary of {V}" if k == 0 and name.startswith("weight_ih") else f"hidden {hidden}"
                fail(f"{rnn_prefix}{name} has shape {list(t.shape)}, expected {list(shape)} for {what}")
            out["rnn." + name] = t
    decoder_prefix = find_decoder_prefix(tensors, rnn_prefix, V, hidden) if decoder_prefix is None else decoder_prefix
    for name, shape in (("weight", (V, hidden)), ("bias", (V,))):
        t = tensors.get(decoder_prefix + name)
        if t is None or tuple(t.shape) != shape:
            fail(f"{decoder_prefix}{name} must have shape {list(shape)} (vocabulary {V}, hidden {hidden})")
        out["decoder." + name] = t
    out = {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}
    for k, v in out.items():
        if not torch.isfinite(v).all():
            fail(f"{k} holds NaN or infinite values")
    if cell != "rnn" and activation not in (None, "tanh"):
        fail(f"--activation {activation} applies to a vanilla RNN; this is an {cell.upper()}")
    config = {"model": {"cell": cell, "activation": activation or "tanh", "hidden": hidden, "layers": layers, "vocabSize": V}}
    return out, config


def write_safetensors(path, tensors, metadata):
    entries, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        blob = t.numpy().astype("<f4", copy=False).tobytes()
        entries[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header = json.dumps(entries, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the data starts 8-byte aligned
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_vocab(path):
    try:
        with open(path, encoding="utf-8") as f:
            vocab = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read the vocabulary {path}: {str(e)[:200]}")
    if not isinstance(vocab, list) or not all(isinstance(c, str) and len(c) == 1 for c in vocab):
        fail(f"{path}: the vocabulary must be a JSON array of one-character strings, in index order")
    if len(set(vocab)) != len(vocab):
        fail(f"{path}: the vocabulary lists a character twice")
    return vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", help="a state_dict saved with torch.save (.pt, .pth, .bin) or a .safetensors file")
    ap.add_argument("--vocab", required=True, help="JSON array of the characters, in the model's index order")
    ap.add_argument("--activation", choices=["tanh", "relu", "sigmoid"], help="a vanilla RNN's nonlinearity (default: tanh, as nn.RNN)")
    ap.add_argument("--rnn-prefix", help="name prefix of the recurrent module's tensors, e.g. 'lstm.' (default: found)")
    ap.add_argument("--decoder-prefix", help="name prefix of the output layer's tensors, e.g. 'fc.' (default: found)")
    ap.add_argument("--name", help="a name for the model, shown in the extension's model list")
    ap.add_argument("--out", required=True, help="the RNN Lab checkpoint to write (.safetensors)")
    args = ap.parse_args()

    vocab = read_vocab(args.vocab)
    tensors, config = convert(read_state_dict(args.weights), vocab, args.activation, args.rnn_prefix, args.decoder_prefix)
    metadata = {"format": FORMAT, "config": json.dumps(config), "vocab": json.dumps(vocab, ensure_ascii=False)}
    if args.name:
        metadata["name"] = args.name[:200]
    write_safetensors(args.out, tensors, metadata)
    m = config["model"]
    print(f"wrote {args.out}: {m['layers']}-layer {m['cell'].upper()}, hidden {m['hidden']}, vocabulary {m['vocabSize']}", file=sys.stderr)


if __name__ == "__main__":
    main()
