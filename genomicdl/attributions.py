"""Attributions of a trained network: in-silico mutagenesis and gradient x input.

Both explain one logit per sequence (the task it was chosen for). For double-stranded
models that average strands, the explained function is the strand-averaged logit, so
an attribution does not depend on which strand the sequence was read from.
Sequences are integer-coded (A C G T N = 0..4, as in the dataset store); attributions
are float32 arrays shaped like the one-hot input, (n, 4, length).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from genomicdl import sequence

# The three alternatives of each reference base (N positions are not mutated).
ALTERNATIVES = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2]], dtype=np.uint8)


def one_hot(codes: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(n, L) codes -> (n, 4, L) float32 one-hot tensor (N is all zeros)."""
    return torch.from_numpy(sequence.one_hot(np.asarray(codes)))


class StrandAveraged(nn.Module):
    """A network whose logits are averaged over a sequence and its reverse complement.

    The reverse complement of a one-hot (A, C, G, T) batch is a flip of both the
    channel and the position axis.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.model(x) + self.model(x.flip(1, 2))) / 2


def explained(model: nn.Module, rc_average: bool) -> nn.Module:
    """The function attributions explain: the network's logits, strand-averaged if asked."""
    model.eval()
    return StrandAveraged(model).eval() if rc_average else model


def mutants(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every single-base substitution of one sequence: (3m, L) codes with the positions
    and alternative bases of each, m being the number of non-N positions."""
    positions = np.flatnonzero(codes < 4)
    alts = ALTERNATIVES[codes[positions]].reshape(-1)
    pos = np.repeat(positions, 3)
    out = np.repeat(codes[None, :], len(pos), axis=0)
    out[np.arange(len(pos)), pos] = alts
    return out, pos, alts


@torch.inference_mode()
def task_logits(fn: nn.Module, codes: np.ndarray, tasks: np.ndarray, batch_size: int) -> np.ndarray:
    """The logit of task ``tasks[i]`` for each sequence ``codes[i]``, in batches."""
    out = np.empty(len(codes), dtype=np.float32)
    for lo in range(0, len(codes), batch_size):
        logits = fn(one_hot(codes[lo : lo + batch_size]))
        task = torch.tensor(tasks[lo : lo + batch_size], dtype=torch.long)
        out[lo : lo + len(logits)] = logits[torch.arange(len(logits)), task]
    return out


@torch.inference_mode()
def ism(fn: nn.Module, codes: np.ndarray, tasks: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """In-silico mutagenesis: (n, 4, L) logit changes of each sequence's task when each
    position is mutated to each of its three alternatives (0 at the reference base and
    at N positions). Mutants of several sequences share forward passes."""
    codes = np.asarray(codes, dtype=np.uint8)
    n, length = codes.shape
    out = np.zeros((n, 4, length), dtype=np.float32)
    ref = task_logits(fn, codes, tasks, batch_size)
    pending: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    size = 0

    def flush() -> None:
        batch = np.concatenate([m for _, m, _, _ in pending])
        task = np.concatenate([np.full(len(m), tasks[i]) for i, m, _, _ in pending])
        logits = task_logits(fn, batch, task, batch_size)
        lo = 0
        for i, m, pos, alt in pending:
            out[i, alt, pos] = logits[lo : lo + len(m)] - ref[i]
            lo += len(m)
        pending.clear()

    for i in range(n):
        m, pos, alt = mutants(codes[i])
        pending.append((i, m, pos, alt))
        size += len(m)
        if size >= batch_size:
            flush()
            size = 0
    if pending:
        flush()
    return out


def ism_contributions(deltas: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(n, 4, L) ISM changes -> contribution of each observed base: minus the mean change
    of its three alternatives, placed at the observed base (zero elsewhere)."""
    x = one_hot(codes).numpy()
    return x * (-deltas.sum(axis=1, keepdims=True) / 3)


def gradient_x_input(fn: nn.Module, codes: np.ndarray, tasks: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """(n, 4, L) gradient x input of each sequence's task logit. Gradients are first
    centred over the four bases at each position (Majdandzic et al. 2023), which removes
    the arbitrary off-simplex component of one-hot gradients."""
    codes = np.asarray(codes, dtype=np.uint8)
    out = np.empty((len(codes), 4, codes.shape[1]), dtype=np.float32)
    for lo in range(0, len(codes), batch_size):
        x = one_hot(codes[lo : lo + batch_size]).requires_grad_(True)
        task = torch.tensor(tasks[lo : lo + batch_size], dtype=torch.long)
        (grad,) = torch.autograd.grad(fn(x)[torch.arange(len(x)), task].sum(), x)
        grad = grad - grad.mean(dim=1, keepdim=True)
        out[lo : lo + len(x)] = (grad * x).detach().numpy()
    return out
