"""Vectorised bootstrap: resamples as count matrices and metrics on all of them at once.

A block of resamples is a matrix ``counts`` (resamples x units): how often each unit
(row, sequence, mutant) was drawn. Every metric here is a function of those counts and
the unit's values, so one matrix product or cumulative sum replaces a loop of
scikit-learn calls; ``counts = ones((1, n))`` gives the point estimate, equal to
scikit-learn's within floating-point error (tested).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy import sparse

BLOCK = 1 << 22  # most elements of one (resamples x units) count block
LEVEL = 0.95

Stats = Mapping[tuple[str, str], np.ndarray]  # (task, metric) -> one value per resample


def derived_seed(seed: int, *parts: object) -> int:
    """A stable 63-bit seed for one (run seed, task, purpose)."""
    text = "\x1f".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1


def draw(rng: np.random.Generator, *, n: int, resamples: int, strata: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Row indices of ``resamples`` bootstrap resamples (resamples x drawn rows).

    With ``strata`` every stratum is resampled within itself, in the order of the
    former per-resample loop (``rng.choice(stratum, len(stratum))`` per stratum).
    """
    if strata is None:
        return rng.integers(0, n, (resamples, n))
    return np.stack([np.concatenate([rng.choice(s, len(s)) for s in strata]) for _ in range(resamples)])


def counts_of(index: np.ndarray, n: int) -> np.ndarray:
    """(resamples x n) counts of each unit in each resample from drawn indices."""
    b = len(index)
    flat = (index + np.arange(b)[:, None] * n).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n)


