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

from genomicdl.core.enums import BALANCE_STRATEGIES
from genomicdl.core.files import atomic_output, write_text_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.io.store import Store
from genomicdl.kinds import get

log = logging.getLogger(__name__)

STRATEGIES = BALANCE_STRATEGIES  # the one list, in genomicdl.core.enums
COUNT_COLUMNS = ("stage", "task", "positives", "negatives", "positive_fraction", "pos_weight")


def sampler_seed(strategy: str, seed: int) -> int:
    """The samplers' random_state: derived from the run seed (any size) and the strategy."""
    return stable_seed("rebalance", strategy, seed) % 2**32


def positive_weights(labels: np.ndarray) -> np.ndarray:
    """Per-task n_neg / n_pos of a label matrix (1 for a task without positives)."""
    pos = labels.sum(axis=0).astype(np.float64)
    neg = len(labels) - pos
    return np.where(pos > 0, neg / np.maximum(pos, 1), 1.0).astype(np.float32)


def class_weights(counts: np.ndarray) -> np.ndarray:
    """Balanced per-class weights n / (C * n_c) (1 for a class never seen)."""
    counts = counts.astype(np.float64)
    total, present = counts.sum(), max(int((counts > 0).sum()), 1)
    return np.where(counts > 0, total / (present * np.maximum(counts, 1)), 1.0).astype(np.float32)


def _resample(rows: np.ndarray, groups: np.ndarray, strategy: str, seed: int, ratio: float) -> np.ndarray:
    """Undersample every group to ``ratio`` x the smallest, or oversample every group to
    the largest / ``ratio`` (imbalanced-learn's random samplers on row numbers)."""
    # imported here: the Snakefile imports this module's names, and imbalanced-learn
    # (with scikit-learn) takes seconds to import
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    names, counts = np.unique(groups, return_counts=True)
    if len(names) < 2:
        return rows
    state = sampler_seed(strategy, seed)
    if strategy == "undersample":
        floor = int(counts.min())
        target = {g: min(int(c), max(floor, math.ceil(ratio * floor))) for g, c in zip(names.tolist(), counts)}
        sampler = RandomUnderSampler(sampling_strategy=target, random_state=state)
    else:
        top = int(counts.max())
        target = {g: max(int(c), math.ceil(top / ratio)) for g, c in zip(names.tolist(), counts)}
        sampler = RandomOverSampler(sampling_strategy=target, random_state=state)
    return sampler.fit_resample(rows.reshape(-1, 1), groups)[0].ravel()


