"""Validation scores for early stopping and model choice, and the validation loss, per
target kind (higher score is better). The full metrics with confidence intervals are
in :mod:`genomicdl.metrics`; these are the cheap ones a training loop needs each epoch."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score

from genomicdl.kinds.targets import Target

VALIDATION_SCORE = {
    "binary": "auprc",
    "multilabel": "auprc",
    "multiclass": "accuracy",
    "per_position": "q_accuracy",
    "regression": "pearson",
}


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


def validation_score(target: Target, y: np.ndarray, p: np.ndarray) -> float:
    """Mean auPRC (binary, multilabel), accuracy (multiclass), per-position accuracy over
    unmasked positions (per_position), mean Pearson over tasks (regression)."""
    kind = target.kind
    if kind in ("binary", "multilabel"):
        return _mean_auprc(y, p)
    if kind == "multiclass":
        return float(np.mean(p.argmax(axis=1) == y)) if len(y) else math.nan
    if kind == "per_position":
        keep = y >= 0
        return float(np.mean(p.argmax(axis=-1)[keep] == y[keep])) if keep.any() else math.nan
    if kind == "regression":
        if target.loss in ("poisson", "log1p_mse"):
            y, p = np.log1p(np.clip(y, 0, None)), np.log1p(np.clip(p, 0, None))
        return _mean_pearson(y, p)
    raise ValueError(f"no validation score for target kind {kind}")


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
    """The loss of predictions ``p`` on labels ``y`` (cross-entropy or squared error)."""
    eps = 1e-7
    kind = target.kind
    if kind in ("binary", "multilabel"):
        q = np.clip(p, eps, 1 - eps)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    if kind == "multiclass":
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y.astype(np.int64)], eps, 1))))
    if kind == "per_position":
        keep = y >= 0
        picked = np.take_along_axis(p, np.clip(y, 0, None).astype(np.int64)[..., None], axis=-1)[..., 0]
        return float(-np.mean(np.log(np.clip(picked[keep], eps, 1)))) if keep.any() else math.nan
    keep = ~np.isnan(y)
    return float(np.mean((y[keep] - p[keep]) ** 2)) if keep.any() else math.nan
