"""Basset: three batch-normalised convolution layers and two fully connected layers.

Kelley DR, Snoek J, Rinn JL. Basset: learning the regulatory code of the accessible
genome with deep convolutional neural networks. Genome Res 26, 990-999 (2016).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from genomicdl.models.layers import as_tuple, conv_block, output_shape


class Basset(nn.Module):
    """Basset (Kelley et al. 2016): three convolutions of decreasing width (19, 11, 7),
    each batch-normalised, rectified and max-pooled (3, 4, 4), then two fully connected
    layers with dropout and one logit per task.

    The paper's sizes (300/200/200 filters, 1,000 hidden units, 600-bp windows) are
    scaled down by default for small data. Any window length, any number of tasks.
    """

    def __init__(
        self,
        n_tasks: int,
        window: int,
        filters: Sequence[int] = (48, 48, 48),
        widths: Sequence[int] = (19, 11, 7),
        pools: Sequence[int] = (3, 4, 4),
        hidden: Sequence[int] = (64, 64),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.n_tasks = n_tasks
        filters = as_tuple(filters, 3, "filters")
        widths = as_tuple(widths, 3, "widths")
        pools = as_tuple(pools, 3, "pools")
        channels = (4, *filters)
        self.features = nn.Sequential(
            *(conv_block(channels[i], channels[i + 1], widths[i], pools[i]) for i in range(3))
        )
        size = int(torch.tensor(output_shape(self.features, window)).prod())
        layers: list[nn.Module] = [nn.Flatten()]
        for units in hidden:
            layers += [nn.Linear(size, units), nn.BatchNorm1d(units), nn.ReLU(), nn.Dropout(dropout)]
            size = units
        layers.append(nn.Linear(size, n_tasks))
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, length) one-hot -> (batch, n_tasks) logits."""
        return self.head(self.features(x))
