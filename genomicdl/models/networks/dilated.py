"""A dilated residual CNN in the style of Basenji.

Kelley DR, Reshef YA, Bileschi M, Belanger D, McLean CY, Snoek J. Sequential
regulatory activity prediction across chromosomes with convolutional neural networks.
Genome Res 28, 739-750 (2018).
"""

from __future__ import annotations

from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import GlobalMaxPool, Network, NetworkArgs, conv_block, run_masked, same_conv
from genomicdl.models.networks.protein_features import ResidueFeatures


class DilatedResidual(nn.Module):
    """One Basenji residual block: batch norm, GELU, a dilated convolution to half the
    channels, batch norm, GELU, a 1x1 convolution back, dropout; added to its input."""

    def __init__(self, channels: int, width: int, dilation: int, dropout: float) -> None:
        super().__init__()
        inner = max(1, channels // 2)
        self.body = nn.Sequential(
            nn.BatchNorm1d(channels),
            nn.GELU(),
            *same_conv(channels, inner, width, dilation),
            nn.BatchNorm1d(inner),
            nn.GELU(),
            nn.Conv1d(inner, channels, 1),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)

    def forward_masked(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, _ = run_masked(self.body, x, lengths)
        return x + h, lengths


class DilatedCNN(Network):
    """Basenji-style dilated residual CNN (Kelley et al. 2018): a convolution stem with
    max pooling, then residual blocks whose dilation grows geometrically (1, 2, 4, ...)
    so that the receptive field spans the window at a cost linear in depth; the
    positions are summarised by global max and mean pooling (Basenji predicts a
    profile per bin; here one logit per output and window), or -- with ``pool: 1`` --
    each position gets its own outputs (per_position targets).

    Any window length, any number of outputs. Protein inputs may add BLOSUM62 rows to the
    one-hot (``features``, :mod:`genomicdl.models.networks.protein_features`).
    """

    name = "dilated"

    def __init__(
        self, outputs: int, window: int, *, channels: int = 48, stem_width: int = 15, pool: int = 4, layers: int = 4,
        width: int = 3, rate: float = 2.0, dropout: float = 0.1, features: str = "onehot", **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        self.set_trunk(pool, channels)
        self.features = ResidueFeatures(features, self.in_channels)
        self.stem = conv_block(self.features.channels, channels, stem_width, pool)
        self.blocks = nn.Sequential(
            *(DilatedResidual(channels, width, max(1, round(rate**i)), dropout) for i in range(layers))
        )
        self.final = nn.Sequential(nn.BatchNorm1d(channels), nn.GELU())
        self.max_pool = GlobalMaxPool()  # a module, for DeepLIFT's rules
        self.head = self.linear_head(channels, 2 * channels)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.stem, self.features(x), lengths)
        h, lengths = run_masked(self.blocks, h, lengths)
        return self.final(h), lengths

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.max_pool(h), h.mean(dim=2)], dim=1)
