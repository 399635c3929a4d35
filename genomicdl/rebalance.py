"""Class rebalancing: the training index and loss weights of each strategy.

none          every training row once
class_weight  every row once; per-task positive weight n_neg / n_pos in the loss
undersample   all positive rows, a seeded random subset of negative rows
oversample    all rows, positive rows repeated at random (seeded)
focal         every row once; the focal loss (Lin et al. 2017) down-weights easy rows
              (networks only: a classical baseline trains on it as under none)

``ratio`` is the number of negatives per positive that undersample and oversample aim
for. A row is positive when any task is positive. The samplers are imbalanced-learn's,
applied to row numbers (no sequence is loaded). Validation and test rows are never
touched: the index holds training rows only.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from genomicdl.encode import Store
from genomicdl.files import atomic_output, write_text_atomic
from genomicdl.negatives import stable_seed

log = logging.getLogger(__name__)

STRATEGIES = ("none", "class_weight", "undersample", "oversample", "focal")
COUNT_COLUMNS = ("stage", "task", "positives", "negatives", "positive_fraction", "pos_weight")


def sampler_seed(strategy: str, seed: int) -> int:
    """The samplers' random_state: derived from the run seed (any size) and the strategy."""
    return stable_seed("rebalance", strategy, seed) % 2**32


def positive_weights(labels: np.ndarray) -> np.ndarray:
    """Per-task n_neg / n_pos of a label matrix (1 for a task without positives)."""
    pos = labels.sum(axis=0).astype(np.float64)
    neg = len(labels) - pos
    return np.where(pos > 0, neg / np.maximum(pos, 1), 1.0).astype(np.float32)


def training_index(
    labels: np.ndarray, rows: np.ndarray, strategy: str, seed: int, ratio: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted row index with repeats, per-task positive loss weight) for a strategy.

    ``labels`` are the labels of ``rows`` (the training split), in the same order.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown balance strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if ratio <= 0:
        raise ValueError(f"rebalance ratio must be positive, got {ratio}")
    rows = np.asarray(rows, dtype=np.int64)
    if len(labels) != len(rows):
        raise ValueError(f"{len(labels)} label rows for {len(rows)} training rows")
    pos_weight = np.ones(labels.shape[1], dtype=np.float32)
    positive = labels.any(axis=1).astype(np.int64)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    index = rows
    if strategy == "class_weight":
        pos_weight = positive_weights(labels)
    elif strategy in ("undersample", "oversample") and n_pos and n_neg:
        # imported here: the Snakefile imports this module for STRATEGIES, and
        # imbalanced-learn (with scikit-learn) takes seconds to import
        from imblearn.over_sampling import RandomOverSampler
        from imblearn.under_sampling import RandomUnderSampler

        state = sampler_seed(strategy, seed)
        if strategy == "undersample":
            keep = min(n_neg, max(1, math.ceil(ratio * n_pos)))
            sampler = RandomUnderSampler(sampling_strategy={0: keep, 1: n_pos}, random_state=state)
        else:
            grow = max(n_pos, math.ceil(n_neg / ratio))
            sampler = RandomOverSampler(sampling_strategy={0: n_neg, 1: grow}, random_state=state)
        index = sampler.fit_resample(rows.reshape(-1, 1), positive)[0].ravel()
    return np.sort(index.astype(np.int64)), pos_weight


def class_counts(labels: np.ndarray, tasks: list[str], stage: str, pos_weight: np.ndarray | None = None) -> list[str]:
    """TSV rows: stage, task, positives, negatives, positive fraction, positive loss weight."""
    out = []
    for i, task in enumerate(tasks):
        pos = int(labels[:, i].sum())
        weight = 1.0 if pos_weight is None else float(pos_weight[i])
        out.append(f"{stage}\t{task}\t{pos}\t{len(labels) - pos}\t{pos / max(len(labels), 1):.4f}\t{weight:.4g}")
    return out


def rebalance(
    store_path: str | Path, strategy: str, seed: int, ratio: float, out_index: str | Path, out_counts: str | Path
) -> dict[str, object]:
    """Write the training index (.npz) and the class counts before/after per task (.tsv)."""
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
    lines = ["\t".join(COUNT_COLUMNS)]
    lines += class_counts(labels, tasks, "before")
    lines += class_counts(after, tasks, "after", pos_weight)
    write_text_atomic(out_counts, "\n".join(lines) + "\n")
    log.info("%s: %d training rows -> %d (seed %d)", strategy, len(rows), len(index), seed)
    for line in lines[1:]:
        log.info("  %s", line.replace("\t", "  "))
    return {"rows_before": len(rows), "rows_after": len(index), "pos_weight": [float(w) for w in pos_weight]}


def load_index(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """(index, pos_weight, strategy) from a rebalance .npz."""
    with np.load(path) as data:
        return data["index"], data["pos_weight"], str(data["strategy"])
