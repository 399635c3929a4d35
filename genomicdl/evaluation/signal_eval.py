"""Scores of signal predictions per track: Pearson and Spearman of log counts per window
(bootstrap CIs), per-window profile Pearson and Jensen-Shannon divergence, and paired
bootstrap differences between two models on the same windows.

Predictions and labels are (n, tracks * bins), track-major (genomicdl.kinds.signal_layout).
The common currency of binned, profile and baseline models is the window's total per
track: log1p of the sum over its bins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import pearsonr, spearmanr

from genomicdl.kinds.signal_layout import layout


def by_track(a: np.ndarray, tasks: Sequence[str]) -> np.ndarray:
    """(n, tracks * bins) -> (n, tracks, bins)."""
    tracks, bins = layout(tasks)
    return np.asarray(a, np.float64).reshape(len(a), len(tracks), bins)


def log_totals(a: np.ndarray, tasks: Sequence[str]) -> np.ndarray:
    """(n, tracks) log1p of each window's total per track (negative totals clipped)."""
    return np.log1p(np.clip(by_track(a, tasks).sum(-1), 0, None))


def pearson(y: np.ndarray, p: np.ndarray) -> float:
    ok = ~(np.isnan(y) | np.isnan(p))
    if ok.sum() < 3 or np.std(y[ok]) == 0 or np.std(p[ok]) == 0:
        return float("nan")
    return float(pearsonr(y[ok], p[ok])[0])


def spearman(y: np.ndarray, p: np.ndarray) -> float:
    ok = ~(np.isnan(y) | np.isnan(p))
    if ok.sum() < 3:
        return float("nan")
    return float(spearmanr(y[ok], p[ok])[0])


def bootstrap(
    y: np.ndarray, preds: Sequence[np.ndarray], metric: Callable, n: int = 1000, seed: int = 0
) -> np.ndarray:
    """(n, len(preds)) metric of each prediction on the same resampled windows (paired)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, len(preds)))
    for i in range(n):
        idx = rng.integers(0, len(y), len(y))
        out[i] = [metric(y[idx], p[idx]) for p in preds]
    return out


def profile_scores(y: np.ndarray, p: np.ndarray, tasks: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(tracks,) mean per-window profile Pearson and mean Jensen-Shannon divergence (bits)
    over windows with signal; NaN with one bin."""
    yt, pt = by_track(y, tasks), by_track(np.clip(p, 0, None), tasks)
    n_tracks, bins = yt.shape[1], yt.shape[2]
    if bins == 1:
        return np.full(n_tracks, np.nan), np.full(n_tracks, np.nan)
    r, jsd = np.full(n_tracks, np.nan), np.full(n_tracks, np.nan)
    for t in range(n_tracks):
        a, b = np.nan_to_num(yt[:, t]), pt[:, t]
        keep = (a.sum(-1) > 0) & (b.sum(-1) > 0)
        if not keep.any():
            continue
        a, b = a[keep], b[keep]
        ac, bc = a - a.mean(-1, keepdims=True), b - b.mean(-1, keepdims=True)
        den = np.sqrt((ac**2).sum(-1) * (bc**2).sum(-1))
        ok = den > 0
        r[t] = float(((ac * bc).sum(-1)[ok] / den[ok]).mean()) if ok.any() else np.nan
        pa, pb = a / a.sum(-1, keepdims=True), b / b.sum(-1, keepdims=True)
        m = (pa + pb) / 2
        kl = lambda u, v: np.where(u > 0, u * np.log2(np.where(u > 0, u, 1) / np.where(v > 0, v, 1)), 0).sum(-1)  # noqa: E731
        jsd[t] = float((0.5 * kl(pa, m) + 0.5 * kl(pb, m)).mean())
    return r, jsd


def compare(
    y: np.ndarray, preds: dict[str, np.ndarray], tasks: Sequence[str], *, n_boot: int = 1000, seed: int = 0,
    reference: str | None = None,
) -> list[dict[str, object]]:
    """Rows (model, track, metric, value, lo, hi) for every model, and paired
    differences against ``reference`` (metric ``pearson_minus_<reference>``)."""
    tracks, _ = layout(tasks)
    ly = log_totals(y, tasks)
    names = list(preds)
    lp = {m: log_totals(preds[m], tasks) for m in names}
    rows: list[dict[str, object]] = []
    for t, track in enumerate(tracks):
        boots = bootstrap(ly[:, t], [lp[m][:, t] for m in names], pearson, n_boot, seed)
        for j, m in enumerate(names):
            lo, hi = np.nanpercentile(boots[:, j], [2.5, 97.5])
            rows.append(_row(m, track, "pearson_log_counts", pearson(ly[:, t], lp[m][:, t]), lo, hi))
            rows.append(_row(m, track, "spearman_log_counts", spearman(ly[:, t], lp[m][:, t]), None, None))
            if reference and m != reference:
                k = names.index(reference)
                d = boots[:, j] - boots[:, k]
                lo, hi = np.nanpercentile(d, [2.5, 97.5])
                value = pearson(ly[:, t], lp[m][:, t]) - pearson(ly[:, t], lp[reference][:, t])
                rows.append(_row(m, track, f"pearson_minus_{reference}", value, lo, hi))
    for m in names:
        r, jsd = profile_scores(y, preds[m], tasks)
        for t, track in enumerate(tracks):
            if not np.isnan(r[t]):
                rows.append(_row(m, track, "profile_pearson", r[t], None, None))
                rows.append(_row(m, track, "profile_jsd", jsd[t], None, None))
    return rows


def _row(model: str, track: str, metric: str, value: float, lo: float | None, hi: float | None) -> dict[str, object]:
    rnd = lambda v: None if v is None or np.isnan(v) else round(float(v), 4)  # noqa: E731
    return {"model": model, "track": track, "metric": metric, "value": rnd(value), "lo": rnd(lo), "hi": rnd(hi)}
