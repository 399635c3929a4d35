"""Building blocks shared by the architectures of the zoo: convolution blocks, the
masked execution of a trunk over padded batches, and the heads.

Every block keeps working at any window length: convolutions pad to the input length
("same") and pooling rounds up (``ceil_mode``), so a window shorter than a pooling
width still leaves one position.

Variable-length batches are padded at the end with all-zero columns. ``run_masked``
runs a trunk so that padding never reaches a valid position: before every layer that
mixes positions (convolution, explicit pad, pooling) the columns past each row's length
are set to zero -- exactly what the layer sees at the end of an unpadded sequence -- and
the lengths follow the layer's arithmetic (pooling divides them, rounding up). Max
pooling only ever follows a ReLU here, so a zeroed column never wins a maximum.
Batch normalisation is position-wise: in eval mode padding cannot leak through it; in
training its batch statistics include the (length-bucketed, hence few) padding columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypedDict

import torch
from torch import nn

#: Head of a network: the paper's own (fixed-length data), masked max + mean pooling
#: over valid positions (variable-length data), or one output per position.
HEADS = ("native", "pooled", "position")


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
    (:func:`genomicdl.interpret.motifs.first_convolution`) see the normalised activation.
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
def output_shape(module: nn.Module, window: int, channels: int = 4) -> tuple[int, ...]:
    """Shape (channels, length, ...) that ``module`` makes of one window of ``window`` bp.

    Runs one all-zero window in eval mode: no dropout, no batch-norm update, no random
    numbers drawn (the seeded initialisation is unaffected).
    """
    was_training = module.training
    module.eval()
    try:
        return tuple(module(torch.zeros(1, channels, window)).shape[1:])
    finally:
        module.train(was_training)


class GlobalMaxPool(nn.Module):
    """(batch, channels, length) -> (batch, channels): the maximum over positions, as a
    module so that DeepLIFT can apply its max rule to it (genomicdl.interpret.attributions.RULES)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.amax(dim=2)


def global_pool(h: torch.Tensor) -> torch.Tensor:
    """(batch, channels, length) -> (batch, 2 * channels): max and mean over positions."""
    return torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)


# ------------------------------------------------------------------ masking


def valid_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(batch, width) bool: True at the first ``length`` positions of each row."""
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def zero_padding(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``h`` (batch, channels, width) with the columns past each row's length set to 0."""
    return h.masked_fill(~valid_mask(lengths, h.shape[-1])[:, None, :], 0.0)


