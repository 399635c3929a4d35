"""Attributions of a trained network: in-silico mutagenesis, gradient x input and
DeepLIFT/DeepSHAP (tangermeme, against dinucleotide-shuffled references).

All explain one logit per sequence (the task it was chosen for). For double-stranded
models that average strands, the explained function is the strand-averaged logit, so
an attribution does not depend on which strand the sequence was read from.
Sequences are integer-coded (A C G T N = 0..4, as in the dataset store); attributions
are float32 arrays shaped like the one-hot input, (n, 4, length).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from genomicdl.core import sequence
from genomicdl.models.networks.layers import GlobalMaxPool

#: Attribution methods by config name (interpret.seqlets.attribution, predict.contribution_method).
METHODS = ("ism", "gradient_x_input", "deep_lift_shap")

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


def ism_hypothetical(deltas: np.ndarray) -> np.ndarray:
    """(n, 4, L) ISM changes -> hypothetical contributions: each base's change centred
    over the four bases of its position."""
    return deltas - deltas.mean(axis=1, keepdims=True)


def gradient_x_input(
    fn: nn.Module, codes: np.ndarray, tasks: np.ndarray, batch_size: int = 256, hypothetical: bool = False
) -> np.ndarray:
    """(n, 4, L) gradient x input of each sequence's task logit. Gradients are first
    centred over the four bases at each position (Majdandzic et al. 2023), which removes
    the arbitrary off-simplex component of one-hot gradients. With ``hypothetical``, the
    centred gradients themselves (the contribution each base would have)."""
    codes = np.asarray(codes, dtype=np.uint8)
    out = np.empty((len(codes), 4, codes.shape[1]), dtype=np.float32)
    for lo in range(0, len(codes), batch_size):
        x = one_hot(codes[lo : lo + batch_size]).requires_grad_(True)
        task = torch.tensor(tasks[lo : lo + batch_size], dtype=torch.long)
        (grad,) = torch.autograd.grad(fn(x)[torch.arange(len(x)), task].sum(), x)
        grad = grad - grad.mean(dim=1, keepdim=True)
        out[lo : lo + len(x)] = (grad if hypothetical else grad * x).detach().numpy()
    return out


# ------------------------------------------------------------------ DeepLIFT/DeepSHAP


def _global_max_rule(module: nn.Module, grad_input: tuple, grad_output: tuple) -> tuple[torch.Tensor]:
    """DeepLIFT rescale rule of a global max over positions (the rule of max pooling
    with one window spanning the sequence): the change of each channel's maximum is
    routed to the positions that won it in the input and in the reference, then divided
    by their change. tangermeme calls it with the input and reference batches stacked."""
    with torch.no_grad():
        x, r = module.input.chunk(2)
        out, out_ref = module.output.chunk(2)
        top = torch.maximum(out, out_ref)
        gx, gr = grad_output[0].chunk(2)
        routed = torch.zeros_like(x)
        routed.scatter_add_(2, x.argmax(2, keepdim=True), (gx * (top - out_ref))[..., None])
        routed.scatter_add_(2, r.argmax(2, keepdim=True), (gr * (out - top))[..., None])
        delta = x - r
        still = delta == 0
        half = torch.where(still, grad_input[0].chunk(2)[0], routed / delta.masked_fill(still, 1))
    return (torch.cat([half, half]),)


#: Modules of the zoo that tangermeme's built-in rules do not cover, with their DeepLIFT rule.
RULES = {GlobalMaxPool: _global_max_rule}


def shuffled_references(codes: np.ndarray, n: int, seeds: Sequence[int]) -> torch.Tensor:
    """(len(codes), n, 4, L) dinucleotide shuffles (tangermeme's; N kept as its own letter),
    sequence i shuffled with ``seeds[i]`` (modulo 2^31 - 1), so that batching does not change them."""
    from tangermeme.ersatz import dinucleotide_shuffle

    seeds = [int(s) % (2**31 - 1) for s in seeds]
    return dinucleotide_shuffle(one_hot(codes), n=n, random_state=seeds, allow_N=True).float()


def deep_lift_shap(
    fn: nn.Module,
    codes: np.ndarray,
    tasks: np.ndarray,
    n_shuffles: int = 20,
    seed: int = 0,
    batch_size: int = 256,
    hypothetical: bool = False,
) -> np.ndarray:
    """(n, 4, L) DeepLIFT/DeepSHAP contributions of each sequence's task logit (tangermeme's
    deep_lift_shap), averaged over ``n_shuffles`` dinucleotide-shuffled references; with
    ``hypothetical``, the contribution every base would have at each position (what
    TF-MoDISco takes). ``batch_size`` counts sequence-reference pairs. Sequences are
    processed a chunk at a time, so memory does not grow with their number; sequence i's
    references are drawn with seed ``seed + i``."""
    import warnings

    from tangermeme.deep_lift_shap import deep_lift_shap as tm_deep_lift_shap

    codes = np.asarray(codes, dtype=np.uint8)
    tasks = np.asarray(tasks, dtype=np.int64)
    out = np.empty((len(codes), 4, codes.shape[1]), dtype=np.float32)
    chunk = max(1, batch_size // n_shuffles) * 8
    fn.eval()
    for task in np.unique(tasks):
        idx = np.flatnonzero(tasks == task)
        for lo in range(0, len(idx), chunk):
            part = idx[lo : lo + chunk]
            refs = shuffled_references(codes[part], n_shuffles, [int(seed) + int(i) for i in part])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence deltas: see convergence() and the tests
                attr = tm_deep_lift_shap(
                    fn,
                    one_hot(codes[part]),
                    target=int(task),
                    references=refs,
                    batch_size=batch_size,
                    hypothetical=hypothetical,
                    additional_nonlinear_ops=RULES,
                    device="cpu",
                )
            out[part] = attr.detach().numpy()
    return out


class TrackScores(nn.Module):
    """A signal or classification network reduced to one score per track, the function
    contribution tracks explain: the log of the total over bins (``logsumexp``, for
    count models whose outputs are log rates) or the sum over bins."""

    def __init__(self, model: nn.Module, tracks: int, bins: int, logsumexp: bool) -> None:
        super().__init__()
        self.model, self.tracks, self.bins, self.logsumexp = model, tracks, bins, logsumexp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x).float().reshape(len(x), self.tracks, self.bins)
        return torch.logsumexp(out, -1) if self.logsumexp else out.sum(-1)


def track_contributions(fn: nn.Module, codes: np.ndarray, tracks: int, method: str, shuffles: int = 20, seed: int = 0):
    """(n, tracks, L) contribution of the observed base at each position to each track's
    score of ``fn`` ((n, tracks) scores), by ``method`` (one of METHODS)."""
    codes = np.asarray(codes, dtype=np.uint8)
    out = np.empty((len(codes), tracks, codes.shape[1]), dtype=np.float32)
    for t in range(tracks):
        task = np.full(len(codes), t)
        if method == "deep_lift_shap":
            a = deep_lift_shap(fn, codes, task, shuffles, seed)
        elif method == "ism":
            a = ism_contributions(ism(fn, codes, task), codes)
        elif method == "gradient_x_input":
            a = gradient_x_input(fn, codes, task)
        else:
            raise ValueError(f"unknown attribution method {method!r}; known: {', '.join(METHODS)}")
        out[:, t] = a.sum(axis=1)
    return out
