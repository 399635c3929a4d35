"""A small Transformer over a convolution stem.

Vaswani A et al. Attention is all you need. NeurIPS 30 (2017); the convolution stem
followed by self-attention as in Enformer: Avsec Z et al. Effective gene expression
prediction from sequence by integrating long-range interactions. Nat Methods 18,
1196-1203 (2021).
"""

from __future__ import annotations

import math
from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, conv_block, output_shape, run_masked, valid_mask


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """(length, dim) sine/cosine position encodings (Vaswani et al. 2017)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)[:, : dim // 2]
    return table


class SequenceTransformer(Network):
    """Convolution stem + self-attention (Vaswani et al. 2017; stem as in Enformer,
    Avsec et al. 2021): motif detectors (convolution, batch norm, ReLU, max pooling)
    shorten the sequence, sinusoidal positions are added, a pre-norm Transformer
    encoder relates the positions (padding masked out of the attention), and their
    mean gives one logit per output (variable-length data: the masked max and mean;
    with ``pool: 1``, per_position targets: outputs at every position).
    ``dropout`` acts on the pooled summary, ``attention_dropout`` inside the encoder
    (off by default: on a CPU, drawing a mask per attention weight costs more than
    the attention itself).

    Any window length, any number of outputs.
    """

    name = "transformer"

    def __init__(
        self, outputs: int, window: int, *, channels: int = 48, stem_width: int = 15, pool: int = 4, layers: int = 2,
        heads: int = 4, feedforward: int = 96, dropout: float = 0.2, attention_dropout: float = 0.0,
        **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be a multiple of heads ({heads})")
        self.set_trunk(pool, channels)
        self.stem = conv_block(self.in_channels, channels, stem_width, pool)
        positions = output_shape(self.stem, window, self.in_channels)[1]
        self.register_buffer("positions", sinusoidal_positions(positions, channels), persistent=False)
        layer = nn.TransformerEncoderLayer(
            channels, heads, feedforward, attention_dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(channels), enable_nested_tensor=False)
        self.head = self.linear_head(channels, channels * (1 if self.head_kind == "native" else 2), dropout)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.stem, x, lengths)
        h = h.transpose(1, 2)  # (batch, positions, channels)
        table = self.positions if h.shape[1] <= len(self.positions) else sinusoidal_positions(h.shape[1], h.shape[2])
        padding = None if lengths is None else ~valid_mask(lengths, h.shape[1])
        h = self.encoder(h + table[: h.shape[1]].to(h), src_key_padding_mask=padding)
        return h.transpose(1, 2), lengths

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        return h.mean(dim=2)
