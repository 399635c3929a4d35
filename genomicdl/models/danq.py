"""DanQ: a convolution layer followed by a bidirectional LSTM.

Quang D, Xie X. DanQ: a hybrid convolutional and recurrent deep neural network for
quantifying the function of DNA sequences. Nucleic Acids Res 44, e107 (2016).
"""

from __future__ import annotations

import torch
from torch import nn

from genomicdl.models.layers import conv_block, output_shape


class DanQ(nn.Module):
    """DanQ (Quang & Xie 2016): motif detectors (one convolution, rectified, max-pooled
    by 13 with dropout 0.2), a bidirectional LSTM over the pooled positions that learns
    their grammar, dropout 0.5, a fully connected ReLU layer over the flattened LSTM
    outputs and one logit per task.

    The paper's sizes (320 filters of width 26, 320 LSTM units per direction, 925
    hidden units, 1,000-bp windows) are scaled down by default for small data.
    Any window length, any number of tasks.
    """

    def __init__(
        self,
        n_tasks: int,
        window: int,
        filters: int = 64,
        width: int = 26,
        pool: int = 13,
        lstm: int = 32,
        hidden: int = 64,
        dropout: float = 0.2,
        lstm_dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.n_tasks = n_tasks
        self.conv = conv_block(4, filters, width, pool, dropout, batch_norm=False)
        self.lstm = nn.LSTM(filters, lstm, batch_first=True, bidirectional=True)
        positions = output_shape(self.conv, window)[1]
        self.head = nn.Sequential(
            nn.Dropout(lstm_dropout),
            nn.Flatten(),
            nn.Linear(positions * 2 * lstm, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_tasks),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 4, length) one-hot -> (batch, n_tasks) logits."""
        h, _ = self.lstm(self.conv(x).transpose(1, 2))  # (batch, positions, 2 * lstm)
        return self.head(h)
