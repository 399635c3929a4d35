"""Sequence weights: w_i = 1 / #{j : identity(i, j) >= 1 - theta} (j = i included).

Identity as in DeepSequence: identical non-gap residues shared with j, divided by the
number of non-gap residues of i. Computed by blocked matrix products of one-hot blocks
(block x block at a time, so memory is bounded by the block size, never n x n), on the
GPU when one is present. N_eff = sum of the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from genomicdl.io.alignment import GAP

Reader = Callable[[int, int], np.ndarray]


def _one_hot_block(codes: np.ndarray, device: torch.device) -> torch.Tensor:
    """(b, L) codes -> (b, L*20) float32 one-hot of residues; gaps are all zeros."""
    t = torch.as_tensor(codes.astype(np.int64), device=device)
    out = torch.zeros(t.shape[0], t.shape[1], GAP + 1, device=device)
    out.scatter_(2, t.unsqueeze(2), 1.0)
    return out[:, :, :GAP].reshape(t.shape[0], -1)


def sequence_weights(
    codes: np.ndarray | Reader,
    n: int | None = None,
    *,
    theta: float = 0.2,
    block: int = 2048,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Weights of every sequence of ``codes`` ((n, L) array, or a reader(start, stop))."""
    if isinstance(codes, np.ndarray):
        array = codes
        n = len(array)
        reader: Reader = lambda a, b: array[a:b]  # noqa: E731
    else:
        if n is None:
            raise ValueError("n is required with a reader")
        reader = codes
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    counts = torch.zeros(n, dtype=torch.float64, device=dev)
    for a, _, identity in identity_blocks(reader, n, block=block, device=dev):
        counts[a : a + len(identity)] += (identity >= 1.0 - theta - EPS).sum(1).double()
    return (1.0 / counts.clamp(min=1.0)).cpu().numpy().astype(np.float32)


#: Tolerance of the identity threshold (identities are ratios of float32 sums).
EPS = 1e-6


def identity_blocks(
    reader: Reader, n: int, *, block: int = 2048, device: torch.device
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """(a, b, identity) over blocks of rows a.. and columns b..: identity[i, j] = residues
    sequence a+i shares with sequence b+j / non-gap residues of a+i (DeepSequence's)."""
    for a in range(0, n, block):
        rows = _one_hot_block(reader(a, min(a + block, n)), device)
        length = rows.sum(1).clamp(min=1.0)
        for b in range(0, n, block):
            cols = _one_hot_block(reader(b, min(b + block, n)), device)
            yield a, b, (rows @ cols.T) / length[:, None]


def naive_weights(codes: np.ndarray, *, theta: float = 0.2) -> np.ndarray:
    """The same weights by a plain pairwise loop (reference for tests and the bench)."""
    n = len(codes)
    residue = codes != GAP
    counts = np.zeros(n)
    for i in range(n):
        length = max(int(residue[i].sum()), 1)
        for j in range(n):
            same = int(((codes[i] == codes[j]) & residue[i]).sum())
            if same / length >= 1.0 - theta - 1e-6:
                counts[i] += 1
    return (1.0 / np.maximum(counts, 1)).astype(np.float32)


def effective_number(weights: np.ndarray) -> float:
    """N_eff: the sum of the sequence weights."""
    return float(np.sum(weights))
