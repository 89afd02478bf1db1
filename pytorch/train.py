"""Continue an RNN Lab run in PyTorch, on one process or many (torchrun).

    python train.py --init model.safetensors --data input.txt --steps 1000
    torchrun --nproc_per_node=4 train.py --init model.safetensors --data input.txt --steps 1000

Every omitted setting comes from the checkpoint; --steps counts further
steps, as `rnn-lab train --init` does. Under torchrun each of N processes
takes B/N of the B streams and DistributedDataParallel averages the
gradients, so N processes follow the run one RNN Lab process with batch B
would. Only rank 0 writes checkpoints (rnn-lab/1, loadable by RNN Lab).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

from checkpoint_io import CheckpointError, read_checkpoint, write_checkpoint
from data import Streams, Vocab, hash_tokens, read_text, split
from model import BLOCKS, build_model, load_weights

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
EXIT_DIVERGED = 3


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", required=True, help="the rnn-lab/1 checkpoint to continue from")
    ap.add_argument("--data", required=True, nargs="+", help="UTF-8 text file(s), concatenated in order")
    ap.add_argument("--steps", type=int, default=100, help="further updates to apply (default 100)")
    ap.add_argument("--batch", type=int, help="streams B over all processes (default: the checkpoint's)")
    ap.add_argument("--seq", type=int, help="window length T (default: the checkpoint's)")
    ap.add_argument("--lr", type=float, help="peak learning rate (default: the checkpoint's)")
    ap.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the checkpoint's")
    ap.add_argument("--momentum", type=float)
    ap.add_argument("--weight-decay", type=float)
    ap.add_argument("--clip", type=float, help="global gradient-norm clipping, 0 = off (default: the checkpoint's)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--save-every", type=int, default=0, help="also save every K steps (default: only at the end)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--out", default="out.safetensors", help="where to write the checkpoint")
    args = ap.parse_args(argv)
    if args.steps < 0:
        ap.error("--steps must be at least 0")
    return args


def learning_rate(c, step):
    """RNN Lab's schedule: linear warm-up, then constant, linear or cosine decay to lrMinFraction·lr."""
    lr, warm, decay = c["lr"], c.get("warmupSteps", 0), c.get("decaySteps", 0)
    if step < warm:
        return lr * (step + 1) / warm
    if c.get("schedule", "constant") == "constant" or decay <= warm:
        return lr
    progress = min(1.0, (step - warm) / (decay - warm))
    floor = lr * c.get("lrMinFraction", 0)
    shape = 1 - progress if c["schedule"] == "linear" else 0.5 * (1 + math.cos(math.pi * progress))
    return floor + (lr - floor) * shape


def slot_names(optimizer, momentum):
    """Optimizer state tensors as torch names them (and RNN Lab saves them: optim.<slot>.<param>)."""
    return {
        "sgd": ["momentum_buffer"] if momentum > 0 else [],
        "adagrad": ["sum"],
        "rmsprop": ["square_avg", "momentum_buffer"] if momentum > 0 else ["square_avg"],
        "adam": ["exp_avg", "exp_avg_sq"],
        "adamw": ["exp_avg", "exp_avg_sq"],
    }[optimizer]


def make_optimizer(model, c, family):
    named = list(model.named_parameters())
    if family in BLOCKS:
        # nanoGPT: weight decay on matrices and embeddings only, never on biases or LayerNorm.
        groups = [
            {"params": [p for _, p in named if p.dim() >= 2], "weight_decay": c["weightDecay"]},
            {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0},
        ]
    else:
        groups = [{"params": [p for _, p in named], "weight_decay": c["weightDecay"]}]
    name = c["optimizer"]
    lr = c["lr"]
    if name == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=c["momentum"])
    elif name == "adagrad":
        opt = torch.optim.Adagrad(groups, lr=lr, eps=c["eps"])
    elif name == "rmsprop":
        opt = torch.optim.RMSprop(groups, lr=lr, alpha=0.99, eps=c["eps"], momentum=c["momentum"])
    else:
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        opt = cls(groups, lr=lr, betas=(c["beta1"], c["beta2"]), eps=c["eps"])
    return opt, named


def restore_optimizer(opt, named, tensors, c, step, device):
    """Puts RNN Lab's saved moments (zeros where absent) and step count into torch's optimizer state."""
    slots = slot_names(c["optimizer"], c["momentum"])
    if step == 0 and not any(f"optim.{s}.{n}" in tensors for s in slots for n, _ in named):
        return
    for n, p in named:
        state = {}
        for s in slots:
            saved = tensors.get(f"optim.{s}.{n}")
            state[s] = saved.to(device).clone() if saved is not None and saved.shape == p.shape else torch.zeros_like(p)
        if c["optimizer"] in ("adam", "adamw", "adagrad"):
            state["step"] = torch.tensor(float(step))
        elif c["optimizer"] == "rmsprop":
            state["step"] = step
        opt.state[p] = state


def gather_state(named_state, world):
    """The carried state of all B streams: each rank holds its slice of the batch dimension."""
    if world == 1:
        return named_state
    out = {}
    for k, t in named_state.items():
        parts = [torch.empty_like(t) for _ in range(world)]
        dist.all_gather(parts, t.contiguous())
        out[k] = torch.cat(parts, dim=0)
    return out


