"""Bidirectional recurrent layers over padded batches (shared by DanQ and cnn_birnn)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from genomicdl.models.networks.padded_rnn import run_bidirectional_padded


def run_rnn(rnn: nn.RNNBase, h: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """(batch, channels, L) -> (batch, 2 * hidden, L) outputs of a batch-first
    bidirectional RNN. With lengths the rows are packed, so that the backward direction
    starts at each row's last valid position and padding never enters the state;
    outputs past a row's length are zero. A GRU runs padded over per-row reversed
    sequences instead (the same outputs; PyTorch's packed GRU is ~14x slower on CPU),
    except when traced for export."""
    seq = h.transpose(1, 2)
    if lengths is None:
        out, _ = rnn(seq)
    elif isinstance(rnn, nn.GRU) and not (torch.jit.is_tracing() or torch.jit.is_scripting()):
        out = run_bidirectional_padded(rnn, seq, lengths)
    else:
        packed = pack_padded_sequence(seq, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=seq.shape[1])
    return out.transpose(1, 2)
