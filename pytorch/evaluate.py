"""Mean loss per character of a checkpoint on a text, as `rnn-lab eval` computes it.

    python evaluate.py --init model.safetensors --data test.txt

The text is read as one stream from a zero state in windows of 128
characters with the state carried between them (the recurrent families). A
gpt model scores a text that fits its context as one window; a longer one in
windows of the context, each starting half a context after the last, scoring
only the predictions no earlier window scored (so each prediction after the
first window sees between context/2 and context - 1 characters of history),
positions restarting at 0 in every window, as `rnn-lab eval` does. Characters the model does not know are not scored as targets and are
fed as the vocabulary's fallback (space, else index 0) as inputs. Prints one
JSON line: loss (nats/char), bpc (bits/char), chars (scored predictions).
"""
import argparse
import json
import math

import torch
import torch.nn.functional as F

from checkpoint_io import CheckpointError, read_checkpoint
from data import Vocab, read_text
from model import build_model, load_weights

CHUNK = 128


def gpt_eval_windows(n, context, stride):
    """(start, length, score_from) of each window over n predictions (RNN Lab's gptEvalWindows)."""
    if n <= 0:
        return []
    if n <= context:
        return [(0, n, 0)]
    out, scored = [(0, context, 0)], context
    while scored < n:
        end = min(scored + stride, n)
        out.append((end - context, context, scored))
        scored = end
    return out


def evaluate_windows(model, tokens, vocab, context):
    inputs = torch.where(tokens < 0, torch.full_like(tokens, vocab.fallback), tokens)
    total, scored = 0.0, 0
    with torch.no_grad():
        for start, length, score_from in gpt_eval_windows(len(tokens) - 1, context, max(1, context // 2)):
            x = inputs[start:start + length].unsqueeze(1)
            y = tokens[start + 1:start + length + 1]
            logits, _ = model(x, None)
            keep = (y >= 0) & (torch.arange(start, start + length) >= score_from)
            if keep.any():
                total += F.cross_entropy(logits[:, 0][keep], y[keep], reduction="sum").item()
                scored += int(keep.sum())
    loss = total / scored if scored else float("nan")
    return {"loss": loss, "bpc": loss / math.log(2), "chars": scored}


def evaluate(model, tokens, vocab, window):
    inputs = torch.where(tokens < 0, torch.full_like(tokens, vocab.fallback), tokens)
    predictions = len(tokens) - 1
    state = model.zero_state(1, torch.device("cpu"))
    total, scored = 0.0, 0
    with torch.no_grad():
        for start in range(0, max(predictions, 0), window):
            n = min(window, predictions - start)
            x = inputs[start:start + n].unsqueeze(1)
            y = tokens[start + 1:start + n + 1]
            logits, state = model(x, state)
            keep = y >= 0
            if keep.any():
                total += F.cross_entropy(logits[:, 0][keep], y[keep], reduction="sum").item()
                scored += int(keep.sum())
    loss = total / scored if scored else float("nan")
    return {"loss": loss, "bpc": loss / math.log(2), "chars": scored}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True)
    ap.add_argument("--data", required=True, nargs="+")
    args = ap.parse_args()
    try:
        tensors, meta = read_checkpoint(args.init)
    except (CheckpointError, OSError) as e:
        raise SystemExit(f"evaluate.py: {e}") from None
    vocab = Vocab(meta["vocab"])
    model = build_model(meta["config"], len(vocab))
    load_weights(model, tensors)
    model.eval()
    m = meta["config"]["model"]
    tokens = vocab.encode(read_text(args.data), strict=False)
    if m["cell"] == "gpt":
        result = evaluate_windows(model, tokens, vocab, int(m.get("context") or meta["config"]["train"]["seq"]))
    else:
        result = evaluate(model, tokens, vocab, CHUNK)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
