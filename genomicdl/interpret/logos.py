"""Sequence-logo plots (logomaker, headless): discovered motifs beside their best JASPAR
match, and attribution tracks of explained sequences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import logomaker
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from genomicdl.core.files import atomic_output
from genomicdl.interpret.motifs import BASES, Motif, Reference, information, reverse_complement_ppm


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def _bits(ppm: np.ndarray, start: int = 0) -> pd.DataFrame:
    """A PPM scaled to information content, indexed by position from ``start``."""
    heights = ppm * information(ppm)[:, None]
    return pd.DataFrame(heights, columns=list(BASES), index=np.arange(start, start + len(ppm)))


def _logo(frame: pd.DataFrame, ax: plt.Axes, title: str, ylabel: str, xlim: tuple[float, float]) -> None:
    logomaker.Logo(frame, ax=ax, color_scheme="classic", show_spines=False)
    ax.set_xlim(*xlim)
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)


def motif_logos(motifs: Sequence[Motif], matches: pd.DataFrame, ref: Reference, out: str | Path, rows: int) -> None:
    """One row per motif (best matched first, at most ``rows``): its logo, and beside it
    the best JASPAR match on the strand and offset TOMTOM aligned it to."""
    best = matches[matches["rank"] == 1].sort_values(["q_value", "p_value", "motif"]).head(rows)
    by_name = {m.name: m for m in motifs}
    index = {jid: i for i, jid in enumerate(ref.ids)}
    n = max(len(best), 1)
    fig, axes = plt.subplots(n, 2, figsize=(11, 1.6 * n), squeeze=False)
    if best.empty:
        axes[0, 0].text(0.5, 0.5, "no motif was discovered", ha="center", va="center")
        for ax in axes[0]:
            ax.axis("off")
    for (_, row), (left, right) in zip(best.iterrows(), axes):
        motif = by_name[row["motif"]]
        target = ref.ppms[index[row["jaspar_id"]]]
        if row["strand"] == "-":
            target = reverse_complement_ppm(target)
        offset = int(row["offset"])
        lo = min(0, -offset)
        hi = max(len(motif.ppm), len(target) - offset)
        xlim = (lo - 0.5, hi - 0.5)
        what = f"{row['task']} " if row["task"] else ""
        _logo(_bits(motif.ppm), left, f"{motif.name}: {what}{motif.sites} sites", "bits", xlim)
        _logo(
            _bits(target, -offset),
            right,
            f"{row['jaspar_id']} {row['jaspar_name']} ({row['strand']})  q={row['q_value']:.2g}",
            "bits",
            xlim,
        )
        for ax in (left, right):
            ax.set_ylim(0, 2)
    fig.tight_layout()
    _save(fig, out)


def attribution_tracks(
    codes: np.ndarray,
    tracks: Sequence[tuple[str, np.ndarray]],
    titles: Sequence[str],
    out: str | Path,
    span: int = 60,
) -> None:
    """For each sequence, one logo per attribution method (contribution of the observed
    base), over the ``span`` bp around its strongest stretch."""
    n = max(len(codes), 1)
    fig, axes = plt.subplots(n * len(tracks), 1, figsize=(12, 1.3 * n * len(tracks)), squeeze=False)
    if len(codes) == 0:
        axes[0, 0].text(0.5, 0.5, "no sequence to explain", ha="center", va="center")
        axes[0, 0].axis("off")
    length = codes.shape[1] if len(codes) else 0
    span = min(span, length)
    for i in range(len(codes)):
        first = tracks[0][1][i].sum(axis=0)
        centre = int(np.argmax(np.convolve(first, np.ones(10), mode="same")))
        lo = int(np.clip(centre - span // 2, 0, length - span))
        for k, (method, values) in enumerate(tracks):
            ax = axes[i * len(tracks) + k, 0]
            frame = pd.DataFrame(values[i][:, lo : lo + span].T, columns=list(BASES), index=np.arange(lo, lo + span))
            logomaker.Logo(frame, ax=ax, color_scheme="classic", show_spines=False)
            ax.axhline(0, color="grey", lw=0.5)
            ax.set_ylabel(method, fontsize=8)
            ax.tick_params(labelsize=7)
            if k == 0:
                ax.set_title(titles[i], fontsize=9, loc="left")
    fig.tight_layout()
    _save(fig, out)
