"""Basset: three batch-normalised convolution layers and two fully connected layers.

Kelley DR, Snoek J, Rinn JL. Basset: learning the regulatory code of the accessible
genome with deep convolutional neural networks. Genome Res 26, 990-999 (2016).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, as_tuple, conv_block, mlp, run_masked


class Basset(Network):
    """Basset (Kelley et al. 2016): three convolutions of decreasing width (19, 11, 7),
    each batch-normalised, rectified and max-pooled (3, 4, 4), then two fully connected
    layers with dropout and one logit per output (over the flattened positions; for
    variable-length data over their masked max and mean).

    The paper's sizes (300/200/200 filters, 1,000 hidden units, 600-bp windows) are
    scaled down by default for small data. Any window length, any number of outputs.
    """

    name = "basset"

    def __init__(
        self, outputs: int, window: int, *, filters: Sequence[int] = (48, 48, 48),
        widths: Sequence[int] = (19, 11, 7), pools: Sequence[int] = (3, 4, 4), hidden: Sequence[int] = (64, 64),
        dropout: float = 0.3, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        filters = as_tuple(filters, 3, "filters")
        widths, pools = as_tuple(widths, 3, "widths"), as_tuple(pools, 3, "pools")
        self.set_trunk(int(torch.tensor(pools).prod()), filters[-1])
        sizes = (self.in_channels, *filters)
        self.features = nn.Sequential(*(conv_block(sizes[i], sizes[i + 1], widths[i], pools[i]) for i in range(3)))
        width = self.summary_width(self.features, 2 * filters[-1])
        self.head = mlp(width, hidden, outputs, dropout, batch_norm=True)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return run_masked(self.features, x, lengths)
