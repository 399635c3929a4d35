"""The signal panel: measured and predicted bins on one log1p scale, r as the metrics see it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomicdl.plots.signal import TrackStretch, panel_values, track_figure


def stretch() -> TrackStretch:
    measured = np.array([0.0, 9, 99, 999, 9999, 99])  # log1p: ln 1 .. ln 10000
    predicted = np.array([0.0, 2, 20, 200, 2000, 20])  # a log1p-MSE model: far below the peaks, same shape
    return TrackStretch("chrII", np.arange(160_000, 160_300, 50), 50, {"RNA.fwd": measured},
                        {"binned": {"RNA.fwd": predicted}})  # fmt: skip


def test_panel_is_log1p_of_both_and_r_of_log_bins() -> None:
    meas, pred, r_log, r_raw = panel_values(stretch(), "RNA.fwd", "binned")
    np.testing.assert_allclose(meas, np.log1p([0.0, 9, 99, 999, 9999, 99]))
    np.testing.assert_allclose(pred, np.log1p([0.0, 2, 20, 200, 2000, 20]))
    assert r_log == pytest.approx(np.corrcoef(meas, pred)[0, 1]) and r_log > 0.99
    assert r_raw == pytest.approx(1.0)  # proportional bins: r of the raw bins is 1 as well


def test_figure_is_written(tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    track_figure(stretch(), "demo", png, value="sum per bin")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_class_balance_of_a_signal_store_has_one_panel_per_track(tmp_path: Path) -> None:
    """A per-base store has tracks x bins tasks: one panel per track, not per bin."""
    from PIL import Image

    from genomicdl.plots.evaluation import _panel_tasks, class_balance

    tasks = [f"{t}:{b}" for t in ("MNase", "RNA.fwd") for b in range(500)]
    assert _panel_tasks(tasks) == ["MNase:0", "RNA.fwd:0"]
    assert _panel_tasks(["Reb1", "Abf1"]) == ["Reb1", "Abf1"]
    rows = ["stage\ttask\tpositives\tnegatives\tpositive_fraction\tpos_weight"]
    rows += [f"{stage}\t{t}\t90\t0\t1.0\t1" for stage in ("before", "after") for t in tasks]
    counts = tmp_path / "counts.tsv"
    counts.write_text("\n".join(rows) + "\n")
    png = tmp_path / "cb.png"
    class_balance({"none": counts}, "yeast_profile", png)
    assert Image.open(png).size[0] < 1500  # two 4.5-inch panels at 110 dpi, not 1,000
