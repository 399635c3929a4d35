"""What every target kind's metrics module hands the driver: units to resample, the
statistics on a block of resample counts, and point-only values."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from genomicdl.metrics.resample import Stats


@dataclass
class Prepared:
    """One group of metrics that share their resamples.

    ``stats(counts)`` maps (task, metric) to one value per resample of ``n`` units (a
    ``ones((1, n))`` count matrix gives the point estimates); ``extras`` are values without
    an interval (thresholds, counts); ``strata`` resamples within groups of units
    (binary: positives and negatives); ``key`` seeds this group's resamples.
    """

    n: int
    stats: Callable[[np.ndarray], Stats]
    extras: dict[tuple[str, str], float] = field(default_factory=dict)
    strata: Sequence[np.ndarray] | None = None
    key: str = ""


def check_rows(kind: str, y: np.ndarray, p: np.ndarray, ndim_y: int, ndim_p: int) -> None:
    """Labels and predictions of a kind have the expected ranks and the same rows."""
    if y.ndim != ndim_y or p.ndim != ndim_p or len(y) != len(p):
        raise ValueError(
            f"{kind}: labels of shape {y.shape} and predictions of shape {p.shape} do not fit the kind "
            f"(expected {ndim_y}-d labels and {ndim_p}-d predictions with the same rows)"
        )


def nan_stats(keys: Sequence[tuple[str, str]], resamples: int) -> dict[tuple[str, str], np.ndarray]:
    """NaN for every key (a metric that is undefined on these labels)."""
    return {key: np.full(resamples, math.nan) for key in keys}
