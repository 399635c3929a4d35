"""Several 0/1 labels per row: micro/macro F1, Jaccard (samples), exact-match accuracy and
per-label F1/MCC, at per-label thresholds chosen on validation (best F1)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genomicdl.metrics.base import Prepared, check_rows
from genomicdl.metrics.binary import best_f1_threshold
from genomicdl.metrics.resample import _divide

ALL_LABELS = "(all labels)"


def thresholds(y_valid: np.ndarray, p_valid: np.ndarray) -> np.ndarray:
    """Per-label best-F1 thresholds on validation (0.5 where a label lacks a class)."""
    return np.array([best_f1_threshold(y_valid[:, j], p_valid[:, j]) for j in range(y_valid.shape[1])])


def label_stats(counts: np.ndarray, y: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-resample tp, fp, fn, tn (resamples x labels) and row-wise sums."""
    w = counts.astype(float)
    yb, pb = y.astype(bool), pred.astype(bool)
    inter, union = (yb & pb).sum(axis=1), (yb | pb).sum(axis=1)
    return {
        "tp": w @ (yb & pb),
        "fp": w @ (~yb & pb),
        "fn": w @ (yb & ~pb),
        "tn": w @ (~yb & ~pb),
        "rows": w.sum(axis=1),
        "jaccard": w @ _divide(inter, union, 1.0),  # both sets empty: full agreement
        "exact": w @ (yb == pb).all(axis=1),
    }


def prepare(
    *, y: np.ndarray, p: np.ndarray, y_valid: np.ndarray, p_valid: np.ndarray, tasks: Sequence[str], min_positives: int
) -> list[Prepared]:
    """One group: set-level metrics under ALL_LABELS, per-label F1 and MCC under each label."""
    check_rows("multilabel", y, p, 2, 2)
    check_rows("multilabel", y_valid, p_valid, 2, 2)
    cut = thresholds(y_valid, p_valid)
    pred = p >= cut

    def stats(counts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        s = label_stats(counts, y, pred)
        tp, fp, fn, tn = s["tp"], s["fp"], s["fn"], s["tn"]
        f1 = _divide(2 * tp, 2 * tp + fp + fn, 0.0)
        den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        mcc = _divide(tp * tn - fp * fn, den, 0.0)
        out = {
            (ALL_LABELS, "micro_f1"): _divide(2 * tp.sum(1), (2 * tp + fp + fn).sum(1), 0.0),
            (ALL_LABELS, "macro_f1"): f1.mean(axis=1),
            (ALL_LABELS, "jaccard"): _divide(s["jaccard"], s["rows"]),
            (ALL_LABELS, "exact_match"): _divide(s["exact"], s["rows"]),
        }
        for j, label in enumerate(tasks):
            out[(label, "f1")], out[(label, "mcc")] = f1[:, j], mcc[:, j]
        return out

    extras: dict[tuple[str, str], float] = {(ALL_LABELS, "n"): float(len(y))}
    for j, label in enumerate(tasks):
        n_pos = int(y[:, j].sum())
        extras |= {(label, "threshold"): float(cut[j]), (label, "positives"): float(n_pos)}
        extras[(label, "low_positives")] = float(n_pos < min_positives)
    return [Prepared(len(y), stats, extras, key=ALL_LABELS)]
