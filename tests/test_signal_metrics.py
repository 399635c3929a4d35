"""The field's signal metrics on constructed arrays whose values are known."""

from __future__ import annotations

import numpy as np
import pytest

from genomicdl.evaluation.signal_eval import (
    field_scores,
    held_out_rows,
    jsd_rows,
    profile_jsd,
    rowwise_pearson,
    within_windows,
)

TASKS2 = ["t:0", "t:1"]
TASKS4 = [f"t:{b}" for b in range(4)]


def test_rowwise_pearson_known_rows() -> None:
    a = np.array([[1.0, 2, 3], [1, 2, 3], [5, 5, 5]])
    b = np.array([[2.0, 4, 6], [3, 2, 1], [1, 2, 3]])
    r = rowwise_pearson(a, b)
    assert r[0] == pytest.approx(1.0) and r[1] == pytest.approx(-1.0) and np.isnan(r[2])


def test_within_window_pearson_and_spearman_of_log_bins() -> None:
    logs_y = np.array([[0.0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]])
    logs_p = np.array([[0.0, 2, 4, 6], [3, 2, 1, 0], [0, 1, 4, 9]])  # r = 1, -1, and monotone
    y, p = np.expm1(logs_y), np.expm1(logs_p)
    r_third = np.corrcoef(logs_y[2], logs_p[2])[0, 1]
    assert within_windows(y, p, TASKS4)[0] == pytest.approx((1 - 1 + r_third) / 3)
    assert within_windows(y, p, TASKS4, rank=True)[0] == pytest.approx((1 - 1 + 1) / 3)
    # a flat window (no signal) and a window with a missing label are left out
    y2 = np.vstack([y, np.zeros(4), [np.nan, 1, 2, 3]])
    p2 = np.vstack([p, np.expm1([0.0, 1, 2, 3]), np.expm1([0.0, 1, 2, 3])])
    assert within_windows(y2, p2, TASKS4)[0] == pytest.approx((1 - 1 + r_third) / 3)
    assert np.isnan(within_windows(y[:, :1], p[:, :1], ["t"])[0])  # one bin: no shape


def test_jsd_known_values() -> None:
    a = np.array([[1.0, 0], [1, 3], [2, 2], [0, 0]])
    b = np.array([[0.0, 1], [10, 30], [1, 1], [1, 1]])
    j = jsd_rows(a, b)
    assert j[0] == pytest.approx(1.0)  # disjoint supports: 1 bit
    assert j[1] == pytest.approx(0.0, abs=1e-12) and j[2] == pytest.approx(0.0, abs=1e-12)  # scale-free
    assert np.isnan(j[3])
    # [1, 0] against [1/2, 1/2]: 0.5 * KL(p || m) + 0.5 * KL(q || m), m = [3/4, 1/4]
    expect = 0.5 * np.log2(1 / 0.75) + 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25))
    assert jsd_rows(np.array([[1.0, 0]]), np.array([[1.0, 1]]))[0] == pytest.approx(expect)


def test_shuffled_profile_null() -> None:
    # a flat profile is its own shuffle: null 0; a one-bin peak predicted exactly: JSD 0,
    # shuffled it lands elsewhere with probability 3/4 (1 bit) or on itself (0)
    flat = np.ones((50, 4))
    assert profile_jsd(flat, flat, TASKS4, shuffle_seed=0)[0] == pytest.approx(0.0, abs=1e-12)
    peak = np.zeros((2000, 4))
    peak[:, 1] = 5.0
    assert profile_jsd(peak, peak, TASKS4)[0] == pytest.approx(0.0, abs=1e-12)
    null = profile_jsd(peak, peak, TASKS4, shuffle_seed=3)[0]
    assert null == pytest.approx(0.75, abs=0.03)
    assert profile_jsd(peak, peak, TASKS4, shuffle_seed=3)[0] == null  # seeded


def test_across_window_scores_and_counts_pearson() -> None:
    totals = np.array([0.0, 1, 3, 7, 15, 31])  # log1p totals 0, ln2, .. : bins hold half each
    y = np.stack([totals / 2, totals / 2], 1)
    p = y[::-1].copy()  # reversed order: r = -1 on log totals
    s = field_scores(y, p, TASKS2, counts_model=True)
    assert s["pearson_log_counts"][0] == pytest.approx(-1.0) and s["spearman_log_counts"][0] == pytest.approx(-1.0)
    assert s["counts_pearson"][0] == s["pearson_log_counts"][0]
    assert "counts_pearson" not in field_scores(y, p, TASKS2, counts_model=False)


def test_rows_report_unmasked_once() -> None:
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 10.0, (40, 4))
    p = y * 1.5
    rows = held_out_rows(y[:30], p[:30], TASKS4, counts_model=True, seed=0, unmasked=(y, np.zeros_like(p)))
    r = {e["metric"]: e["value"] for e in rows}
    assert r["counts_pearson"] == pytest.approx(1.0, abs=1e-4)  # log1p(1.5 x) is nearly linear in log1p(x)
    assert r["profile_pearson_log"] < 1 and r["profile_spearman_log"] == pytest.approx(1.0)
    assert r["masked_windows"] == 10 and "pearson_unmasked" not in r  # zero predictions: no variance
    assert "pearson_log_counts" not in r  # the kind's own rows carry it, with CIs


def test_early_stopping_score_is_the_mean_log_total_pearson() -> None:
    from genomicdl.training.scores import signal_score

    tasks = ["a:0", "a:1", "b:0", "b:1"]
    totals_a = np.array([0.0, 1, 3, 7, 15])
    y = np.stack([totals_a / 2, totals_a / 2, totals_a[::-1] / 2, totals_a[::-1] / 2], 1)
    p = np.stack([totals_a, totals_a * 0, totals_a, totals_a * 0], 1)  # a: same order (r 1), b: reversed (r -1)
    assert signal_score(tasks, y, p) == pytest.approx(0.0)
    p_good = np.stack([totals_a, totals_a * 0, totals_a[::-1], totals_a[::-1] * 0], 1)
    assert signal_score(tasks, y, p_good) == pytest.approx(1.0)
    y_nan = y.copy()
    y_nan[0, 0] = np.nan  # a window with a missing bin leaves its track's r, the rest stays 1
    assert signal_score(tasks, y_nan, p_good) == pytest.approx(1.0)


def test_a_total_spread_evenly_has_no_profile() -> None:
    tasks = [f"t:{b}" for b in range(10)]
    y = np.array([[1.0, 5, 2, 9, 0, 3, 3, 7, 1, 2]] * 3)
    p = np.repeat(np.expm1(np.array([[2.158294], [0.132221], [6.859234]])) / 10, 10, axis=1)  # an even spread
    p[:, 3] = np.nextafter(p[:, 3], np.inf)  # one ulp: the rounding spread of a real even split, on any CPU
    lp = np.log1p(p)
    assert (np.abs(lp - lp.mean(1, keepdims=True)).max(1) > 0).any()  # rounding spread, not a profile
    assert np.isnan(within_windows(y, p, tasks)[0])
