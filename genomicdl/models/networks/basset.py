"""Basset: three batch-normalised convolution layers and two fully connected layers.

Kelley DR, Snoek J, Rinn JL. Basset: learning the regulatory code of the accessible
genome with deep convolutional neural networks. Genome Res 26, 990-999 (2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, as_tuple, conv_block, mlp, output_shape, run_masked


class Basset(Network):
    """Basset (Kelley et al. 2016): three convolutions of decreasing width (19, 11, 7),
    each batch-normalised, rectified and max-pooled (3, 4, 4), then two fully connected
    layers with dropout and one logit per output (over the flattened positions; for
    variable-length data over their masked max and mean).

    The paper's sizes (300/200/200 filters, 1,000 hidden units, 600-bp windows) are
    scaled down by default for small data. Any window length, any number of outputs.
    """

    def __init__(
        self,
        outputs: int,
        window: int,
        *,
        in_channels: int = 4,
        head: str = "native",
        filters: Sequence[int] = (48, 48, 48),
        widths: Sequence[int] = (19, 11, 7),
        pools: Sequence[int] = (3, 4, 4),
        hidden: Sequence[int] = (64, 64),
        dropout: float = 0.3,
    ) -> None:
        super().__init__(head)
        self.outputs = outputs
        filters = as_tuple(filters, 3, "filters")
        widths = as_tuple(widths, 3, "widths")
        pools = as_tuple(pools, 3, "pools")
        self.stride, self.trunk_channels = int(torch.tensor(pools).prod()), filters[-1]
        self.position_check("basset", self.stride)
        sizes = (in_channels, *filters)
        self.features = nn.Sequential(*(conv_block(sizes[i], sizes[i + 1], widths[i], pools[i]) for i in range(3)))
        if head == "native":
            size = int(torch.tensor(output_shape(self.features, window, in_channels)).prod())
        else:
            size = 2 * filters[-1]
        self.head = mlp(size, hidden, outputs, dropout, batch_norm=True)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return run_masked(self.features, x, lengths)
