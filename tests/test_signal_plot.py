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