def count_blocks(
    *, n: int, resamples: int, seed: int, strata: Sequence[np.ndarray] | None = None
) -> Iterator[np.ndarray]:
    """Seeded resample count blocks of at most ``BLOCK`` elements, all ``resamples`` in order."""
    rng = np.random.default_rng(seed)
    per = max(1, BLOCK // max(n, 1))
    for start in range(0, resamples, per):
        yield counts_of(draw(rng, n=n, resamples=min(per, resamples - start), strata=strata), n)


def percentile(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the finite values; NaN when there are none."""
    values = values[np.isfinite(values)]
    if not len(values):
        return math.nan, math.nan
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_intervals(
    stats: Callable[[np.ndarray], Stats],
    *,
    n: int,
    resamples: int,
    seed: int,
    strata: Sequence[np.ndarray] | None = None,
) -> dict[tuple[str, str], tuple[float, float]]:
    """95% percentile intervals of every statistic ``stats`` returns, over seeded resamples."""
    if resamples <= 0 or n == 0:
        return {}
    parts: dict[tuple[str, str], list[np.ndarray]] = {}
    for counts in count_blocks(n=n, resamples=resamples, seed=seed, strata=strata):
        for key, values in stats(counts).items():
            parts.setdefault(key, []).append(np.asarray(values, dtype=float))
    return {key: percentile(np.concatenate(v)) for key, v in parts.items()}


def _divide(num: np.ndarray, den: np.ndarray, empty: float = math.nan) -> np.ndarray:
    """num / den, ``empty`` where den is 0."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.full(num.shape, empty)
    np.divide(num, den, out=out, where=den != 0)
    return out


class Ties:
    """Sort order and tie groups of one score vector, computed once for many resamples."""

    def __init__(self, x: np.ndarray) -> None:
        self.order = np.argsort(x, kind="stable")
        xs = x[self.order]
        new = np.r_[True, xs[1:] != xs[:-1]] if len(xs) else np.zeros(0, bool)
        self.starts = np.flatnonzero(new)
        self.group = np.empty(len(x), dtype=np.int64)
        self.group[self.order] = np.cumsum(new) - 1

    def sums(self, weights: np.ndarray) -> np.ndarray:
        """Per-resample sums of ``weights`` (resamples x units) within each tie group."""
        return np.add.reduceat(weights[:, self.order], self.starts, axis=1)

    def average_ranks(self, counts: np.ndarray) -> np.ndarray:
        """1-based average ranks of every unit within each resample (resamples x units)."""
        per_group = self.sums(counts).astype(float)
        ranks = np.cumsum(per_group, axis=1) - (per_group - 1) / 2
        return ranks[:, self.group]


def ranking_counts(y: np.ndarray, ties: Ties, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """auROC and auPRC per resample; ``ties`` groups the scores (ascending).

    auROC by ranks (Mann-Whitney, ties count half); auPRC is scikit-learn's average
    precision (no interpolation; one threshold per distinct score, descending). Both are
    NaN for a resample that holds one class only.
    """
    ordered = counts[:, ties.order]
    pos = np.add.reduceat(ordered * y[ties.order].astype(bool), ties.starts, axis=1).astype(float)
    neg = np.add.reduceat(ordered, ties.starts, axis=1) - pos
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    defined = (n_pos > 0) & (n_neg > 0)
    below = np.cumsum(neg, axis=1) - neg
    roc = _divide((pos * (below + 0.5 * neg)).sum(axis=1), n_pos * n_neg)
    pos, neg = pos[:, ::-1], neg[:, ::-1]  # descending scores
    tp = np.cumsum(pos, axis=1)
    seen = tp + np.cumsum(neg, axis=1)
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    prc = _divide((pos * precision).sum(axis=1), n_pos)
    roc[~defined], prc[~defined] = math.nan, math.nan
    return roc, prc


def weighted_pearson(counts: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation per resample; x and y are (units,) or (resamples x units)."""
    w = counts.astype(float)
    x = x - np.mean(x)  # centring keeps the moments accurate
    y = y - np.mean(y)
    total = w.sum(axis=1)
    mx, my = _divide((w * x).sum(axis=1), total), _divide((w * y).sum(axis=1), total)
    cov = _divide((w * x * y).sum(axis=1), total) - mx * my
    vx = _divide((w * x * x).sum(axis=1), total) - mx * mx
    vy = _divide((w * y * y).sum(axis=1), total) - my * my
    scale = np.sqrt(np.clip(vx, 0, None) * np.clip(vy, 0, None))
    tiny = 1e-12 * np.sqrt(_divide((w * x * x).sum(axis=1), total) * _divide((w * y * y).sum(axis=1), total))
    out = _divide(cov, scale)
    out[~(scale > tiny)] = math.nan
    return np.clip(out, -1.0, 1.0)


def weighted_spearman(counts: np.ndarray, x_ties: Ties, y_ties: Ties) -> np.ndarray:
    """Spearman correlation per resample: Pearson of the resample's average ranks."""
    return weighted_pearson(counts, x_ties.average_ranks(counts), y_ties.average_ranks(counts))


def weighted_r2(counts: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Coefficient of determination of p for y per resample; NaN for a constant y."""
    w = counts.astype(float)
    yc = y - np.mean(y)
    total = w.sum(axis=1)
    residual = w @ ((y - p) ** 2)
    spread = w @ (yc * yc) - _divide((w @ yc) ** 2, total)
    out = 1 - _divide(residual, spread)
    out[~(spread > 1e-12 * np.maximum(w @ (yc * yc), 1e-300))] = math.nan
    return out


def cell_matrix(units: np.ndarray, y: np.ndarray, pred: np.ndarray, classes: int, n: int) -> sparse.csr_matrix:
    """(units x classes^2) counts of (true, predicted) pairs per unit, for confusion matrices."""
    data = np.ones(len(units), dtype=np.float64)
    return sparse.csr_matrix((data, (units, y * classes + pred)), shape=(n, classes * classes))


def confusions(counts: np.ndarray, cells: sparse.csr_matrix, classes: int) -> np.ndarray:
    """(resamples x true x predicted) confusion matrices of each resample."""
    flat = np.asarray((cells.T @ counts.T.astype(float)).T)
    return flat.reshape(len(counts), classes, classes)


def confusion_stats(m: np.ndarray, class_names: Sequence[str], task: str, per_class: bool = True) -> dict:
    """accuracy, macro_f1, mcc (Gorodkin's R_K, as sklearn's multiclass MCC) and per-class
    precision/recall/F1 from confusion matrices (resamples x C x C); 0/0 counts 0 as in
    scikit-learn with zero_division=0, macro-F1 over the classes seen or predicted."""
    tp = np.diagonal(m, axis1=1, axis2=2)
    true, pred = m.sum(axis=2), m.sum(axis=1)
    total = true.sum(axis=1)
    precision, recall = _divide(tp, pred, 0.0), _divide(tp, true, 0.0)
    f1 = _divide(2 * tp, true + pred, 0.0)
    present = (true + pred) > 0
    correct = tp.sum(axis=1)
    cov_tp = correct * total - (true * pred).sum(axis=1)
    cov_pp = total**2 - (pred * pred).sum(axis=1)
    cov_tt = total**2 - (true * true).sum(axis=1)
    den = np.sqrt(cov_tt * cov_pp)
    out = {
        (task, "accuracy"): _divide(correct, total),
        (task, "macro_f1"): _divide((f1 * present).sum(axis=1), present.sum(axis=1)),
        (task, "mcc"): np.where(total > 0, _divide(cov_tp, den, 0.0), math.nan),
    }
    if per_class:
        for c, name in enumerate(class_names):
            out[(task, f"precision:{name}")] = precision[:, c]
            out[(task, f"recall:{name}")] = recall[:, c]
            out[(task, f"f1:{name}")] = f1[:, c]
    return out
