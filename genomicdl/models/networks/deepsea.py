"""DeepSEA: three convolution layers and a fully connected layer.

Zhou J, Troyanskaya OG. Predicting effects of noncoding variants with deep
learning-based sequence model. Nat Methods 12, 931-934 (2015).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, as_tuple, conv_block, run_masked


class DeepSEA(Network):
    """DeepSEA (Zhou & Troyanskaya 2015): three convolutions (the first two max-pooled),
    dropout after each, a fully connected ReLU layer over the flattened positions, one
    logit per output (variable-length data: over the masked max and mean instead).

    The paper's sizes (320/480/960 filters of width 8, pooling 4, 925 hidden units,
    1,000-bp windows) are scaled down by default for small data; set ``filters`` and
    ``hidden`` to restore them. Batch normalisation after each convolution (absent from
    the paper) is on by default: without it the network learns far slower on small
    data; ``batch_norm: false`` gives the paper's layers.
    Any window length, any number of outputs.
    """

    name = "deepsea"

    def __init__(
        self, outputs: int, window: int, *, filters: Sequence[int] = (32, 48, 64), width: int = 8, pool: int = 4,
        dropout: Sequence[float] = (0.2, 0.2, 0.5), hidden: int = 64, batch_norm: bool = True,
        **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        filters, dropout = as_tuple(filters, 3, "filters"), as_tuple(dropout, 3, "dropout")
        pools = (pool, pool, 1)
        self.set_trunk(pool * pool, filters[-1])
        sizes = (self.in_channels, *filters)
        self.features = nn.Sequential(
            *(conv_block(sizes[i], sizes[i + 1], width, pools[i], dropout[i], batch_norm) for i in range(3))
        )
        flat = self.summary_width(self.features, 2 * filters[-1])
        self.head = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, outputs))

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return run_masked(self.features, x, lengths)
