"""One class per row (multiclass) or per position (per_position): metrics from confusion
matrices, resampled over rows or over whole sequences (masked positions, -1, never count)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from genomicdl.kinds import get
from genomicdl.metrics.base import Prepared, check_rows
from genomicdl.metrics.resample import cell_matrix, confusion_stats, confusions


def class_pairs(kind: str, y: np.ndarray, p: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit of each counted label, true class, predicted class), masked positions left out."""
    if not get(kind).per_position:
        check_rows(kind, y, p, 1, 2)
        units, true, pred = np.arange(len(y)), y.astype(np.int64), p.argmax(axis=1)
    else:
        check_rows(kind, y, p, 2, 3)
        if p.shape[1] != y.shape[1]:
            raise ValueError(f"per_position: labels of length {y.shape[1]} but predictions of length {p.shape[1]}")
        keep = y >= 0
        units, _ = np.nonzero(keep)
        true, pred = y[keep].astype(np.int64), p.argmax(axis=2)[keep]
    if p.shape[-1] != classes:
        raise ValueError(f"{kind}: predictions have {p.shape[-1]} classes, the target has {classes}")
    if len(true) and (true.min() < 0 or true.max() >= classes):
        raise ValueError(f"{kind}: a label is outside the {classes} classes (0..{classes - 1})")
    return units, true, pred


def prepare(*, kind: str, y: np.ndarray, p: np.ndarray, tasks: Sequence[str], classes: Sequence[str]) -> list[Prepared]:
    """One group: confusion-matrix metrics on rows (multiclass) or sequences (per_position)."""
    task, c = tasks[0], len(classes)
    units, true, pred = class_pairs(kind, y, p, c)
    cells = cell_matrix(units, true, pred, c, len(y))
    per_position = get(kind).per_position
    rename = {"accuracy": "q_accuracy"} if per_position else {}

    def stats(counts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        out = confusion_stats(confusions(counts, cells, c), classes, task)
        return {(t, rename.get(m, m)): v for (t, m), v in out.items()}

    extras = {(task, "n"): float(len(y))}
    if per_position:
        extras[(task, "positions")] = float(len(true))
    return [Prepared(len(y), stats, extras, key=task)]


def confusion_table(*, kind: str, y: np.ndarray, p: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """Long confusion matrix (true, predicted, count) of every class pair, for tables and plots."""
    _, true, pred = class_pairs(kind, y, p, len(classes))
    c = len(classes)
    counts = np.bincount(true * c + pred, minlength=c * c).reshape(c, c)
    names = np.asarray(classes, dtype=object)
    t, q = np.meshgrid(np.arange(c), np.arange(c), indexing="ij")
    return pd.DataFrame({"true": names[t.ravel()], "predicted": names[q.ravel()], "count": counts.ravel()})
