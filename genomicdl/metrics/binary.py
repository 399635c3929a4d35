"""Binary targets (one 0/1 label per task): auROC and auPRC with stratified bootstrap
intervals, and accuracy, F1, MCC at the threshold that maximises F1 on validation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    precision_recall_curve,
    roc_auc_score,
)

from genomicdl.metrics.base import Prepared, check_rows
from genomicdl.metrics.resample import Ties, ranking_counts


def both_classes(y: np.ndarray) -> bool:
    """Both 0 and 1 occur."""
    return 0 < int(y.sum()) < len(y)


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve; NaN when a class is missing."""
    return float(roc_auc_score(y, p)) if both_classes(y) else math.nan


def auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Average precision (area under the PR curve); NaN without positives."""
    return float(average_precision_score(y, p)) if both_classes(y) else math.nan


def mean_auprc(y: np.ndarray, p: np.ndarray) -> float:
    """Mean auPRC over the tasks that have both classes (the early-stopping score)."""
    scores = [auprc(y[:, t], p[:, t]) for t in range(y.shape[1])]
    scores = [s for s in scores if not math.isnan(s)]
    return float(np.mean(scores)) if scores else math.nan


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold that maximises F1 (chosen on the validation split)."""
    if not both_classes(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def ranking_stats(task: str, y: np.ndarray, p: np.ndarray):
    """auROC and auPRC of one task on every resample of a count block."""
    ties = Ties(p)

    def stats(counts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        roc, prc = ranking_counts(y, ties, counts)
        return {(task, "auroc"): roc, (task, "auprc"): prc}

    return stats


def thresholded(y: np.ndarray, p: np.ndarray, threshold: float, min_positives: int) -> dict[str, float]:
    """Metrics at a fixed threshold, the Brier score and the class counts."""
    pred = (p >= threshold).astype(int)
    n_pos = int(y.sum())
    return {
        "threshold": threshold,
        "accuracy": float(accuracy_score(y, pred)) if len(y) else math.nan,
        "f1": float(f1_score(y, pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y, pred)) if both_classes(y) else math.nan,
        "brier": float(np.mean((p - y) ** 2)) if len(y) else math.nan,
        "positives": n_pos,
        "negatives": int(len(y) - n_pos),
        "low_positives": float(n_pos < min_positives),
    }


def prepare(
    *, y: np.ndarray, p: np.ndarray, y_valid: np.ndarray, p_valid: np.ndarray, tasks: Sequence[str], min_positives: int
) -> list[Prepared]:
    """One group per task: positives and negatives resampled separately (stratified)."""
    check_rows("binary", y, p, 2, 2)
    check_rows("binary", y_valid, p_valid, 2, 2)
    groups = []
    for t, task in enumerate(tasks):
        yt, pt = y[:, t].astype(np.int64), p[:, t].astype(float)
        threshold = best_f1_threshold(y_valid[:, t], p_valid[:, t])
        extras = {(task, k): v for k, v in thresholded(yt, pt, threshold, min_positives).items()}
        strata = (np.flatnonzero(yt == 1), np.flatnonzero(yt == 0)) if both_classes(yt) else None
        groups.append(Prepared(len(yt), ranking_stats(task, yt, pt), extras, strata, key=task))
    return groups
