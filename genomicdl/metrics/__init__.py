"""Metrics for every target kind, with seeded, vectorised bootstrap confidence intervals.

``kind_metrics`` is the one entry point of the evaluate stage: long rows (task, split,
metric, value, lo, hi) for the validation and test splits. ``PRIMARY`` names each kind's
headline metric (the benchmark's ``score``); ``primary_scorer`` computes it on blocks of
bootstrap resamples for the benchmark's paired comparisons and task-mean intervals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from genomicdl.kinds import KINDS, get
from genomicdl.kinds.targets import PRIMARY
from genomicdl.metrics import binary, classes, multilabel, regression
from genomicdl.metrics.base import Prepared
from genomicdl.metrics.binary import auprc, auroc, best_f1_threshold, mean_auprc
from genomicdl.metrics.classes import confusion_table
from genomicdl.metrics.multilabel import ALL_LABELS
from genomicdl.metrics.resample import bootstrap_intervals, derived_seed

__all__ = [
    "ALL_LABELS",
    "KINDS",
    "METRIC_NAMES",
    "PRIMARY",
    "auprc",
    "auroc",
    "best_f1_threshold",
    "confusion_table",
    "kind_metrics",
    "mean_auprc",
    "primary_scorer",
    "task_metrics",
]

# every metric name a published figure may name (per-class ones carry ":<class>")
METRIC_NAMES = (
    *("auroc", "auprc", "accuracy", "f1", "mcc", "brier"),
    *("macro_f1", "micro_f1", "jaccard", "exact_match", "q_accuracy"),
    *("pearson", "spearman", "r2"),
)
COLUMNS = ("task", "split", "metric", "value", "lo", "hi")


def _flags(module: Any) -> Any:
    def prepare_flags(kind: str, **a: Any) -> list[Prepared]:
        keys = ("y", "p", "y_valid", "p_valid", "tasks", "min_positives")
        return module.prepare(**{key: a[key] for key in keys})

    return prepare_flags


def _classes(kind: str, **a: Any) -> list[Prepared]:
    if not a["class_names"]:
        raise ValueError(f"{kind}: the class names are missing")
    return classes.prepare(kind=kind, y=a["y"], p=a["p"], tasks=a["tasks"], classes=a["class_names"])


def _values(kind: str, **a: Any) -> list[Prepared]:
    return regression.prepare(kind=kind, y=a["y"], p=a["p"], tasks=a["tasks"])


#: the metrics module of each kind (its ``metrics`` field) -> its prepare
_PREPARE = {"binary": _flags(binary), "multilabel": _flags(multilabel), "classes": _classes, "regression": _values}


def prepare(
    kind: str,
    *,
    y: np.ndarray,
    p: np.ndarray,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    tasks: Sequence[str],
    class_names: Sequence[str] | None,
    min_positives: int = 0,
) -> list[Prepared]:
    """The metric groups of one split (thresholds always come from validation), by the
    kind's metrics module."""
    y, p, y_valid, p_valid = (np.asarray(a) for a in (y, p, y_valid, p_valid))
    arrays = {"y": y, "p": p, "y_valid": y_valid, "p_valid": p_valid}
    extra = {"tasks": tasks, "class_names": class_names, "min_positives": min_positives}
    return _PREPARE[get(kind).metrics](kind, **arrays, **extra)


def _rows(group: Prepared, split: str, bootstrap: int, seed: int) -> list[dict[str, Any]]:
    point = group.stats(np.ones((1, group.n), dtype=np.int64))
    ci = bootstrap_intervals(
        group.stats, n=group.n, resamples=bootstrap, seed=derived_seed(seed, group.key), strata=group.strata
    )
    rows = []
    for (task, metric), values in point.items():
        lo, hi = ci.get((task, metric), (math.nan, math.nan))
        rows.append(dict(zip(COLUMNS, (task, split, metric, float(values[0]), lo, hi))))
    for (task, metric), value in group.extras.items():
        rows.append(dict(zip(COLUMNS, (task, split, metric, float(value), math.nan, math.nan))))
    return rows


def kind_metrics(
    kind: str,
    *,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    tasks: Sequence[str],
    classes: Sequence[str] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    min_positives: int = 10,
) -> list[dict[str, Any]]:
    """Every metric of one run, long: dicts with task, split, metric, value, lo, hi.

    Test rows carry 95% percentile bootstrap intervals (``bootstrap`` seeded resamples of
    rows, sequences or mutants; stratified by class for binary); validation rows carry
    the same metrics without intervals (the benchmark selects on them). Shapes per kind
    as in the contract; lo/hi are NaN where there is no interval.
    """
    common = {"tasks": tasks, "class_names": classes, "min_positives": min_positives}
    rows = []
    for split, y, p, n_boot in (("test", y_test, p_test, bootstrap), ("valid", y_valid, p_valid, 0)):
        for group in prepare(kind, y=y, p=p, y_valid=y_valid, p_valid=p_valid, **common):
            rows += _rows(group, split, n_boot, seed)
    return rows


class PrimaryScorer:
    """The primary metric of each task on blocks of resample counts (resamples x rows)."""

    def __init__(self, kind: str, groups: list[Prepared], metric: str | None = None) -> None:
        self.metric = metric or get(kind).primary
        self.groups = groups
        self.n = groups[0].n if groups else 0
        keys = [k for g in groups for k in g.stats(np.ones((1, g.n), dtype=np.int64)) if k[1] == self.metric]
        self.tasks = [task for task, _ in keys]

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """(resamples x tasks) primary metric; NaN where a resample leaves it undefined."""
        cols = [v for g in self.groups for (_, m), v in g.stats(counts).items() if m == self.metric]
        return np.stack(cols, axis=1)


def primary_scorer(
    kind: str,
    *,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    tasks: Sequence[str],
    classes: Sequence[str] | None = None,
    metric: str | None = None,
) -> PrimaryScorer:
    """A scorer of the kind's primary metric (or ``metric``) on ``y``/``p``, thresholds from
    validation; its ``tasks`` are the tasks that have the metric."""
    groups = prepare(kind, y=y, p=p, y_valid=y_valid, p_valid=p_valid, tasks=tasks, class_names=classes)
    return PrimaryScorer(kind, groups, metric)


def task_metrics(
    y_test: np.ndarray,
    p_test: np.ndarray,
    y_valid: np.ndarray,
    p_valid: np.ndarray,
    bootstrap: int,
    seed: int,
    min_positives: int,
) -> dict[str, float | int | bool]:
    """Every binary metric of one task on the test split, as one flat dict (the former
    per-task interface, kept until the evaluate stage calls ``kind_metrics``)."""
    rows = kind_metrics(
        "binary",
        y_valid=np.asarray(y_valid)[:, None],
        p_valid=np.asarray(p_valid)[:, None],
        y_test=np.asarray(y_test)[:, None],
        p_test=np.asarray(p_test)[:, None],
        tasks=["task"],
        bootstrap=bootstrap,
        seed=seed,
        min_positives=min_positives,
    )
    out: dict[str, Any] = {}
    for row in rows:
        if row["split"] == "test":
            out[row["metric"]] = row["value"]
            if row["metric"] in ("auroc", "auprc"):
                out[f"{row['metric']}_lo"], out[f"{row['metric']}_hi"] = row["lo"], row["hi"]
    for key in ("positives", "negatives"):
        out[key] = int(out[key])
    out["low_positives"] = bool(out["low_positives"])
    return out
