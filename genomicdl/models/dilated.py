"""A dilated residual CNN in the style of Basenji.

Kelley DR, Reshef YA, Bileschi M, Belanger D, McLean CY, Snoek J. Sequential
regulatory activity prediction across chromosomes with convolutional neural networks.
Genome Res 28, 739-750 (2018).
"""

from __future__ import annotations

import torch
from torch import nn

from genomicdl.models.layers import conv_block, global_pool, same_conv


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


class DilatedCNN(nn.Module):
    """Basenji-style dilated residual CNN (Kelley et al. 2018): a convolution stem with
    max pooling, then residual blocks whose dilation grows geometrically (1, 2, 4, ...)
    so that the receptive field spans the window at a cost linear in depth; the
    positions are summarised by global max and mean pooling (Basenji predicts a
    profile per bin; here one logit per task and window).

    Any window length, any number of tasks.
    """

    def __init__(
        self,
        n_tasks: int,
        window: int,
        channels: int = 48,
        stem_width: int = 15,
        pool: int = 4,
        layers: int = 4,
        width: int = 3,
        rate: float = 2.0,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.n_tasks = n_tasks
        self.stem = conv_block(4, channels, stem_width, pool)
        self.blocks = nn.Sequential(
            *(DilatedResidual(channels, width, max(1, round(rate**i)), dropout) for i in range(layers))
        )
        self.final = nn.Sequential(nn.BatchNorm1d(channels), nn.GELU())
        self.head = nn.Linear(2 * channels, n_tasks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, length) one-hot -> (batch, n_tasks) logits."""
        return self.head(global_pool(self.final(self.blocks(self.stem(x)))))
