"""A convolution stack with a dense head over positions, optionally beside a linear model
of k-mer counts: a declared hybrid of a CNN and the k-mer regression it is compared with.

The convolutional part follows Optimus 5' (Sample et al. 2019, Nat Biotechnol 37, 803-809):
a few convolutions of width ~8 over short untranslated regions, a dense layer that
sees where each feature sits. ``kmer`` > 0 adds a linear map of the sequence's k-mer
frequencies (computed from the one-hot input inside the network, unknown letters and padding
skipped), summed with the CNN's output and trained with it, so the network learns what
the k-mer counts leave over. Registered twice: ``conv_dense`` (the pure CNN, ``kmer: 0``)
and ``conv_kmer`` (the hybrid, 6-mers by default), so one benchmark reports both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, as_tuple, conv_block, mlp, run_masked


def kmer_counts(x: torch.Tensor, k: int) -> torch.Tensor:
    """(batch, channels, L) one-hot -> (batch, channels**k) counts of the k-mers whose
    every position holds a letter (all-zero columns: unknown letter or padding)."""
    n, size, width = x.shape
    if width < k:
        return x.new_zeros(n, size**k)
    code = x.argmax(dim=1)  # (n, L)
    known = x.sum(dim=1) > 0
    span = width - k + 1
    idx = torch.zeros(n, span, dtype=torch.int64, device=x.device)
    valid = torch.ones(n, span, dtype=torch.bool, device=x.device)
    for j in range(k):
        idx = idx * size + code[:, j : j + span]
        valid &= known[:, j : j + span]
    out = x.new_zeros(n, size**k)
    return out.scatter_add_(1, idx, valid.to(x.dtype))


class ConvDense(Network):
    """Convolutions (batch-normalised, rectified, max-pooled), a dense head over the
    flattened positions (fixed-length data; masked max and mean pooling for variable
    lengths), and with ``kmer`` > 0 a linear model of k-mer frequencies added to the output.

    The k-mer branch reads frequencies (counts over the row's k-mers, the ridge's features
    before its scaling), not counts: with Adam each weight moves about one learning rate per
    step, so over counts (~150 k-mers per row) the output moved ~150 rates per step and the
    hybrid diverged (validation Pearson 0.357 after one epoch, then worse; docs/mpra.md).

    ``filters``, ``widths``, ``pools``: one value per convolution layer (their number is
    the number of layers). ``hidden``: the dense layers' sizes. ``kmer_dropout``: dropout on
    the k-mer counts (a regulariser of the 4^k weights beside the weight decay).
    """

    name = "conv_dense"

    def __init__(
        self, outputs: int, window: int, *, filters: Sequence[int] = (96, 96, 96), widths: Sequence[int] = (8, 8, 8),
        pools: Sequence[int] = (2, 2, 2), hidden: Sequence[int] = (64,), dropout: float = 0.3, kmer: int = 0,
        kmer_dropout: float = 0.0, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        filters = tuple(filters) if not isinstance(filters, int) else (filters,)
        n = len(filters)
        widths, pools = as_tuple(widths, n, "widths"), as_tuple(pools, n, "pools")
        if kmer < 0 or self.in_channels**kmer > 1 << 16:
            raise ValueError(
                f"kmer must be 0 (no k-mer branch) or a k with at most 65,536 k-mers of {self.in_channels} letters, "
                f"got {kmer}"
            )
        self.set_trunk(int(torch.tensor(pools).prod()), filters[-1])
        sizes = (self.in_channels, *filters)
        self.features = nn.Sequential(
            *(conv_block(sizes[i], sizes[i + 1], widths[i], pools[i], dropout=0.1) for i in range(n))
        )
        width = self.summary_width(self.features, 2 * filters[-1])
        self.head = mlp(width, tuple(hidden), outputs, dropout)
        self.kmer = kmer
        if kmer:
            self.kmer_head = nn.Sequential(nn.Dropout(kmer_dropout), nn.Linear(self.in_channels**kmer, outputs))

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return run_masked(self.features, x, lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(x, lengths)
        if self.kmer:
            counts = kmer_counts(x, self.kmer)
            out = out + self.kmer_head(counts / counts.sum(dim=1, keepdim=True).clamp_min(1))
        return out


class ConvKmer(ConvDense):
    """The hybrid: :class:`ConvDense` with a linear model of k-mer frequencies added to its
    output; ``kmer`` defaults to 6 for nucleotides (4,096 k-mers) and 2 for proteins (400).
    Declared as a hybrid wherever it is reported."""

    name = "conv_kmer"

    def __init__(
        self, outputs: int, window: int, *, filters: Sequence[int] = (96, 96, 96), widths: Sequence[int] = (8, 8, 8),
        pools: Sequence[int] = (2, 2, 2), hidden: Sequence[int] = (64,), dropout: float = 0.3, kmer: int | None = None,
        kmer_dropout: float = 0.0, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        if kmer is None:
            kmer = 6 if base.get("in_channels", 4) == 4 else 2
        super().__init__(outputs, window, filters=filters, widths=widths, pools=pools, hidden=hidden, dropout=dropout,
                         kmer=kmer, kmer_dropout=kmer_dropout, **base)  # fmt: skip
