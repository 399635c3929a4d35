"""Bidirectional recurrent layers over padded batches (shared by DanQ and cnn_birnn)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def run_rnn(rnn: nn.RNNBase, h: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """(batch, channels, L) -> (batch, 2 * hidden, L) outputs of a batch-first
    bidirectional RNN. With lengths the rows are packed, so that the backward direction
    starts at each row's last valid position and padding never enters the state;
    outputs past a row's length are zero."""
    seq = h.transpose(1, 2)
    if lengths is None:
        out, _ = rnn(seq)
    else:
        packed = pack_padded_sequence(seq, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=seq.shape[1])
    return out.transpose(1, 2)
