"""Class rebalancing: the training index and loss weights of each strategy.

none          every training row once
class_weight  every row once; per-task positive weight n_neg / n_pos in the loss
undersample   all positive rows, a seeded random subset of negative rows
oversample    all rows, positive rows repeated at random (seeded)
focal         every row once; the focal loss (Lin et al. 2017) down-weights easy rows

A row is positive when any task is positive. The samplers are imbalanced-learn's,
applied to row numbers. Validation and test rows are never touched.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler

from genomicdl.encode import Store
from genomicdl.files import atomic_output, write_text_atomic

STRATEGIES = ("none", "class_weight", "undersample", "oversample", "focal")


def training_index(
    labels: np.ndarray, rows: np.ndarray, strategy: str, seed: int, ratio: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted row index with repeats, per-task positive loss weight) for a strategy."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown balance strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    n_tasks = labels.shape[1]
    pos_weight = np.ones(n_tasks, dtype=np.float32)
    positive = labels.any(axis=1).astype(np.int64)
    n_pos, n_neg = int(positive.sum()), int(len(positive) - positive.sum())
    index = rows
    if strategy == "class_weight":
        pos = labels.sum(axis=0).astype(np.float64)
        neg = len(labels) - pos
        pos_weight = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0).astype(np.float32)
    elif strategy in ("undersample", "oversample") and n_pos and n_neg:
        x = rows.reshape(-1, 1)
        if strategy == "undersample":
            keep = min(n_neg, max(1, math.ceil(ratio * n_pos)))
            sampler = RandomUnderSampler(sampling_strategy={0: keep, 1: n_pos}, random_state=seed)
        else:
            grow = max(n_pos, math.ceil(n_neg / ratio))
            sampler = RandomOverSampler(sampling_strategy={0: n_neg, 1: grow}, random_state=seed)
        index = sampler.fit_resample(x, positive)[0].ravel()
    return np.sort(index.astype(np.int64)), pos_weight


def class_counts(labels: np.ndarray, tasks: list[str], stage: str) -> list[str]:
    """TSV rows: stage, task, positives, negatives, positive fraction."""
    out = []
    for i, task in enumerate(tasks):
        pos = int(labels[:, i].sum())
        out.append(f"{stage}\t{task}\t{pos}\t{len(labels) - pos}\t{pos / max(len(labels), 1):.4f}")
    return out


def rebalance(
    store_path: str | Path, strategy: str, seed: int, ratio: float, out_index: str | Path, out_counts: str | Path
) -> dict[str, object]:
    """Write the training index (.npz) and the class counts before/after (.tsv)."""
    with Store(store_path) as store:
        rows = store.rows("train")
        if len(rows) == 0:
            raise ValueError(f"{store_path}: the training split is empty")
        all_labels = store.labels
        labels = all_labels[rows]
        index, pos_weight = training_index(labels, rows, strategy, seed, ratio)
        tasks = store.tasks
        after = all_labels[index]
    with atomic_output(out_index) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, index=index, pos_weight=pos_weight, strategy=np.array(strategy), seed=np.array(seed))
    lines = ["stage\ttask\tpositives\tnegatives\tpositive_fraction"]
    lines += class_counts(labels, tasks, "before")
    lines += class_counts(after, tasks, "after")
    write_text_atomic(out_counts, "\n".join(lines) + "\n")
    return {"rows_before": len(rows), "rows_after": len(index), "pos_weight": [float(w) for w in pos_weight]}


def load_index(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """(index, pos_weight, strategy) from a rebalance .npz."""
    with np.load(path) as data:
        return data["index"], data["pos_weight"], str(data["strategy"])
