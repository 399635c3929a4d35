"""DeepBind-style shallow CNN.

Alipanahi B, Delong A, Weirauch MT, Frey BJ. Predicting the sequence specificities of
DNA- and RNA-binding proteins by deep learning. Nat Biotechnol 33, 831-838 (2015).
"""

from __future__ import annotations

import torch
from torch import nn

from genomicdl.models.layers import GlobalMaxPool, Network, run_masked, same_conv


class DeepBind(Network):
    """Motif detectors (one convolution, batch-normalised), rectification, global max
    pooling (optionally also average pooling), an optional hidden layer, one logit per
    output. Any window length, any number of outputs.

    With little data (a few thousand windows) the linear head (``hidden=0``) trains far
    more reliably than a hidden layer; DeepBind itself chose between the two per set.
    The convolution is "full" (every partial overlap of a motif counts) for per-sequence
    heads and "same" (one column per position) for the position head.
    """

    def __init__(
        self,
        outputs: int,
        window: int,
        *,
        in_channels: int = 4,
        head: str = "native",
        filters: int = 32,
        filter_width: int = 16,
        hidden: int = 0,
        dropout: float = 0.2,
        pool: str = "max",
    ) -> None:
        super().__init__(head)
        if pool not in ("max", "max_avg"):
            raise ValueError(f"pool must be max or max_avg, got {pool!r}")
        self.outputs, self.pool, self.trunk_channels = outputs, pool, filters
        if head == "position":
            self.conv = nn.Sequential(*same_conv(in_channels, filters, filter_width))
        else:
            self.conv = nn.Conv1d(in_channels, filters, filter_width, padding=filter_width - 1)
        self.norm = nn.BatchNorm1d(filters)
        self.act, self.max_pool = nn.ReLU(), GlobalMaxPool()  # modules, for DeepLIFT's rules
        if head == "position":
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Conv1d(filters, outputs, 1))
            return
        width = filters * (1 if pool == "max" and head == "native" else 2)
        if hidden:
            self.head = nn.Sequential(
                nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs)
            )
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, outputs))

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.conv, x, lengths)
        return self.act(self.norm(h)), lengths

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        pooled = self.max_pool(h)
        if self.pool == "max_avg":
            pooled = torch.cat([pooled, h.mean(dim=2)], dim=1)
        return pooled
