"""Real-valued targets: Pearson, Spearman and R² per task (missing labels, NaN, masked per
task), and mutation effects: Spearman (and Pearson) of predicted against measured effects,
resampled over mutants."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genomicdl.kinds import get
from genomicdl.metrics.base import Prepared, check_rows
from genomicdl.metrics.resample import Ties, weighted_pearson, weighted_r2, weighted_spearman


def task_stats(task: str, y: np.ndarray, p: np.ndarray, keep: np.ndarray, r2: bool):
    """Correlations (and R²) of one task's measured rows on every resample of a count block."""
    yk, pk = y[keep].astype(float), p[keep].astype(float)
    ty, tp = Ties(yk), Ties(pk)

    def stats(counts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        c = counts[:, keep]
        out = {(task, "pearson"): weighted_pearson(c, yk, pk), (task, "spearman"): weighted_spearman(c, ty, tp)}
        if r2:
            out[(task, "r2")] = weighted_r2(c, yk, pk)
        return out

    return stats


def prepare(*, kind: str, y: np.ndarray, p: np.ndarray, tasks: Sequence[str]) -> list[Prepared]:
    """One group: every task resampled over the same rows (mutants for mutation_effect)."""
    effects = get(kind).labels == "effects"
    if effects and y.ndim == 1:
        check_rows(kind, y, p, 1, 1)  # one scan: (n,) fitness and effects
        y, p = y[:, None], p[:, None]
    elif effects:
        check_rows(kind, y, p, 2, 2)  # several scans: (n, scans), NaN outside each scan's rows
    else:
        check_rows(kind, y, p, 2, 2)
    if y.shape[1] != len(tasks) or p.shape[1] != len(tasks):
        raise ValueError(f"{kind}: {len(tasks)} tasks but labels {y.shape} and predictions {p.shape}")
    y = y.astype(float)
    parts, extras = [], {}
    for t, task in enumerate(tasks):
        keep = np.isfinite(y[:, t]) & np.isfinite(p[:, t])
        parts.append(task_stats(task, y[:, t], p[:, t], keep, r2=not effects))
        extras[(task, "n")] = float(keep.sum())

    def stats(counts: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        return {k: v for part in parts for k, v in part(counts).items()}

    return [Prepared(len(y), stats, extras, key="rows")]
