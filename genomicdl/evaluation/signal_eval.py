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
from scipy.stats import pearsonr, rankdata, spearmanr

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
    if ok.sum() < 3 or np.std(y[ok]) == 0 or np.std(p[ok]) == 0:
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


def log_bins(a: np.ndarray, tasks: Sequence[str]) -> np.ndarray:
    """(n, tracks, bins) log1p of each bin (negative values clipped)."""
    return np.log1p(np.clip(by_track(a, tasks), 0, None))


def rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``a`` with the same row of ``b`` (NaN without variance; a
    row whose spread is rounding noise, e.g. a total spread evenly over bins, is flat)."""
    ac, bc = a - a.mean(-1, keepdims=True), b - b.mean(-1, keepdims=True)
    flat = lambda x, xc: np.abs(xc).max(-1) <= 1e-9 * np.maximum(np.abs(x).max(-1), 1e-30)  # noqa: E731
    den = np.sqrt((ac**2).sum(-1) * (bc**2).sum(-1))
    ok = (den > 0) & ~flat(a, ac) & ~flat(b, bc)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, (ac * bc).sum(-1) / np.where(ok, den, 1), np.nan)


def within_windows(y: np.ndarray, p: np.ndarray, tasks: Sequence[str], rank: bool = False) -> np.ndarray:
    """(tracks,) profile shape: the mean over windows of the Pearson (``rank``: Spearman)
    r of log1p bins within each window; windows without variance in labels or predictions
    (flat, e.g. no signal) and windows with a missing label are left out. NaN with one bin."""
    ly, lp = log_bins(y, tasks), log_bins(p, tasks)
    if ly.shape[-1] == 1:
        return np.full(ly.shape[1], np.nan)
    if rank:
        ly, lp = rankdata(ly, axis=-1), rankdata(lp, axis=-1)
    r = rowwise_pearson(ly, lp)  # (n, tracks); NaN rows (missing labels, flat) drop out
    with np.errstate(invalid="ignore"):
        n = np.isfinite(r).sum(0)
        return np.where(n > 0, np.nansum(r, 0) / np.maximum(n, 1), np.nan)


def jsd_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (bits) of each row of two non-negative arrays taken as
    distributions (NaN where either row sums to 0)."""
    sa, sb = a.sum(-1, keepdims=True), b.sum(-1, keepdims=True)
    ok = (sa[..., 0] > 0) & (sb[..., 0] > 0)
    pa, pb = a / np.where(sa > 0, sa, 1), b / np.where(sb > 0, sb, 1)
    m = (pa + pb) / 2

    def kl(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.where(u > 0, u * np.log2(np.where(u > 0, u, 1) / np.where(v > 0, v, 1)), 0).sum(-1)

    return np.where(ok, 0.5 * kl(pa, m) + 0.5 * kl(pb, m), np.nan)


def profile_jsd(y: np.ndarray, p: np.ndarray, tasks: Sequence[str], shuffle_seed: int | None = None) -> np.ndarray:
    """(tracks,) mean JSD between measured and predicted profiles over windows with
    signal in both. With ``shuffle_seed`` the predicted bins are permuted within each
    window first (seeded): the shuffled-profile null a model's JSD should fall below."""
    yt, pt = np.nan_to_num(by_track(y, tasks)).clip(0), by_track(np.clip(p, 0, None), tasks)
    if yt.shape[-1] == 1:
        return np.full(yt.shape[1], np.nan)
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        order = np.argsort(rng.random(pt.shape), axis=-1)
        pt = np.take_along_axis(pt, order, axis=-1)
    j = jsd_rows(yt, pt)
    missing = np.isnan(by_track(y, tasks)).any(-1)
    j[missing] = np.nan
    with np.errstate(invalid="ignore"):
        n = np.isfinite(j).sum(0)
        return np.where(n > 0, np.nansum(j, 0) / np.maximum(n, 1), np.nan)


def field_scores(y: np.ndarray, p: np.ndarray, tasks: Sequence[str], *, counts_model: bool, seed: int = 0
                 ) -> dict[str, np.ndarray]:  # fmt: skip
    """The metrics the field reports, (tracks,) each: within-window Pearson and Spearman
    of log1p bins (profile shape), across-window Pearson and Spearman of log1p totals;
    for count/profile models (BPNet, multinomial) also the counts Pearson and the profile
    JSD beside its shuffled-profile null. No replicate tracks exist here, so no upper bound
    (replicate-vs-replicate) is reported."""
    ly, lp = log_totals(y, tasks), log_totals(p, tasks)
    n_tracks = ly.shape[1]
    out = {
        "profile_pearson_log": within_windows(y, p, tasks),
        "profile_spearman_log": within_windows(y, p, tasks, rank=True),
        "pearson_log_counts": np.array([pearson(ly[:, t], lp[:, t]) for t in range(n_tracks)]),
        "spearman_log_counts": np.array([spearman(ly[:, t], lp[:, t]) for t in range(n_tracks)]),
    }
    out["profile_jsd"] = profile_jsd(y, p, tasks)
    out["profile_jsd_shuffled"] = profile_jsd(y, p, tasks, shuffle_seed=seed)
    if counts_model:
        out["counts_pearson"] = out["pearson_log_counts"]
    return out


def held_out_rows(
    y: np.ndarray, p: np.ndarray, tasks: Sequence[str], *, counts_model: bool, seed: int,
    unmasked: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict[str, object]]:  # fmt: skip
    """Metric rows (split test) of a signal run beside the kind's own (Pearson and
    Spearman of log totals with CIs): :func:`field_scores` on the kept windows, and, with
    ``unmasked`` = (labels, predictions) of every test window, the log-count Pearson and
    Spearman over all of them once (``*_unmasked``) and the windows the mask left out."""
    tracks, _ = layout(tasks)
    scores = field_scores(y, p, tasks, counts_model=counts_model, seed=seed)
    scores.pop("pearson_log_counts")
    scores.pop("spearman_log_counts")
    if unmasked is not None:
        ya, pa = log_totals(unmasked[0], tasks), log_totals(unmasked[1], tasks)
        scores["pearson_unmasked"] = np.array([pearson(ya[:, t], pa[:, t]) for t in range(len(tracks))])
        scores["spearman_unmasked"] = np.array([spearman(ya[:, t], pa[:, t]) for t in range(len(tracks))])
        scores["masked_windows"] = np.full(len(tracks), float(len(unmasked[0]) - len(y)))
    return [
        {"task": track, "split": "test", "metric": name, "value": float(v[t]), "lo": None, "hi": None}
        for name, v in scores.items()
        for t, track in enumerate(tracks)
        if not np.isnan(v[t])
    ]


def compare(
    y: np.ndarray, preds: dict[str, np.ndarray], tasks: Sequence[str], *, n_boot: int = 1000, seed: int = 0,
    reference: str | None = None, keep: np.ndarray | None = None, counts_models: Sequence[str] = (),
) -> list[dict[str, object]]:
    """Rows (model, track, metric, value, lo, hi) for every model, and paired
    differences against ``reference`` (metric ``pearson_minus_<reference>``), on the
    windows the mask ``keep``s (all without it), the field's metrics (:func:`field_scores`;
    ``counts_models`` get the counts Pearson) and, with ``keep``, the log-count Pearson over
    every window once (``pearson_unmasked``)."""
    if keep is not None:
        ly_all = log_totals(y, tasks)
        unmasked = {m: log_totals(p, tasks) for m, p in preds.items()}
        y, preds = y[keep], {m: p[keep] for m, p in preds.items()}
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
        r, _ = profile_scores(y, preds[m], tasks)
        for t, track in enumerate(tracks):
            if not np.isnan(r[t]):
                rows.append(_row(m, track, "profile_pearson", r[t], None, None))
        field = field_scores(y, preds[m], tasks, counts_model=m in counts_models, seed=seed)
        for name in ("profile_pearson_log", "profile_spearman_log", "profile_jsd", "profile_jsd_shuffled",
                     "counts_pearson"):  # fmt: skip
            for t, track in enumerate(tracks):
                if name in field and not np.isnan(field[name][t]):
                    rows.append(_row(m, track, name, field[name][t], None, None))
        if keep is not None:
            for t, track in enumerate(tracks):
                rows.append(_row(m, track, "pearson_unmasked", pearson(ly_all[:, t], unmasked[m][:, t]), None, None))
    return rows


def _row(model: str, track: str, metric: str, value: float, lo: float | None, hi: float | None) -> dict[str, object]:
    rnd = lambda v: None if v is None or np.isnan(v) else round(float(v), 4)  # noqa: E731
    return {"model": model, "track": track, "metric": metric, "value": rnd(value), "lo": rnd(lo), "hi": rnd(hi)}
