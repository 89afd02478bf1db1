"""RNN Lab's six model families as plain torch.nn modules.

The parameter names are exactly RNN Lab's (PyTorch's own for the cells,
nanoGPT's for the block models), so a checkpoint's tensors load with
`load_state_dict(strict=True)`. Every model takes tokens laid out [T, B]
(time first, as RNN Lab batches them) and the state carried from the previous
window, and returns logits [T, B, V] and the new state.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

CELLS = ("rnn", "lstm", "gru")
BLOCKS = ("gpt", "mingru", "minlstm")


class SigmoidRNN(nn.Module):
    """nn.RNN's parameters and equations with a logistic nonlinearity, which nn.RNN lacks."""

    def __init__(self, input_size, hidden, layers, dropout):
        super().__init__()
        self.hidden, self.layers, self.dropout = hidden, layers, dropout
        bound = 1 / math.sqrt(hidden)
        for k in range(layers):
            n_in = input_size if k == 0 else hidden
            for name, shape in (("weight_ih", (hidden, n_in)), ("weight_hh", (hidden, hidden)), ("bias_ih", (hidden,)), ("bias_hh", (hidden,))):
                setattr(self, f"{name}_l{k}", nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def forward(self, x, h0):
        outputs = x
        finals = []
        for k in range(self.layers):
            w_ih, w_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
            pre = outputs @ w_ih.t() + getattr(self, f"bias_ih_l{k}") + getattr(self, f"bias_hh_l{k}")
            h = h0[k]
            steps = []
            for t in range(pre.shape[0]):
                h = torch.sigmoid(pre[t] + h @ w_hh.t())
                steps.append(h)
            outputs = torch.stack(steps)
            finals.append(h)
            if self.training and self.dropout > 0 and k < self.layers - 1:
                outputs = F.dropout(outputs, self.dropout)
        return outputs, torch.stack(finals)


class CellLM(nn.Module):
    """A stacked RNN, LSTM or GRU on one-hot input with a linear decoder (RNN Lab's cells)."""

    def __init__(self, vocab_size, hidden, layers, cell, activation="tanh", dropout=0.0):
        super().__init__()
        self.vocab_size, self.hidden, self.layers, self.cell = vocab_size, hidden, layers, cell
        if cell == "lstm":
            self.rnn = nn.LSTM(vocab_size, hidden, layers, dropout=dropout)
        elif cell == "gru":
            self.rnn = nn.GRU(vocab_size, hidden, layers, dropout=dropout)
        elif activation in ("tanh", "relu"):
            self.rnn = nn.RNN(vocab_size, hidden, layers, nonlinearity=activation, dropout=dropout)
        else:
            self.rnn = SigmoidRNN(vocab_size, hidden, layers, dropout)
        self.decoder = nn.Linear(hidden, vocab_size)

    def zero_state(self, batch, device):
        h = torch.zeros(self.layers, batch, self.hidden, device=device)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def forward(self, tokens, state):
        x = F.one_hot(tokens, self.vocab_size).to(self.decoder.weight.dtype)
        out, state = self.rnn(x, state)
        return self.decoder(out), state

    # Carried state <-> RNN Lab's `train.h_l{k}` / `train.c_l{k}` tensors, [B, H] each.
    def state_tensors(self, state):
        hs, cs = state if self.cell == "lstm" else (state, None)
        named = {f"train.h_l{k}": hs[k] for k in range(self.layers)}
        if cs is not None:
            named.update({f"train.c_l{k}": cs[k] for k in range(self.layers)})
        return named

    def state_from_tensors(self, named, batch, device):
        state = self.zero_state(batch, device)
        hs, cs = state if self.cell == "lstm" else (state, None)
        for k in range(self.layers):
            for prefix, buf in (("h", hs), ("c", cs)):
                t = named.get(f"train.{prefix}_l{k}") if buf is not None else None
                if t is not None and tuple(t.shape) == (batch, self.hidden):
                    buf[k].copy_(t)
        return state


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention (bias=True): c_attn to q, k, v; causal softmax per head; c_proj."""

    def __init__(self, width, heads, context, dropout):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.dropout = dropout
        self.register_buffer("bias", torch.tril(torch.ones(context, context)).view(1, 1, context, context), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (a.view(B, T, self.heads, C // self.heads).transpose(1, 2) for a in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            y = self.attn_dropout(F.softmax(att, dim=-1)) @ v
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))


def log_g(a):
    """log g(a) for g(a) = a + 1/2 (a >= 0), sigmoid(a) (a < 0): minGRU's positive candidate."""
    return torch.where(a >= 0, torch.log(F.relu(a) + 0.5), -F.softplus(-a))


def scan(log_coeffs, log_values, h0):
    """h_t = exp(log_coeffs_t) h_{t-1} + exp(log_values_t) for all t at once, in log space (Heinsen's scan).

    h0 (>= 0, no gradient: the carried state is detached) enters as exp(a*_t) h0.
    """
    a_star = torch.cumsum(log_coeffs, dim=1)
    return torch.exp(a_star) * h0.unsqueeze(1) + torch.exp(a_star + torch.logcumsumexp(log_values - a_star, dim=1))


class MinGRU(nn.Module):
    """[a_z; a_h] = to_gates(u); h_t = (1 - z) h_{t-1} + z g(a_h), z = sigmoid(a_z)."""

    def __init__(self, width, dropout):
        super().__init__()
        self.to_gates = nn.Linear(width, 2 * width)
        self.drop = nn.Dropout(dropout)

    def forward(self, u, h0):
        a_z, a_h = self.to_gates(u).chunk(2, dim=-1)
        h = scan(-F.softplus(a_z), -F.softplus(-a_z) + log_g(a_h), h0)
        return self.drop(h), h[:, -1]


class MinLSTM(nn.Module):
    """[a_f; a_i; a_h] = to_gates(u); h_t = (f h_{t-1} + i g(a_h)) / (f + i)."""

    def __init__(self, width, dropout):
        super().__init__()
        self.to_gates = nn.Linear(width, 3 * width)
        self.drop = nn.Dropout(dropout)

    def forward(self, u, h0):
        a_f, a_i, a_h = self.to_gates(u).chunk(3, dim=-1)
        diff = F.softplus(-a_f) - F.softplus(-a_i)
        h = scan(-F.softplus(diff), -F.softplus(-diff) + log_g(a_h), h0)
        return self.drop(h), h[:, -1]


class MLP(nn.Module):
    def __init__(self, width, dropout):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, family, width, heads, context, dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        if family == "gpt":
            self.attn = CausalSelfAttention(width, heads, context, dropout)
        else:
            self.mix = (MinGRU if family == "mingru" else MinLSTM)(width, dropout)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = MLP(width, dropout)

    def forward(self, x, h0):
        if hasattr(self, "attn"):
            x = x + self.attn(self.ln_1(x))
            h = None
        else:
            y, h = self.mix(self.ln_1(x), h0)
            x = x + y
        return x + self.mlp(self.ln_2(x)), h


class BlockLM(nn.Module):
    """nanoGPT's GPT (bias=True, tied decoder); for mingru/minlstm the attention is replaced by the mixer."""

    def __init__(self, vocab_size, width, layers, family, heads=1, context=0, dropout=0.0):
        super().__init__()
        self.family, self.width, self.layers = family, width, layers
        parts = dict(
            wte=nn.Embedding(vocab_size, width),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block(family, width, heads, context, dropout) for _ in range(layers)]),
            ln_f=nn.LayerNorm(width),
        )
        if family == "gpt":
            parts["wpe"] = nn.Embedding(context, width)
        self.transformer = nn.ModuleDict(parts)
        self.lm_head = nn.Linear(width, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def zero_state(self, batch, device):
        if self.family == "gpt":
            return None
        return torch.zeros(self.layers, batch, self.width, device=device)

    def forward(self, tokens, state):
        idx = tokens.t()  # [B, T]
        x = self.transformer.wte(idx)
        if self.family == "gpt":
            x = x + self.transformer.wpe(torch.arange(idx.shape[1], device=idx.device))
        x = self.transformer.drop(x)
        finals = []
        for i, block in enumerate(self.transformer.h):
            x, h = block(x, None if state is None else state[i])
            finals.append(h)
        logits = self.lm_head(self.transformer.ln_f(x)).transpose(0, 1)  # [T, B, V]
        return logits, (None if state is None else torch.stack(finals))

    def state_tensors(self, state):
        return {} if state is None else {f"train.h_b{i}": state[i] for i in range(self.layers)}

    def state_from_tensors(self, named, batch, device):
        state = self.zero_state(batch, device)
        if state is not None:
            for i in range(self.layers):
                t = named.get(f"train.h_b{i}")
                if t is not None and tuple(t.shape) == (batch, self.width):
                    state[i].copy_(t)
        return state


def build_model(config, vocab_size):
    """The module for a checkpoint's `config.model` (and the dropout of `config.train`)."""
    m, tr = config["model"], config.get("train", {})
    family = m["cell"]
    dropout = float(tr.get("dropout", 0))
    if family in CELLS:
        return CellLM(vocab_size, m["hidden"], m["layers"], family, m.get("activation", "tanh"), dropout)
    if family in BLOCKS:
        return BlockLM(vocab_size, m["hidden"], m["layers"], family, int(m.get("heads", 1)), int(m.get("context", tr.get("seq", 0))), dropout)
    raise ValueError(f"unknown model family {family!r}")


def model_state_dict(tensors):
    """The model's own tensors of a checkpoint (optimizer moments and carried state are for resuming)."""
    return {k: v for k, v in tensors.items() if not k.startswith(("optim.", "train."))}


def load_weights(model, tensors):
    sd = model_state_dict(tensors)
    if isinstance(model, BlockLM):
        sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied: a loader reads wte
    model.load_state_dict(sd, strict=True)
