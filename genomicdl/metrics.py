"""Metrics (scikit-learn): ranking metrics, thresholded metrics at a validation-chosen
threshold, Brier score, and seeded bootstrap confidence intervals."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    matthews_corrcoef,
    precision_recall_curve,
    roc_auc_score,
)


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < len(y)


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve; NaN when a class is missing."""
    return float(roc_auc_score(y, p)) if _both_classes(y) else math.nan


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (area under the PR curve); NaN without positives."""
    return float(average_precision_score(y, p)) if _both_classes(y) else math.nan


def mean_auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Mean auPRC over the tasks that have both classes (the early-stopping score)."""
    scores = [auprc(y[:, t], p[:, t]) for t in range(y.shape[1])]
    scores = [s for s in scores if not math.isnan(s)]
    return float(np.mean(scores)) if scores else math.nan


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold that maximises F1 (chosen on the validation split)."""
    if not _both_classes(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def bootstrap_ci(y: np.ndarray, p: np.ndarray, metric, n: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of ``metric``; resamples keep both classes (stratified)."""
    if n <= 0 or not _both_classes(y):
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    stats = np.empty(n)
    for i in range(n):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        stats[i] = metric(y[idx], p[idx])
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def task_metrics(
    y_test: np.ndarray,
    p_test: np.ndarray,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    bootstrap: int,
    seed: int,
    min_positives: int,
) -> dict[str, float | int | bool]:
    """Every metric of one task on the test split."""
    threshold = best_f1_threshold(y_valid, p_valid)
    pred = (p_test >= threshold).astype(int)
    roc_lo, roc_hi = bootstrap_ci(y_test, p_test, auroc, bootstrap, seed)
    prc_lo, prc_hi = bootstrap_ci(y_test, p_test, auprc, bootstrap, seed + 1)
    n_pos = int(y_test.sum())
    both = _both_classes(y_test)
    return {
        "auroc": auroc(y_test, p_test),
        "auprc": auprc(y_test, p_test),
        "auroc_lo": roc_lo,
        "auroc_hi": roc_hi,
        "auprc_lo": prc_lo,
        "auprc_hi": prc_hi,
        "threshold": threshold,
        "accuracy": float(accuracy_score(y_test, pred)),
        "f1": float(f1_score(y_test, pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y_test, pred)) if both else math.nan,
        "brier": float(brier_score_loss(y_test, p_test)) if len(y_test) else math.nan,
        "positives": n_pos,
        "negatives": int(len(y_test) - n_pos),
        "low_positives": n_pos < min_positives,
    }
