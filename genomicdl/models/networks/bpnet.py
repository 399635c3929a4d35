"""Signal models: BPNet (base-resolution profiles) and binned heads on the zoo's trunks.

Avsec Z, Weilert M, Shrikumar A, et al. Base-resolution models of transcription-factor
binding reveal soft motif syntax. Nat Genet 53, 354-366 (2021).

Both read the layout of a signal target from its task names (tracks x bins, track-major;
genomicdl.kinds.signal_layout) and predict the centred ``output_length`` bases of the input
window (null: the whole window), as log expected counts per bin: train them with
``loss: poisson`` (binned) or ``loss: multinomial`` (BPNet's profile + count loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from genomicdl.kinds.signal_layout import layout
from genomicdl.models.networks.layers import Network, NetworkArgs


def _geometry(tasks: Sequence[str], outputs: int, window: int, output_length: int | None) -> tuple[int, int, int]:
    """(tracks, bins, output length) checked against the head width and the window."""
    tracks, bins = layout(tasks)
    out = int(output_length or window)
    if len(tracks) * bins != outputs or out % bins or out > window or (window - out) % 2:
        raise ValueError(
            f"signal model: {len(tracks)} tracks x {bins} bins over {out} bp does not fit a window of {window} "
            "(set model_params.<model>.output_length to the dataset's signal.output_length)"
        )
    return len(tracks), bins, out


class SignalArgs(NetworkArgs, total=False):
    """The keyword arguments of every signal model beside its own."""

    tasks: Sequence[str]  # the target's task names (tracks x bins; default: one bin per output)
    output_length: int | None  # the centred bases predicted (None: the whole window)


class SignalNetwork(Network):
    """The base of the signal models: the tracks x bins layout of the target over the
    centred ``output_length`` bases; a pooled head is the native one (fixed windows)."""

    wants_tasks = True
    head_aliases: ClassVar[dict[str, str]] = {"pooled": "native"}

    def __init__(
        self, outputs: int, window: int, *, tasks: Sequence[str] = (), output_length: int | None = None,
        **base: Unpack[NetworkArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **base)
        self.tracks, self.bins, self.output_length = _geometry(tasks or [str(i) for i in range(outputs)], outputs,
                                                               window, output_length)  # fmt: skip


class BPNet(SignalNetwork):
    """BPNet (Avsec et al. 2021): a 25-bp convolution, ``layers`` dilated residual
    convolutions (width 3, dilation 2^i), a profile head (a wide transposed-style
    convolution to one logit per base and track, cropped to the output and summed into
    bins) and a total-count head (global average pooling, a linear layer to one log
    count per track). Output: per-bin log expected counts = log softmax(profile) + log
    count, so the profile sums to the predicted total. ``count_pool``: the count head
    averages the trunk over the whole input ``window`` (the paper's, where input and
    output coincide) or over the centred ``output`` whose total it predicts.
    """

    name = "bpnet"

    def __init__(
        self, outputs: int, window: int, *, filters: int = 64, layers: int = 9, stem_width: int = 25,
        profile_width: int = 75, count_pool: str = "window", **signal: Unpack[SignalArgs],
    ) -> None:  # fmt: skip
        super().__init__(outputs, window, **signal)
        if count_pool not in ("window", "output"):
            raise ValueError(f"bpnet count_pool must be 'window' or 'output', not {count_pool!r}")
        self.count_pool = count_pool
        self.set_trunk(1, filters)
        self.stem = nn.Conv1d(self.in_channels, filters, stem_width, padding=stem_width // 2)
        self.dilated = nn.ModuleList(
            nn.Conv1d(filters, filters, 3, padding=2**i, dilation=2**i) for i in range(1, layers + 1)
        )
        self.profile = nn.Conv1d(filters, self.tracks, profile_width, padding=profile_width // 2)
        self.counts = nn.Linear(filters, self.tracks)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = F.relu(self.stem(x))
        for conv in self.dilated:
            h = h + F.relu(conv(h))
        return h, lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        h, _ = self.trunk(x)
        logits = self.profile_logits(h)  # (n, tracks, output_length)
        binned = torch.logsumexp(logits.reshape(x.shape[0], self.tracks, self.bins, -1), dim=-1)
        if self.count_pool == "output":
            lo = (int(h.shape[-1]) - self.output_length) // 2
            h = h[:, :, lo : lo + self.output_length]
        log_total = self.counts(h.mean(-1))  # (n, tracks)
        out = torch.log_softmax(binned, dim=-1) + log_total[:, :, None]
        return out.reshape(x.shape[0], -1)

    def profile_logits(self, h: torch.Tensor) -> torch.Tensor:
        """The profile convolution over the output only: the same numbers as convolving the
        whole (zero-padded) trunk and cropping, at output_length / window of the cost (the
        wide, 4-channel head was 2/3 of a CPU training step when it ran over the window)."""
        pad = self.profile.padding[0]
        lo = (h.shape[-1] - self.output_length) // 2
        width = self.profile.kernel_size[0]
        span = F.pad(h, (pad, pad))[:, :, lo : lo + self.output_length + width - 1]
        return F.conv1d(span, self.profile.weight, self.profile.bias)


class BinnedSignal(SignalNetwork):
    """A binned coverage head (Basenji-style; Kelley et al. 2018) on any trunk of the
    zoo: the trunk's features over the centred output are average-pooled into the bins
    and a 1x1 convolution gives one value per bin and track (a log rate for ``loss:
    poisson``, a log1p value for ``log1p_mse``)."""

    name = "binned"

    def __init__(
        self, outputs: int, window: int, *, trunk: str = "dilated", trunk_params: dict | None = None,
        **signal: Unpack[SignalArgs],
    ) -> None:  # fmt: skip
        from genomicdl.models import model_class

        super().__init__(outputs, window, **signal)
        params = trunk_params or {}
        self.body = model_class(trunk)(outputs, window, in_channels=self.in_channels, head="pooled", **params)
        self.stride, self.trunk_channels = self.body.stride, self.body.trunk_channels  # bins, never per position
        self.head = nn.Conv1d(self.trunk_channels, self.tracks, 1)

    def trunk(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.body.trunk(x, lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        h, _ = self.trunk(x)
        length = int(x.shape[-1])  # plain ints: the geometry is fixed by the window (and traces)
        scale = int(h.shape[-1]) / length
        lo = round((length - self.output_length) / 2 * scale)
        width = max(self.bins, round(self.output_length * scale))
        h = F.adaptive_avg_pool1d(h[:, :, lo : lo + width], self.bins)
        return self.head(h).reshape(x.shape[0], -1)
