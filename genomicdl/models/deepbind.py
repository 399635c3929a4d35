"""DeepBind-style shallow CNN.

Alipanahi B, Delong A, Weirauch MT, Frey BJ. Predicting the sequence specificities of
DNA- and RNA-binding proteins by deep learning. Nat Biotechnol 33, 831-838 (2015).
"""

from __future__ import annotations

import torch
from torch import nn


class DeepBind(nn.Module):
    """Motif detectors (one convolution, batch-normalised), rectification, global max
    pooling (optionally also average pooling), an optional hidden layer, one logit per
    task. Any window length, any number of tasks.

    With little data (a few thousand windows) the linear head (``hidden=0``) trains far
    more reliably than a hidden layer; DeepBind itself chose between the two per set.
    """

    def __init__(self, n_tasks: int, window: int, filters: int = 32, filter_width: int = 16,
                 hidden: int = 0, dropout: float = 0.2, pool: str = "max") -> None:
        super().__init__()
        if pool not in ("max", "max_avg"):
            raise ValueError(f"pool must be max or max_avg, got {pool!r}")
        self.n_tasks, self.pool = n_tasks, pool
        self.conv = nn.Conv1d(4, filters, filter_width, padding=filter_width - 1)
        self.norm = nn.BatchNorm1d(filters)
        width = filters * (2 if pool == "max_avg" else 1)
        if hidden:
            self.head = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(hidden, n_tasks))
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, n_tasks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, length) one-hot -> (batch, n_tasks) logits."""
        h = torch.relu(self.norm(self.conv(x)))
        pooled = h.amax(dim=2)
        if self.pool == "max_avg":
            pooled = torch.cat([pooled, h.mean(dim=2)], dim=1)
        return self.head(pooled)
