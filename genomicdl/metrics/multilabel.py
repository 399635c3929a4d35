"""Several 0/1 labels per row: micro/macro F1, Jaccard (samples), exact-match accuracy and
per-label F1/MCC, at per-label thresholds chosen on validation to maximise micro-F1 (the
kind's primary metric).

Each label's own best-F1 threshold (the start) is a poor set for micro-F1: for a rare,
weakly predicted label the best F1 lies at a low threshold that calls many rows positive
(predicting every row positive already scores F1 = 2p/(1+p) at prevalence p), and those
false positives count against every label in micro-F1. Coordinate ascent then moves one
label's threshold at a time to the value that maximises micro-F1 over all labels on the
validation split, the others held, until no move helps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genomicdl.metrics.base import Prepared, check_rows
from genomicdl.metrics.binary import best_f1_threshold
from genomicdl.metrics.resample import _divide

ALL_LABELS = "(all labels)"


#: Coordinate-ascent sweeps over the labels (each sweep moves every label's threshold once).
SWEEPS = 5


def label_thresholds(y_valid: np.ndarray, p_valid: np.ndarray) -> np.ndarray:
    """Per-label best-F1 thresholds on validation (0.5 where a label lacks a class)."""
    return np.array([best_f1_threshold(y_valid[:, j], p_valid[:, j]) for j in range(y_valid.shape[1])])


def _counts_at(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate thresholds of one label (its distinct scores, then one above the top) and
    the true and false positives when predicting ``p >= threshold`` at each."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(float)
    last = np.r_[ps[1:] != ps[:-1], True]  # the last row of each run of tied scores
    cuts = np.r_[ps[last], np.nextafter(ps[0], np.inf)]
    tp, fp = np.cumsum(ys)[last], np.cumsum(1 - ys)[last]
    return cuts, np.r_[tp, 0.0], np.r_[fp, 0.0]


def micro_f1_thresholds(y_valid: np.ndarray, p_valid: np.ndarray, sweeps: int = SWEEPS) -> np.ndarray:
    """Per-label thresholds that maximise micro-F1 on validation (coordinate ascent from the
    per-label best-F1 thresholds; a move must raise micro-F1, so it ends)."""
    y, p = y_valid.astype(bool), np.asarray(p_valid, dtype=float)
    cut = label_thresholds(y_valid, p_valid)
    if len(y) == 0:
        return cut
    curves = [_counts_at(y[:, j], p[:, j]) for j in range(y.shape[1])]
    positives = y.sum(axis=0).astype(float)
    tp = np.array([(y[:, j] & (p[:, j] >= cut[j])).sum() for j in range(y.shape[1])], float)
    fp = np.array([(~y[:, j] & (p[:, j] >= cut[j])).sum() for j in range(y.shape[1])], float)
    for _ in range(sweeps):
        moved = False
        for j, (cuts, tp_j, fp_j) in enumerate(curves):
            tp_o, fp_o = tp.sum() - tp[j], fp.sum() - fp[j]
            fn_all = positives.sum() - tp_o - tp_j
            f1 = _divide(2 * (tp_o + tp_j), 2 * (tp_o + tp_j) + fp_o + fp_j + fn_all, 0.0)
            now = _divide(2 * tp.sum(), 2 * tp.sum() + fp.sum() + positives.sum() - tp.sum(), 0.0)
            k = int(np.argmax(f1))
            if f1[k] > now + 1e-12:
                cut[j], tp[j], fp[j], moved = cuts[k], tp_j[k], fp_j[k], True
        if not moved:
            break
    return cut


def thresholds(y_valid: np.ndarray, p_valid: np.ndarray) -> np.ndarray:
    """The thresholds the metrics use: micro-F1-maximising on validation."""
    return micro_f1_thresholds(y_valid, p_valid)


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
