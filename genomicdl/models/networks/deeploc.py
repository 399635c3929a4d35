"""DeepLoc: convolutions of several widths, a bidirectional LSTM and attention pooling.

Almagro Armenteros JJ, Sønderby CK, Sønderby SK, Nielsen H, Winther O (2017). DeepLoc:
prediction of protein subcellular localization using deep learning. Bioinformatics
33:3387-3395.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, run_masked, same_conv, valid_mask
from genomicdl.models.networks.protein_features import ResidueFeatures
from genomicdl.models.networks.recurrent import run_rnn


class AttentionPool(nn.Module):
    """Additive attention over positions (Bahdanau et al. 2015, as DeepLoc uses it):
    score_t = v . tanh(W h_t), softmax over each row's valid positions, context = sum_t a_t h_t."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.project = nn.Linear(channels, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, C, L) features -> ((batch, C) context, (batch, L) weights; 0 on padding)."""
        seq = h.transpose(1, 2)
        scores = self.score(torch.tanh(self.project(seq))).squeeze(-1)
        scores = scores.masked_fill(~valid_mask(lengths, h.shape[-1]), float("-inf"))
        weights = torch.softmax(scores.float(), dim=1).to(h.dtype)
        return torch.bmm(weights.unsqueeze(1), seq).squeeze(1), weights


class DeepLoc(Network):
    """DeepLoc-style localisation model: per-residue features (one-hot, BLOSUM62 or both),
    parallel convolutions of several widths (sorting-signal motifs at several scales,
    concatenated, rectified), a bidirectional LSTM over the whole protein (packed, so
    padding never enters it), additive attention pooling over the valid positions, and
    a dense layer before the head (softmax for multiclass, sigmoid for multilabel via the
    engine's loss). ``last_attention`` holds the (batch, L) weights of the latest forward
    pass; :meth:`attention` computes them for a batch.

    Smaller than the paper's (20 filters per width, 256 LSTM units, 10 attention decoding
    steps) by default, to train on CPUs; the paper's sizes are parameters away.
    """

    name = "deeploc"
    head_aliases: ClassVar[dict[str, str]] = {"native": "pooled"}

    def __init__(
        self, outputs: int, window: int, *, in_channels: int = 20, features: str = "onehot", filters: int = 20,
        widths: Sequence[int] = (1, 3, 5, 9, 15, 21), lstm: int = 64, attention: int = 64, hidden: int = 64,
        dropout: float = 0.25, head: str = "pooled",
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, in_channels=in_channels, head=head)
        if self.head_kind == "position":
            raise ValueError("deeploc predicts one label set per protein, not per residue: use cnn_birnn or dilated")
        self.set_trunk(1, 2 * lstm)
        self.features = ResidueFeatures(features, in_channels)
        self.convs = nn.ModuleList(nn.Sequential(*same_conv(self.features.channels, filters, w)) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(filters * len(widths), lstm, batch_first=True, bidirectional=True)
        self.pool = AttentionPool(2 * lstm, attention)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * lstm, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, outputs))  # fmt: skip
        self.last_attention: torch.Tensor | None = None

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.features(x)
        h = torch.cat([run_masked(conv, x, lengths)[0] for conv in self.convs], dim=1)
        h = self.dropout(torch.relu(h))
        return run_rnn(self.lstm, h, lengths), lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            lengths = torch.full((len(x),), x.shape[-1], dtype=torch.int64, device=x.device)
        h, n = self.trunk(x, lengths)
        context, weights = self.pool(h, n)
        self.last_attention = weights.detach()
        return self.head(context)

    @torch.no_grad()
    def attention(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, L) attention weights of a batch (eval mode; each valid row sums to 1)."""
        was = self.training
        self.eval()
        try:
            self(x, lengths)
        finally:
            self.train(was)
        return self.last_attention
