"""Predicted beside measured signal tracks: a stretch of a predicted chromosome, one panel
per track and network with the measured bigWig and the network's prediction (the predict
stage's bigWigs) on one log1p axis, both in the bins the network predicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pyBigWig

from genomicdl.config.validation import chrom_key
from genomicdl.core.errors import GenomicdlError
from genomicdl.io.store import window_of
from genomicdl.plots.evaluation import Out, _save

#: Bases shown by default: a few yeast genes.
STRETCH = 10_000


def file_chrom(chroms: Iterable[str], chrom: str, path: str | Path, aliases: Mapping[str, str] | None = None) -> str:
    """The name a bigWig gives ``chrom`` (chr2, 2, chrII and II are one chromosome)."""
    chroms = list(chroms)
    by_key = {chrom_key(c, aliases): c for c in chroms}
    key = chrom_key(chrom, aliases)
    if key not in by_key:
        raise GenomicdlError(f"{path}: no chromosome {chrom} (the file has {', '.join(chroms[:8])})")
    return by_key[key]


def binned_track(
    path: str | Path,
    chrom: str,
    start: int,
    end: int,
    bin_size: int,
    stat: str = "mean",
    aliases: Mapping[str, str] | None = None,
) -> np.ndarray:
    """A bigWig's per-base values over [start, end) (uncovered bases 0), summed or averaged
    in consecutive ``bin_size``-bp bins; (end - start) must be a multiple of ``bin_size``."""
    if (end - start) % bin_size or end <= start:
        raise ValueError(f"{chrom}:{start}-{end} is not a whole number of {bin_size}-bp bins")
    if stat not in ("sum", "mean"):
        raise ValueError(f"stat must be sum or mean, not {stat!r}")
    bw = pyBigWig.open(str(path))
    try:
        values = np.asarray(bw.values(file_chrom(bw.chroms(), chrom, path, aliases), start, end), np.float64)
    finally:
        bw.close()
    per_bin = np.nan_to_num(values).reshape(-1, bin_size)
    return per_bin.sum(1) if stat == "sum" else per_bin.mean(1)


def densest_stretch(
    paths: Iterable[str | Path], chrom: str, length: int, margin: int, aliases: Mapping[str, str] | None = None
) -> int:
    """Start of the ``length``-bp stretch (on a grid of length / 4) with the most measured
    signal summed over ``paths``, at least ``margin`` bp from either chromosome end."""
    step = max(1, length // 4)
    totals: np.ndarray | None = None
    size = 0
    for path in paths:
        bw = pyBigWig.open(str(path))
        try:
            name = file_chrom(bw.chroms(), chrom, path, aliases)
            size = int(bw.chroms(name))
            n = size // step
            means = np.nan_to_num(np.asarray(bw.stats(name, 0, n * step, type="mean", nBins=n), np.float64))
        finally:
            bw.close()
        totals = means if totals is None else totals[: len(means)] + means[: len(totals)]
    if totals is None:
        raise ValueError("no measured tracks")
    first, last = -(-margin // step), (size - margin - length) // step
    if last < first:
        raise GenomicdlError(f"{chrom} ({size} bp) is too short for a {length}-bp stretch {margin} bp from its ends")
    window = np.convolve(totals, np.ones(length // step), "valid")
    return int((first + np.argmax(window[first : last + 1])) * step)


@dataclass
class TrackStretch:
    """What the figure draws: bin starts and, per track, the measured and predicted bins."""

    chrom: str
    starts: np.ndarray
    bin_size: int
    measured: dict[str, np.ndarray]
    predicted: dict[str, dict[str, np.ndarray]]  # run label -> track -> bins


def stretch_data(
    measured: Mapping[str, str | Path],
    predicted: Mapping[str, str | Path],
    chrom: str,
    start: int,
    length: int,
    bin_size: int,
    stat: str = "sum",
    aliases: Mapping[str, str] | None = None,
) -> TrackStretch:
    """Measured bigWigs (track -> file) binned with the dataset's ``stat`` and each run's
    predicted bigWigs (label -> folder of <track>.bw, one value per bin written over its
    bases) averaged per bin, over [start, start + length) aligned down to the bins."""
    start -= start % bin_size
    end = start + length - length % bin_size
    meas = {t: binned_track(p, chrom, start, end, bin_size, stat, aliases) for t, p in measured.items()}
    pred = {
        label: {t: binned_track(Path(d) / f"{t}.bw", chrom, start, end, bin_size, "mean") for t in measured}
        for label, d in predicted.items()
    }
    return TrackStretch(chrom, np.arange(start, end, bin_size), bin_size, meas, pred)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two bin vectors; NaN when either is constant."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(a, b)[0, 1])


def panel_values(data: TrackStretch, track: str, run: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(measured, predicted) log1p bins of one panel and the Pearson r of the log1p bins
    and of the bins themselves."""
    meas_raw, pred_raw = data.measured[track], data.predicted[run][track]
    meas, pred = np.log1p(np.clip(meas_raw, 0, None)), np.log1p(np.clip(pred_raw, 0, None))
    return meas, pred, _pearson(meas, pred), _pearson(meas_raw, pred_raw)


