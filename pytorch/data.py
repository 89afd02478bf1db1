"""Text, vocabulary and batches exactly as RNN Lab makes them.

The training text is the files' UTF-8 contents concatenated (a leading BOM
dropped from each), one token per Unicode code point, indexed by the
checkpoint's vocabulary. The held-out tail (valFraction) is not trained on.
B contiguous streams: stream b reads from b·L (L = (n-1) // B), and window k
of an epoch covers [b·L + kT, b·L + (k+1)T) predicting the next character of
each; the hidden state carries from window to window and restarts at zero
with each epoch.
"""
import torch


def read_text(paths):
    parts = []
    for p in paths:
        with open(p, "rb") as f:
            raw = f.read()
        if not raw:
            raise SystemExit(f"{p} is empty: train on a file that contains text")
        if b"\0" in raw:
            raise SystemExit(f"{p} looks binary (a NUL byte at offset {raw.index(0)}): train on a text file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SystemExit(f"{p} is not valid UTF-8 text: convert it to UTF-8 first") from None
        parts.append(text[1:] if text.startswith("\ufeff") else text)
    return "".join(parts)


class Vocab:
    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.fallback = self.index.get(" ", 0)

    def __len__(self):
        return len(self.chars)

    def encode(self, text, strict=True):
        """Tokens of `text`; unknown characters are refused (strict) or marked -1."""
        unknown = sorted({c for c in set(text) if c not in self.index})
        if unknown and strict:
            shown = ", ".join(repr(c) for c in unknown[:10])
            raise SystemExit(
                f"the text has characters the model does not know ({shown}): "
                "a model can only continue training on characters of its vocabulary"
            )
        return torch.tensor([self.index.get(c, -1) for c in text], dtype=torch.long)

    def decode(self, tokens):
        return "".join(self.chars[int(t)] for t in tokens)


def split(tokens, val_fraction):
    n_val = int(len(tokens) * val_fraction)
    return tokens[: len(tokens) - n_val], tokens[len(tokens) - n_val :]


def hash_tokens(tokens):
    """FNV-1a over the tokens, as RNN Lab identifies its training data (same data: resume mid-epoch)."""
    h = 0x811C9DC5
    for t in tokens.tolist():
        h = ((h ^ t) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}:{len(tokens)}"


class Streams:
    """The windows of B contiguous streams; `rows` picks this process's streams (a slice of range(B))."""

    def __init__(self, tokens, batch, seq, rows=None):
        self.tokens, self.batch, self.seq = tokens, batch, seq
        self.stream_length = (len(tokens) - 1) // batch
        self.steps_per_epoch = self.stream_length // seq
        if self.steps_per_epoch < 1:
            raise SystemExit(
                f"the training text has {len(tokens)} characters but one batch needs at least {batch * seq + 1} "
                f"(batch {batch} x sequence {seq} + 1): use a longer text or lower --batch"
            )
        rows = range(batch) if rows is None else rows
        self.starts = torch.tensor([b * self.stream_length for b in rows], dtype=torch.long)
        self.offsets = torch.arange(seq, dtype=torch.long)

    def window(self, position):
        """Inputs and targets [T, B_local] of window `position` of the epoch."""
        idx = self.starts.unsqueeze(0) + position * self.seq + self.offsets.unsqueeze(1)
        return self.tokens[idx], self.tokens[idx + 1]
