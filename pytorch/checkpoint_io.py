"""Reads and writes RNN Lab checkpoints: safetensors files in the `rnn-lab/1` format.

Uses the `safetensors` package when it is installed and a small built-in
reader/writer otherwise (the format is 8 bytes of header length, a JSON
header, then raw little-endian float32 data). Either way the file is checked
like RNN Lab checks it: bounded header, offsets inside the file, float32 only.
"""
import json
import os
import struct
import tempfile

import torch

FORMAT = "rnn-lab/1"
MAX_HEADER = 100 * 1024 * 1024

try:  # optional: faster, and the reference implementation of the format
    from safetensors.torch import load_file as _st_load, save_file as _st_save
    from safetensors import safe_open as _st_open
except ImportError:  # pragma: no cover - exercised where safetensors is absent
    _st_load = _st_save = _st_open = None


class CheckpointError(Exception):
    """A file that is not a usable RNN Lab checkpoint; the message says why."""


def _read_builtin(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise CheckpointError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", raw)
        if n > MAX_HEADER:
            raise CheckpointError(f"{path}: header of {n} bytes is larger than the {MAX_HEADER}-byte limit")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise CheckpointError(f"{path}: header is not valid JSON ({e})") from None
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, t in header.items():
        if t.get("dtype") != "F32":
            raise CheckpointError(f"{path}: tensor {name[:80]} is {str(t.get('dtype'))[:20]}, RNN Lab writes only F32")
        begin, end = t["data_offsets"]
        shape = [int(d) for d in t["shape"]]
        count = 1
        for d in shape:
            count *= d
        if not (0 <= begin <= end <= len(data)) or end - begin != 4 * count:
            raise CheckpointError(f"{path}: tensor {name[:80]} points outside the file or has the wrong size")
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32) if count else torch.zeros(0)
        tensors[name] = flat.reshape(shape)
    return tensors, meta


def read_checkpoint(path):
    """Returns (tensors, metadata) with the metadata's JSON fields parsed."""
    if _st_load is not None:
        tensors = _st_load(path)
        with _st_open(path, framework="pt") as f:
            meta = f.metadata() or {}
    else:
        tensors, meta = _read_builtin(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an RNN Lab checkpoint (format {str(meta.get('format'))[:40]!r}, expected {FORMAT!r})")
    try:
        config = json.loads(meta["config"])
        vocab = json.loads(meta["vocab"])
        train_state = json.loads(meta["train_state"]) if "train_state" in meta else None
    except (KeyError, ValueError) as e:
        raise CheckpointError(f"{path}: metadata field {e} is missing or not JSON") from None
    extra = {k: v for k, v in meta.items() if k not in ("format", "config", "vocab", "train_state")}
    return tensors, {"config": config, "vocab": vocab, "train_state": train_state, "extra": extra}


def _write_builtin(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        b = t.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_checkpoint(path, tensors, config, vocab, train_state, extra=None):
    """Writes atomically (temp file, then rename) so a crash never leaves half a checkpoint."""
    metadata = dict(extra or {})
    metadata.update(
        format=FORMAT,
        config=json.dumps(config),
        vocab=json.dumps(vocab, ensure_ascii=False),
        train_state=json.dumps(train_state),
    )
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in tensors.items()}
    if os.path.lexists(path) and not os.path.isfile(path):
        raise CheckpointError(f"{path} exists and is not a regular file: choose another --out")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".tmp-")
    os.close(fd)
    try:
        if _st_save is not None:
            _st_save(tensors, tmp, metadata=metadata)
        else:
            _write_builtin(tmp, tensors, metadata)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
