"""Losses per target kind, chosen by the kind's activation (genomicdl.kinds.base); every
one ignores padding and missing labels.

sigmoid (binary, multilabel)        BCE with per-output positive weights, or focal
softmax (multiclass, per_position)  cross-entropy with per-class weights, or focal; per
                                    position: over unmasked positions (label -1 = masked)
linear, trained (regression)        MSE (optionally on log1p values) or Poisson NLL; NaN
                                    labels masked; multinomial: BPNet profile + count loss
                                    (genomicdl.kinds.signal_layout)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F  # noqa: N812

from genomicdl.kinds.signal_layout import layout
from genomicdl.kinds.targets import Target


def focal_binary(logits: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    """Binary focal loss (Lin et al. 2017), mean over elements."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = torch.exp(-bce)
    return ((1 - p_t) ** gamma * bce).mean()


def focal_softmax(
    logits: torch.Tensor, target: torch.Tensor, gamma: float, weight: torch.Tensor | None
) -> torch.Tensor:
    """Softmax focal loss over rows (logits (n, C), target (n,), -1 ignored)."""
    keep = target >= 0
    logits, target = logits[keep], target[keep]
    if len(target) == 0:
        return logits.sum() * 0
    logp = F.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)
    loss = -((1 - logp.exp()) ** gamma) * logp
    if weight is not None:
        loss = loss * weight[target]
    return loss.mean()


class KindLoss:
    """The training loss of a target kind, with the balance strategy's weights.

    ``weights``: per-output positive weights (binary, multilabel) or per-class weights
    (multiclass, per_position); ones for no weighting.
    """

    def __init__(self, target: Target, strategy: str, weights: torch.Tensor, gamma: float) -> None:
        self.target, self.focal, self.gamma = target, strategy == "focal", gamma
        self.weights = weights

    def __call__(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k = self.target.k
        if k.activation == "sigmoid":
            if self.focal:
                return focal_binary(logits, y, self.gamma)
            return F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.weights)
        if k.activation == "softmax":
            flat_logits = logits.reshape(-1, logits.shape[-1])
            flat_y = y.reshape(-1)
            if self.focal:
                return focal_softmax(flat_logits, flat_y, self.gamma, None)
            if not bool((flat_y >= 0).any()):
                return flat_logits.sum() * 0
            return F.cross_entropy(flat_logits, flat_y, weight=self.weights, ignore_index=-1)
        if k.trained and self.target.loss == "multinomial":
            return bpnet_loss(logits, y, self.target.tasks)
        if k.trained:
            return regression_loss(logits, y, self.target.loss, self.weights)
        raise ValueError(f"no training loss for target kind {k.name}")


def regression_loss(out: torch.Tensor, y: torch.Tensor, loss: str, weights: torch.Tensor | None = None) -> torch.Tensor:
    """MSE / log1p MSE / Poisson NLL (out = log rate) over the labels that are present;
    ``weights`` (one per output; signal.track_weights) scale each output's squared error
    (all ones: the plain mean)."""
    keep = ~torch.isnan(y)
    if not bool(keep.any()):
        return out.sum() * 0
    w = None if weights is None or bool((weights == 1).all()) else weights.expand_as(y)[keep]
    out, y = out[keep], y[keep]
    if loss == "poisson":
        return F.poisson_nll_loss(out, y, log_input=True, full=False)
    target = torch.log1p(y.clamp_min(0)) if loss == "log1p_mse" else y
    if w is not None:
        return (w * (out - target) ** 2).mean()
    return F.mse_loss(out, target)


def outputs_to_predictions(out: torch.Tensor, target: Target) -> torch.Tensor:
    """Network outputs -> predictions on the labels' natural scale."""
    activation = target.k.activation
    if activation == "sigmoid":
        return torch.sigmoid(out)
    if activation == "softmax":
        return torch.softmax(out, dim=-1)
    if target.loss in ("poisson", "multinomial"):  # log rates (multinomial: BPNet, profile_losses)
        return torch.exp(out)
    if target.loss == "log1p_mse":
        return torch.expm1(out).clamp_min(0)
    return out


def bpnet_loss(out, y, tasks: Sequence[str], count_weight: float | None = None):
    """Multinomial NLL of the profile + weighted MSE of log total counts (see module doc).

    ``out``, ``y``: (n, tracks * bins). A window-track with any NaN label is left out.
    """
    tracks, bins = layout(tasks)
    o = out.reshape(len(out), len(tracks), bins)
    t = y.reshape(len(y), len(tracks), bins)
    keep = ~torch.isnan(t).any(-1)  # (n, tracks)
    if not bool(keep.any()):
        return out.sum() * 0
    o, t = o[keep], t[keep].clamp_min(0)  # (m, bins)
    lse = torch.logsumexp(o, dim=-1)
    total = t.sum(-1)
    profile = -(t * (o - lse[:, None])).sum(-1).mean() / bins
    counts = ((lse - torch.log1p(total)) ** 2).mean()
    weight = count_weight if count_weight is not None else float(total.mean().detach()) / 2
    return profile + max(weight, 1.0) / bins * counts
