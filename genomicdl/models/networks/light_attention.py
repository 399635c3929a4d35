"""Light attention for protein localisation: convolutions and attention pooling, no RNN.

Stärk H, Dallago C, Heinzinger M, Rost B (2021). Light attention predicts protein
location from the language of life. Bioinformatics Advances 1:vbab035.

The paper reads language-model embeddings; here the input is one-hot or BLOSUM62 rows
(:mod:`genomicdl.models.networks.protein_features`), so a short stem of dilated residual
convolutions (Kelley et al. 2018) first gives each residue some context. The cost is
linear in length and parallel over positions, unlike DeepLoc's BiLSTM.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from genomicdl.models.networks.dilated import DilatedResidual
from genomicdl.models.networks.layers import Network, run_masked, same_conv, valid_mask
from genomicdl.models.networks.protein_features import ResidueFeatures


class LightAttentionPool(nn.Module):
    """Stärk et al.'s pooling: one convolution gives values, another per-channel attention
    logits; the output is the softmax-weighted sum of the values over each row's valid
    positions beside their maximum, (batch, 2 * channels)."""

    def __init__(self, channels: int, width: int, dropout: float) -> None:
        super().__init__()
        self.values = nn.Sequential(*same_conv(channels, channels, width))
        self.logits = nn.Sequential(*same_conv(channels, channels, width))
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, C, L) -> ((batch, 2C) pooled, (batch, C, L) attention; 0 on padding)."""
        values = self.dropout(run_masked(self.values, h, lengths)[0])
        logits = run_masked(self.logits, h, lengths)[0]
        pad = ~valid_mask(lengths, h.shape[-1])[:, None, :]
        weights = torch.softmax(logits.float().masked_fill(pad, float("-inf")), dim=-1).to(h.dtype)
        summed = (weights * values.masked_fill(pad, 0.0)).sum(dim=-1)
        top = values.masked_fill(pad, float("-inf")).amax(dim=-1)
        return torch.cat([summed, top], dim=1), weights


class LightAttention(Network):
    """Light-attention localisation network (Stärk et al. 2021) on single sequences:
    residue features, a stem convolution (``stem_width``) and ``layers`` dilated residual
    blocks (dilations 2, 4, ...: a receptive field of ``stem_width + (width - 1) * (2 + 4 + ...)``
    residues, 21 by default), light-attention pooling (``attention_width`` convolutions) and
    an MLP (Linear, ReLU, dropout, batch norm, Linear) before the head. One label set per
    protein (multiclass or multilabel); padding is masked everywhere, so a protein gets
    the same logits alone or in a padded batch (eval mode).
    """

    name = "light_attention"
    head_aliases: ClassVar[dict[str, str]] = {"native": "pooled"}

    def __init__(
        self, outputs: int, window: int, *, in_channels: int = 20, features: str = "onehot", channels: int = 64,
        stem_width: int = 9, layers: int = 2, width: int = 3, attention_width: int = 9, hidden: int = 32,
        dropout: float = 0.25, head: str = "pooled",
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, in_channels=in_channels, head=head)
        if self.head_kind == "position":
            raise ValueError("light_attention predicts one label set per protein, not per residue: use dilated")
        self.set_trunk(1, channels)
        self.features = ResidueFeatures(features, in_channels)
        self.stem = nn.Sequential(*same_conv(self.features.channels, channels, stem_width), nn.ReLU())
        self.blocks = nn.Sequential(*(DilatedResidual(channels, width, 2 ** (i + 1), 0.0) for i in range(layers)))
        self.pool = LightAttentionPool(channels, attention_width, dropout)
        self.head = nn.Sequential(nn.Linear(2 * channels, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.BatchNorm1d(hidden), nn.Linear(hidden, outputs))  # fmt: skip

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.stem, self.features(x), lengths)
        return run_masked(self.blocks, h, lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            lengths = torch.full((len(x),), x.shape[-1], dtype=torch.int64, device=x.device)
        h, n = self.trunk(x, lengths)
        return self.head(self.pool(h, n)[0])