def main(argv=None):
    args = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is available here; use --device cpu")
        torch.cuda.set_device(local_rank)
    device = torch.device(args.device, local_rank) if args.device == "cuda" else torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if args.device == "cuda" else "gloo")
    log = print if rank == 0 else (lambda *a, **k: None)

    try:
        tensors, meta = read_checkpoint(args.init)
    except (CheckpointError, OSError) as e:
        raise SystemExit(f"train.py: {e}") from None
    config = meta["config"]
    c = dict(config["train"])
    for key, value in (("batch", args.batch), ("seq", args.seq), ("lr", args.lr), ("optimizer", args.optimizer),
                       ("momentum", args.momentum), ("weightDecay", args.weight_decay), ("clip", args.clip)):
        if value is not None:
            c[key] = value
    family = config["model"]["cell"]
    B, T = c["batch"], c["seq"]
    if B % world:
        raise SystemExit(f"--batch {B} does not split over {world} processes: use a multiple of {world}")
    if family == "gpt" and T > int(config["model"].get("context", T)):
        raise SystemExit(f"--seq {T} is longer than the model's context of {config['model']['context']}")

    vocab = Vocab(meta["vocab"])
    tokens, _ = split(vocab.encode(read_text(args.data)), c["valFraction"])
    per_rank = B // world
    streams = Streams(tokens, B, T, rows=range(rank * per_rank, (rank + 1) * per_rank))
    data_hash = hash_tokens(tokens)

    model = build_model({"model": config["model"], "train": c}, len(vocab)).to(device)
    load_weights(model, tensors)
    model.train()
    opt, named = make_optimizer(model, c, family)

    ts = meta["train_state"] or {"step": 0, "epoch": 0, "position": 0, "rng": [1, 2, 3, 4], "charsSeen": 0}
    step, epoch, chars = ts["step"], ts["epoch"], ts["charsSeen"]
    restore_optimizer(opt, named, tensors, c, step, device)
    # A new batch or window length lays the streams out anew: the epoch restarts from a zero state, as in RNN Lab.
    same_layout = B == config["train"]["batch"] and T == config["train"]["seq"]
    same_data = same_layout and ts.get("dataHash") == data_hash and ts["position"] < streams.steps_per_epoch
    position = ts["position"] if same_data else 0
    if same_data:
        full = {k: v for k, v in tensors.items() if k.startswith("train.")}
        local = {k: v[rank * per_rank:(rank + 1) * per_rank] for k, v in full.items() if v.dim() == 2 and v.shape[0] == B}
        state = model.state_from_tensors(local, per_rank, device)
    else:
        state = model.zero_state(per_rank, device)

    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if args.device == "cuda" else None)

    def save(path):
        named_state = {k: v.detach() for k, v in model.state_tensors(state).items()}
        full_state = gather_state(named_state, world)
        if rank != 0:
            return
        out = {k: v for k, v in model.state_dict().items()}
        slots = slot_names(c["optimizer"], c["momentum"])
        for n, p in named:
            st = opt.state.get(p, {})
            for s in slots:
                out[f"optim.{s}.{n}"] = st[s] if s in st else torch.zeros_like(p)
        out.update(full_state)
        train_state = {"step": step, "epoch": epoch, "position": position, "rng": ts["rng"], "dataHash": data_hash, "charsSeen": chars}
        write_checkpoint(path, out, {"model": config["model"], "train": c}, vocab.chars, train_state, meta["extra"])
        log(json.dumps({"event": "checkpoint", "step": step, "path": path}))

    log(json.dumps({"event": "start", "family": family, "world": world, "device": str(device), "step": step,
                    "batch": B, "seq": T, "optimizer": c["optimizer"], "stepsPerEpoch": streams.steps_per_epoch}))
    t0 = time.time()
    for done in range(1, args.steps + 1):
        x, y = streams.window(position)
        logits, new_state = net(x.to(device), state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        params = [p for _, p in named]
        if c["clip"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, c["clip"])
        else:
            norm = torch.norm(torch.stack([p.grad.norm() for p in params]))
        mean_loss = loss.detach().clone()
        if world > 1:
            dist.all_reduce(mean_loss)
            mean_loss /= world
        if not (math.isfinite(mean_loss.item()) and math.isfinite(norm.item())):
            log(f"train.py: training diverged at step {step + 1} (loss {mean_loss.item()}, gradient norm {norm.item()}); "
                "nothing of this step was saved: lower the learning rate or set --clip")
            sys.exit(EXIT_DIVERGED)
        lr = learning_rate(c, step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        state = None if new_state is None else (tuple(s.detach() for s in new_state) if isinstance(new_state, tuple) else new_state.detach())
        step += 1
        position += 1
        chars += B * T
        if position >= streams.steps_per_epoch:
            position, epoch = 0, epoch + 1
            state = model.zero_state(per_rank, device)
        if args.log_every and (done % args.log_every == 0 or done == args.steps):
            elapsed = time.time() - t0
            log(json.dumps({"event": "step", "step": step, "loss": round(mean_loss.item(), 6), "lr": lr,
                            "gradNorm": round(norm.item(), 6), "charsPerSec": round(done * B * T / max(elapsed, 1e-9))}))
        if args.save_every and done % args.save_every == 0 and done < args.steps:
            save(args.out)
    save(args.out)
    if world > 1:
        # Every rank waits for rank 0's write before the group goes: destroying it
        # while a peer is still busy can hang (pytorch/pytorch#75097).
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