def masked_pool(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(batch, channels, width) -> (batch, 2 * channels): max and mean over each row's
    valid positions only."""
    keep = valid_mask(lengths, h.shape[-1])[:, None, :]
    top = h.masked_fill(~keep, float("-inf")).amax(dim=2)
    mean = h.masked_fill(~keep, 0.0).sum(dim=2) / lengths.clamp_min(1)[:, None].to(h.dtype)
    return torch.cat([top, mean], dim=1)


def _out_lengths(layer: nn.Module, lengths: torch.Tensor) -> torch.Tensor:
    """Valid output positions of a convolution, pad or pooling layer for ``lengths`` inputs."""
    if isinstance(layer, nn.ConstantPad1d):
        return lengths + layer.padding[0] + layer.padding[1]
    (k,), (s,), (d,) = _pair(layer.kernel_size), _pair(layer.stride), _pair(layer.dilation)
    (p,) = _pair(layer.padding)
    span = lengths + 2 * p - d * (k - 1) - 1
    if getattr(layer, "ceil_mode", False):
        span = span + s - 1
    return (span // s + 1).clamp_min(1)


def _pair(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (value,)


MIXING = (nn.Conv1d, nn.ConstantPad1d, nn.MaxPool1d)


def run_masked(
    module: nn.Module, h: torch.Tensor, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run ``module`` (a Sequential, a layer, or a module with ``forward_masked``) on a
    padded batch: padding is zeroed before each layer that mixes positions and the
    lengths follow. Without lengths it is the plain forward pass."""
    if lengths is None:
        return module(h), None
    if isinstance(module, nn.Sequential):
        for layer in module:
            h, lengths = run_masked(layer, h, lengths)
        return h, lengths
    if hasattr(module, "forward_masked"):
        return module.forward_masked(h, lengths)
    if isinstance(module, MIXING):
        return module(zero_padding(h, lengths)), _out_lengths(module, lengths)
    return module(h), lengths


def mlp(size: int, hidden: Sequence[int], outputs: int, dropout: float, *, batch_norm: bool = False) -> nn.Sequential:
    """Dense layers: (Linear, [BatchNorm], ReLU, Dropout) per hidden size, then Linear."""
    layers: list[nn.Module] = []
    for units in hidden:
        layers += [nn.Linear(size, units), *([nn.BatchNorm1d(units)] if batch_norm else []), nn.ReLU()]
        layers.append(nn.Dropout(dropout))
        size = units
    layers.append(nn.Linear(size, outputs))
    return nn.Sequential(*layers)


class NetworkArgs(TypedDict, total=False):
    """The keyword arguments every network takes beside its own (``**base``)."""

    in_channels: int  # channels of the one-hot input (4 for DNA/RNA, 20 for protein)
    head: str  # one of HEADS, chosen by the target kind (genomicdl.models.head_for)


class Network(nn.Module):
    """A trunk and a head: the constructor base of the zoo.

    ``Network.__init__(outputs, window, in_channels=, head=)`` keeps what every network
    takes (``self.outputs``, ``self.window``, ``self.in_channels``, ``self.head_kind``);
    subclasses take their own parameters and ``**base`` (:class:`NetworkArgs`), call
    :meth:`set_trunk` with their trunk's downsampling, build
    ``trunk(x, lengths) -> (features (batch, C, L'), lengths')``, ``summarise`` the
    features the paper's way (native head) and build ``head`` (:meth:`summary_width`,
    :meth:`linear_head`). ``forward(x, lengths)`` gives (batch, outputs) logits, or
    (batch, L, outputs) for the position head. No parameter is created here, so a
    subclass's parameters are drawn in the order it creates them.
    """

    #: The registry name (genomicdl.models.catalog), for error messages.
    name: str = ""
    #: Heads the network answers with another (e.g. no fixed-length head: native -> pooled).
    head_aliases: ClassVar[dict[str, str]] = {}
    stride: int = 1
    trunk_channels: int = 0

    def __init__(self, outputs: int, window: int, *, in_channels: int = 4, head: str = "native") -> None:
        super().__init__()
        head = self.head_aliases.get(head, head)
        if head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}, got {head!r}")
        self.head_kind = head
        self.outputs, self.window, self.in_channels = outputs, window, in_channels

    def set_trunk(self, stride: int, channels: int) -> None:
        """Record the trunk's downsampling (L / L') and feature channels; a position head
        needs a trunk at full resolution (stride 1)."""
        if self.head_kind == "position" and stride != 1:
            raise ValueError(
                f"model {self.name} cannot predict per_position targets with a trunk that downsamples "
                f"{stride}-fold: set its pool to 1"
            )
        self.stride, self.trunk_channels = stride, channels

    def summary_width(self, features: nn.Module, pooled: int) -> int:
        """Width of what the head reads: the flattened ``features`` of one window (native
        head), else the masked max and mean's ``pooled`` width."""
        if self.head_kind == "native":
            return int(torch.tensor(output_shape(features, self.window, self.in_channels)).prod())
        return pooled

    def linear_head(self, channels: int, width: int, dropout: float | None = None) -> nn.Module:
        """One linear map to the outputs: a 1x1 convolution over the trunk's ``channels``
        (position head) or a Linear layer over the summary's ``width``, after a dropout
        layer when ``dropout`` is given."""
        if self.head_kind == "position":
            layer: nn.Module = nn.Conv1d(channels, self.outputs, 1)
        else:
            layer = nn.Linear(width, self.outputs)
        return layer if dropout is None else nn.Sequential(nn.Dropout(dropout), layer)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def summarise(self, h: torch.Tensor) -> torch.Tensor:
        """The native head's summary of the trunk's features (flatten or global pooling)."""
        return h.flatten(1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, channels, L) one-hot and (batch,) lengths -> logits."""
        if self.head_kind == "native":
            return self.head(self.summarise(self.trunk(x, None)[0]))
        if lengths is None:
            lengths = torch.full((len(x),), x.shape[-1], dtype=torch.int64, device=x.device)
        h, n = self.trunk(x, lengths)
        if self.head_kind == "pooled":
            return self.head(masked_pool(h, n))
        return self.head(h).transpose(1, 2)