def track_figure(data: TrackStretch, dataset: str, out: Out, value: str = "signal") -> None:
    """One panel per track and run: the measured bins (grey) and the run's predicted bins
    (blue steps, one value per predicted bin, nothing smoothed) on one log1p axis, with
    the Pearson r of the log1p bins (what the profile metrics score) and of the bins."""
    runs = list(data.predicted)
    rows = [(t, r) for t in data.measured for r in runs]
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 1.7 * len(rows) + 0.6), sharex=True, squeeze=False)
    x = np.append(data.starts, data.starts[-1] + data.bin_size) / 1e3
    for ax, (track, run) in zip(axes[:, 0], rows):
        meas, pred, r_log, r_raw = panel_values(data, track, run)
        ax.stairs(meas, x, fill=True, color="0.7", lw=0, label="measured")
        ax.stairs(pred, x, color="tab:blue", lw=1.2, label=f"predicted ({run})")
        ax.set_ylim(0, max(float(meas.max()), float(pred.max()), 1e-9) * 1.1)
        ax.set_ylabel(f"log1p({value})", fontsize=8)
        ax.set_title(f"{track}: measured and predicted by {run} (r of log1p bins {r_log:.2f}, of bins {r_raw:.2f})",
                     fontsize=9, loc="left")  # fmt: skip
        ax.legend(fontsize=7, loc="upper right", frameon=False)
        ax.tick_params(labelsize=8)
    axes[-1, 0].set_xlabel(f"{data.chrom} position (kb), {data.bin_size}-bp bins")
    fig.suptitle(f"{dataset}: test chromosome {data.chrom}, measured and predicted on one log1p scale", fontsize=10)
    fig.tight_layout()
    _save(fig, out)


def signal_tracks(
    measured: Mapping[str, str | Path],
    predicted: Mapping[str, str | Path],
    chroms: list[str],
    dataset: str,
    out: Out,
    *,
    stat: str = "sum",
    aliases: Mapping[str, str] | None = None,
    length: int = STRETCH,
) -> TrackStretch:
    """The figure for a dataset: the densest ``length``-bp stretch of the first predicted
    chromosome, at the bins of the predict stage's sidecar (predict.json)."""
    import json

    if not predicted:
        raise GenomicdlError(f"{dataset}: no predicted tracks to plot")
    sidecar = Path(next(iter(predicted.values()))) / "predict.json"
    meta = json.loads(sidecar.read_text())
    chrom = next((c for c in chroms if c in meta["chroms"]), None)
    if chrom is None:
        raise GenomicdlError(f"{dataset}: none of {chroms} was predicted (predict.json has {meta['chroms']})")
    bin_size, margin = int(meta["bin_size"]), window_of(meta, sidecar)
    first_track = Path(next(iter(predicted.values()))) / f"{meta['tracks'][0]}.bw"
    bw = pyBigWig.open(str(first_track))
    size = int(bw.chroms(chrom))
    bw.close()
    length = min(length, size - 2 * margin)
    length -= length % bin_size
    if length <= 0:
        raise GenomicdlError(f"{dataset}: {chrom} ({size} bp) is too short to plot {margin} bp from its ends")
    start = densest_stretch(measured.values(), chrom, length, margin, aliases)
    data = stretch_data(measured, predicted, chrom, start, length, bin_size, stat, aliases)
    track_figure(data, dataset, out, value=f"{stat} per bin")
    return data
