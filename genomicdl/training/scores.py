"""Validation scores for early stopping and model choice, and the validation loss, per
target kind (higher score is better). The full metrics with confidence intervals are
in :mod:`genomicdl.metrics`; these are the cheap ones a training loop needs each epoch."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score

from genomicdl.kinds import KINDS, get
from genomicdl.kinds.targets import Target

#: The validation score of each kind the network engine trains (the kind's ``score``).
VALIDATION_SCORE = {name: str(get(name).score) for name in KINDS if get(name).trained}


def _mean_auprc(y: np.ndarray, p: np.ndarray) -> float:
    scores = [float(average_precision_score(y[:, t], p[:, t])) for t in range(y.shape[1]) if 0 < y[:, t].sum() < len(y)]
    return float(np.mean(scores)) if scores else math.nan


def _mean_pearson(y: np.ndarray, p: np.ndarray) -> float:
    scores = []
    for t in range(y.shape[1]):
        keep = ~np.isnan(y[:, t])
        if keep.sum() > 2 and np.std(y[keep, t]) > 0 and np.std(p[keep, t]) > 0:
            with np.errstate(invalid="ignore", divide="ignore"):  # float32 spread below rounding
                r = float(np.corrcoef(y[keep, t], p[keep, t].astype(np.float64))[0, 1])
            if math.isfinite(r):
                scores.append(r)
    return float(np.mean(scores)) if scores else math.nan


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(p.argmax(axis=1) == y)) if len(y) else math.nan


def _q_accuracy(y: np.ndarray, p: np.ndarray) -> float:
    keep = y >= 0
    return float(np.mean(p.argmax(axis=-1)[keep] == y[keep])) if keep.any() else math.nan


_SCORES = {"auprc": _mean_auprc, "accuracy": _accuracy, "q_accuracy": _q_accuracy, "pearson": _mean_pearson}


def validation_score(target: Target, y: np.ndarray, p: np.ndarray) -> float:
    """The kind's ``score``: mean auPRC (binary, multilabel), accuracy (multiclass),
    per-position accuracy over unmasked positions (per_position), mean Pearson over tasks
    (regression; on the log1p scale for count losses)."""
    k = target.k
    if k.score is None:
        raise ValueError(f"no validation score for target kind {k.name}")
    if k.labels == "values" and target.loss in ("poisson", "log1p_mse"):
        y, p = np.log1p(np.clip(y, 0, None)), np.log1p(np.clip(p, 0, None))
    return _SCORES[k.score](y, p)


def signal_score(tasks: tuple[str, ...] | list[str], y: np.ndarray, p: np.ndarray) -> float:
    """Early stopping on a signal store (bins of bigWig tracks, masked windows already left
    out): mean over tracks of the Pearson r of log1p window totals, the benchmark's primary
    metric; a window with a missing bin is left out of its track."""
    from genomicdl.kinds.signal_layout import layout

    tracks, bins = layout(tasks)
    y3 = np.asarray(y, np.float64).reshape(len(y), len(tracks), bins)
    p3 = np.asarray(p, np.float64).reshape(len(p), len(tracks), bins)
    return _mean_pearson(np.log1p(np.clip(y3.sum(-1), 0, None)), np.log1p(np.clip(p3.sum(-1), 0, None)))


def prediction_loss(target: Target, y: np.ndarray, p: np.ndarray) -> float:
    """The loss of predictions ``p`` on labels ``y`` (cross-entropy or squared error), by the
    kind's label layout."""
    eps = 1e-7
    labels = target.k.labels
    if labels == "flags":
        q = np.clip(p, eps, 1 - eps)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    if labels == "class":
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y.astype(np.int64)], eps, 1))))
    if labels == "positions":
        keep = y >= 0
        picked = np.take_along_axis(p, np.clip(y, 0, None).astype(np.int64)[..., None], axis=-1)[..., 0]
        return float(-np.mean(np.log(np.clip(picked[keep], eps, 1)))) if keep.any() else math.nan
    keep = ~np.isnan(y)
    return float(np.mean((y[keep] - p[keep]) ** 2)) if keep.any() else math.nan
