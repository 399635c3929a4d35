"""Convolutions of several widths and a bidirectional GRU, per residue.

Drori I, Dwivedi I, Shrestha P, Wan J, Wang Y, He Y, Mazza A, Krogh-Freeman H, Leggas D,
Sandridge K, Nayak L, Bhatt P, Keasar C, Ketchum D, Zeng H. High quality prediction of
protein Q8 secondary structure by diverse neural network architectures. NeurIPS 2018
Workshop on Machine Learning for Molecules and Materials; arXiv:1811.07143 (2018) --
the cu-ssp family of models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, run_masked, same_conv
from genomicdl.models.networks.recurrent import run_rnn


class CnnBiRnn(Network):
    """cu-ssp style (Drori et al. 2018): parallel convolutions of several widths (local
    motifs at several scales, concatenated, batch-normalised and rectified), a
    bidirectional GRU over every position (long-range context in both directions), and
    a position-wise head (one output per residue, per_position targets) or, for
    per-sequence targets, the masked max and mean of the GRU's outputs.

    Any length; variable lengths are packed, so padding never enters the GRU.
    """

    name = "cnn_birnn"
    head_aliases: ClassVar[dict[str, str]] = {"native": "pooled"}

    def __init__(
        self, outputs: int, window: int, *, filters: int = 32, widths: Sequence[int] = (3, 7, 11), gru: int = 64,
        layers: int = 1, dropout: float = 0.2, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        self.set_trunk(1, 2 * gru)
        self.convs = nn.ModuleList(nn.Sequential(*same_conv(self.in_channels, filters, w)) for w in widths)
        self.norm = nn.BatchNorm1d(filters * len(self.convs))
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            filters * len(self.convs), gru, num_layers=layers, batch_first=True, bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )  # fmt: skip
        self.head = self.linear_head(2 * gru, 4 * gru, dropout)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = torch.cat([run_masked(conv, x, lengths)[0] for conv in self.convs], dim=1)
        h = self.dropout(torch.relu(self.norm(h)))
        return run_rnn(self.gru, h, lengths), lengths
