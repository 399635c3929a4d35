"""DeepBind-style shallow CNN.

Alipanahi B, Delong A, Weirauch MT, Frey BJ. Predicting the sequence specificities of
DNA- and RNA-binding proteins by deep learning. Nat Biotechnol 33, 831-838 (2015).
"""

from __future__ import annotations

from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import GlobalMaxPool, Network, NetworkArgs, run_masked, same_conv

#: Pooling of the native head: global (max, max and mean) or positional (a local max or
#: mean over blocks of ``pool_width`` positions, flattened, so the head sees where).
POOLS = ("max", "max_avg", "local_max", "local_avg")


class DeepBind(Network):
    """Motif detectors (one convolution, batch-normalised), rectification, pooling, an
    optional hidden layer, one logit per output. Any window length, any number of outputs.

    ``pool`` max / max_avg pool globally (the paper's design: where a motif sits is lost);
    local_max / local_avg pool over blocks of ``pool_width`` positions and flatten, so the
    head keeps coarse position -- what windows centred on a site (CLIP crosslinks, peak
    summits) need. Variable-length data always pools globally (masked max and mean: a
    flattened layout needs one length).

    With little data (a few thousand windows) the linear head (``hidden=0``) trains far
    more reliably than a hidden layer; DeepBind itself chose between the two per set.
    The convolution is "full" (every partial overlap of a motif counts) for per-sequence
    heads and "same" (one column per position) for the position head.
    """

    name = "deepbind"

    def __init__(
        self, outputs: int, window: int, *, filters: int = 32, filter_width: int = 16, hidden: int = 0,
        dropout: float = 0.2, pool: str = "max", pool_width: int = 10, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
        if pool_width < 1:
            raise ValueError(f"pool_width must be at least 1, got {pool_width}")
        self.set_trunk(1, filters)
        self.pool, head = pool, self.head_kind
        self.local = None
        if pool.startswith("local_") and head == "native":
            cls = nn.MaxPool1d if pool == "local_max" else nn.AvgPool1d
            self.local = cls(pool_width, ceil_mode=True)
        if head == "position":
            self.conv = nn.Sequential(*same_conv(self.in_channels, filters, filter_width))
        else:
            self.conv = nn.Conv1d(self.in_channels, filters, filter_width, padding=filter_width - 1)
        self.norm = nn.BatchNorm1d(filters)
        self.act, self.max_pool = nn.ReLU(), GlobalMaxPool()  # modules, for DeepLIFT's rules
        if self.local is not None:
            blocks = -(-(window + filter_width - 1) // pool_width)  # the full convolution's length, pooled
            width = filters * blocks
        else:
            width = filters * (1 if pool == "max" and head == "native" else 2)
        if hidden and head != "position":
            self.head = nn.Sequential(
                nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, outputs)
            )
        else:
            self.head = self.linear_head(filters, width, dropout)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.conv, x, lengths)
        return self.act(self.norm(h)), lengths

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        if self.local is not None:
            return self.local(h).flatten(1)
        pooled = self.max_pool(h)
        if self.pool == "max_avg":
            pooled = torch.cat([pooled, h.mean(dim=2)], dim=1)
        return pooled