def training_index(
    labels: np.ndarray,
    rows: np.ndarray,
    strategy: str,
    seed: int,
    ratio: float = 1.0,
    *,
    kind: str = "binary",
    n_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(sorted row index with repeats, per-output loss weights) for a strategy.

    ``labels`` are the labels of ``rows`` (the training split), in the same order, in
    the kind's shape. Binary/multilabel: a row is positive when any output is, and the
    weights are per-output positive weights. Multiclass: classes are the groups, and the
    weights per-class weights.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown balance strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if ratio <= 0:
        raise ValueError(f"rebalance ratio must be positive, got {ratio}")
    rows = np.asarray(rows, dtype=np.int64)
    if len(labels) != len(rows):
        raise ValueError(f"{len(labels)} label rows for {len(rows)} training rows")
    if get(kind).labels == "class":
        n_classes = n_classes or (int(labels.max()) + 1 if len(labels) else 1)
        weights = np.ones(n_classes, np.float32)
        groups = labels.astype(np.int64)
        if strategy == "class_weight":
            weights = class_weights(np.bincount(groups, minlength=n_classes))
    else:
        weights = np.ones(labels.shape[1], dtype=np.float32)
        groups = labels.any(axis=1).astype(np.int64)
        if strategy == "class_weight":
            weights = positive_weights(labels)
    index = rows
    if strategy in ("undersample", "oversample"):
        if get(kind).labels == "flags":
            index = _resample_binary(rows, groups, strategy, seed, ratio)
        else:
            index = _resample(rows, groups, strategy, seed, ratio)
    return np.sort(index.astype(np.int64)), weights


def _resample_binary(rows: np.ndarray, positive: np.ndarray, strategy: str, seed: int, ratio: float) -> np.ndarray:
    """Binary: ``ratio`` negatives per positive after under- or oversampling."""
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return rows
    state = sampler_seed(strategy, seed)
    if strategy == "undersample":
        keep = min(n_neg, max(1, math.ceil(ratio * n_pos)))
        sampler = RandomUnderSampler(sampling_strategy={0: keep, 1: n_pos}, random_state=state)
    else:
        grow = max(n_pos, math.ceil(n_neg / ratio))
        sampler = RandomOverSampler(sampling_strategy={0: n_neg, 1: grow}, random_state=state)
    return sampler.fit_resample(rows.reshape(-1, 1), positive)[0].ravel()


def position_class_counts(store: Store, rows: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class counts of the unmasked per-position labels of ``rows`` (streamed)."""
    counts = np.zeros(n_classes, np.int64)
    for _, _, positions in store.batches(rows, 4096, with_positions=True):
        flat = positions[positions >= 0].astype(np.int64)
        counts += np.bincount(flat, minlength=n_classes)
    return counts


def class_counts(
    positives: np.ndarray, total: int, tasks: list[str], stage: str, pos_weight: np.ndarray | None = None
) -> list[str]:
    """TSV rows: stage, task (or class), positives, negatives, positive fraction, loss weight."""
    out = []
    for i, task in enumerate(tasks):
        pos = int(positives[i]) if i < len(positives) else 0
        weight = 1.0 if pos_weight is None else float(pos_weight[i])
        out.append(f"{stage}\t{task}\t{pos}\t{total - pos}\t{pos / max(total, 1):.4f}\t{weight:.4g}")
    return out


def rebalance(
    store_path: str | Path, strategy: str, seed: int, ratio: float, out_index: str | Path, out_counts: str | Path
) -> dict[str, object]:
    """Write the training index (.npz) and the class counts before/after per task (.tsv)."""
    with Store(store_path) as store:
        rows = store.rows("train")
        if len(rows) == 0:
            raise ValueError(f"{store_path}: the training split is empty")
        kind, tasks = store.kind, store.tasks
        if get(kind).per_position:
            counts = position_class_counts(store, rows, len(store.classes))
            pos_weight = class_weights(counts) if strategy == "class_weight" else np.ones(len(counts), np.float32)
            index, tasks = rows, store.classes
            before = after = (counts, int(counts.sum()))
        else:
            all_labels = store.labels
            index, pos_weight = training_index(
                all_labels[rows], rows, strategy, seed, ratio, kind=kind, n_classes=len(store.classes) or None
            )
            before, after = _count_view(all_labels[rows], kind), _count_view(all_labels[index], kind)
            if (store.attr("signal") or {}).get("track_weights", "equal") == "inverse_variance":
                pos_weight = inverse_variance_weights(all_labels[rows][store.mask[rows] == 0], tasks)
            if get(kind).labels == "class":
                tasks = store.classes
    with atomic_output(out_index) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, index=index, pos_weight=pos_weight, strategy=np.array(strategy), seed=np.array(seed))
    lines = ["\t".join(COUNT_COLUMNS)]
    lines += class_counts(*before, tasks, "before")
    lines += class_counts(*after, tasks, "after", pos_weight)
    write_text_atomic(out_counts, "\n".join(lines) + "\n")
    log.info("%s: %d training rows -> %d (seed %d)", strategy, len(rows), len(index), seed)
    for line in lines[1:]:
        log.info("  %s", line.replace("\t", "  "))
    return {"rows_before": len(rows), "rows_after": len(index), "pos_weight": [float(w) for w in pos_weight]}


def inverse_variance_weights(labels: np.ndarray, tasks: list[str]) -> np.ndarray:
    """Per-output loss weights of a signal store (tracks x bins): 1 / the variance of each
    track's log1p bins over ``labels`` (the kept training windows), scaled to mean 1 over
    tracks and repeated over the track's bins. A track without variance is an error."""
    from genomicdl.kinds.signal_layout import layout

    tracks, bins = layout(tasks)
    logs = np.log1p(np.clip(labels.reshape(len(labels), len(tracks), bins).astype(np.float64), 0, None))
    var = np.array([np.nanvar(logs[:, t]) for t in range(len(tracks))])
    if len(labels) == 0 or not np.all(np.isfinite(var) & (var > 0)):
        raise ValueError(f"track_weights inverse_variance: a track without variance in the training windows ({tracks})")
    w = 1 / var
    return np.repeat(w / w.mean(), bins).astype(np.float32)


def _count_view(labels: np.ndarray, kind: str) -> tuple[np.ndarray, int]:
    """(positives per task or class, rows) for the class counts table; regression counts
    present values."""
    if get(kind).labels == "class":
        return np.bincount(labels.astype(np.int64)), len(labels)
    if get(kind).labels == "values":
        return (~np.isnan(labels)).sum(axis=0), len(labels)
    return labels.sum(axis=0, dtype=np.int64), len(labels)


def load_index(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """(index, pos_weight, strategy) from a rebalance .npz."""
    with np.load(path) as data:
        return data["index"], data["pos_weight"], str(data["strategy"])
