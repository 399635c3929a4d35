"""DanQ: a convolution layer followed by a bidirectional LSTM.

Quang D, Xie X. DanQ: a hybrid convolutional and recurrent deep neural network for
quantifying the function of DNA sequences. Nucleic Acids Res 44, e107 (2016).
"""

from __future__ import annotations

from typing import Unpack

import torch
from torch import nn

from genomicdl.models.networks.layers import Network, NetworkArgs, conv_block, output_shape, run_masked
from genomicdl.models.networks.recurrent import run_rnn


class DanQ(Network):
    """DanQ (Quang & Xie 2016): motif detectors (one convolution, rectified, max-pooled
    by 13 with dropout 0.2), a bidirectional LSTM over the pooled positions that learns
    their grammar, dropout 0.5, a fully connected ReLU layer over the flattened LSTM
    outputs (variable-length data: over their masked max and mean) and one logit per
    output.

    The paper's sizes (320 filters of width 26, 320 LSTM units per direction, 925
    hidden units, 1,000-bp windows) are scaled down by default for small data.
    Any window length, any number of outputs.
    """

    name = "danq"

    def __init__(
        self, outputs: int, window: int, *, filters: int = 64, width: int = 26, pool: int = 13, lstm: int = 32,
        hidden: int = 64, dropout: float = 0.2, lstm_dropout: float = 0.5, **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        self.set_trunk(pool, 2 * lstm)
        self.conv = conv_block(self.in_channels, filters, width, pool, dropout, batch_norm=False)
        self.lstm = nn.LSTM(filters, lstm, batch_first=True, bidirectional=True)
        native = self.head_kind == "native"
        size = output_shape(self.conv, window, self.in_channels)[1] * 2 * lstm if native else 4 * lstm
        self.head = nn.Sequential(
            nn.Dropout(lstm_dropout),
            nn.Flatten(),
            nn.Linear(size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, outputs),
        )

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, lengths = run_masked(self.conv, x, lengths)
        return run_rnn(self.lstm, h, lengths), lengths

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        return h.transpose(1, 2)  # (batch, positions, 2 * lstm), flattened by the head
