"""Building blocks shared by the architectures of the zoo.

Every block keeps working at any window length: convolutions pad to the input length
("same") and pooling rounds up (``ceil_mode``), so a window shorter than a pooling
width still leaves one position.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def as_tuple(value: int | float | Sequence, n: int, name: str) -> tuple:
    """A per-layer setting: one value for every layer, or a list of ``n`` values."""
    if isinstance(value, int | float):
        return (value,) * n
    values = tuple(value)
    if len(values) != n:
        raise ValueError(f"{name} needs {n} values (one per layer), got {len(values)}")
    return values


def same_conv(in_channels: int, out_channels: int, width: int, dilation: int = 1) -> list[nn.Module]:
    """A convolution whose output has the input's length: symmetric padding inside the
    convolution, or an explicit (one base longer on the right) pad for even spans."""
    span = dilation * (width - 1)
    left, right = span // 2, span - span // 2
    if left == right:
        return [nn.Conv1d(in_channels, out_channels, width, padding=left, dilation=dilation)]
    return [nn.ConstantPad1d((left, right), 0.0), nn.Conv1d(in_channels, out_channels, width, dilation=dilation)]


def conv_block(
    in_channels: int,
    out_channels: int,
    width: int,
    pool: int = 1,
    dropout: float = 0.0,
    batch_norm: bool = True,
    dilation: int = 1,
) -> nn.Sequential:
    """Convolution (same length), optional batch norm, ReLU, optional max pooling and dropout.

    The batch norm directly follows the convolution, so that first-layer motifs
    (:func:`genomicdl.motifs.first_convolution`) see the normalised activation.
    """
    layers: list[nn.Module] = same_conv(in_channels, out_channels, width, dilation)
    if batch_norm:
        layers.append(nn.BatchNorm1d(out_channels))
    layers.append(nn.ReLU())
    if pool > 1:
        layers.append(nn.MaxPool1d(pool, ceil_mode=True))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@torch.no_grad()
def output_shape(module: nn.Module, window: int) -> tuple[int, ...]:
    """Shape (channels, length, ...) that ``module`` makes of one window of ``window`` bp.

    Runs one all-zero window in eval mode: no dropout, no batch-norm update, no random
    numbers drawn (the seeded initialisation is unaffected).
    """
    was_training = module.training
    module.eval()
    try:
        return tuple(module(torch.zeros(1, 4, window)).shape[1:])
    finally:
        module.train(was_training)


def global_pool(h: torch.Tensor) -> torch.Tensor:
    """(batch, channels, length) -> (batch, 2 * channels): max and mean over positions."""
    return torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)
