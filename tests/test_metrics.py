"""Metrics of every target kind against scikit-learn/scipy, and the vectorised bootstrap
against the former one-scikit-learn-call-per-resample loop on the same resamples."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    jaccard_score,
    matthews_corrcoef,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from genomicdl.metrics import ALL_LABELS, PRIMARY, confusion_table, kind_metrics, primary_scorer
from genomicdl.metrics.resample import (
    Ties,
    counts_of,
    draw,
    ranking_counts,
    weighted_pearson,
    weighted_spearman,
)


def table(rows: list[dict], split: str = "test") -> dict[tuple[str, str], dict]:
    return {(r["task"], r["metric"]): r for r in rows if r["split"] == split}


def binary_data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    p = np.round(y * 0.8 + rng.random(n), 2)  # rounding makes ties
    return y, p


def old_bootstrap(y: np.ndarray, p: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The former implementation: one scikit-learn call per resample."""
    roc = np.array([roc_auc_score(y[i], p[i]) for i in index])
    prc = np.array([average_precision_score(y[i], p[i]) for i in index])
    return roc, prc


def test_vectorised_bootstrap_equals_the_scikit_learn_loop_and_is_faster() -> None:
    y, p = binary_data()
    rng = np.random.default_rng(7)
    index = draw(rng, n=len(y), resamples=1000, strata=(np.flatnonzero(y == 1), np.flatnonzero(y == 0)))
    start = time.perf_counter()
    old_roc, old_prc = old_bootstrap(y, p, index)
    old_s = time.perf_counter() - start
    start = time.perf_counter()
    counts = counts_of(index, len(y))
    new_roc, new_prc = ranking_counts(y, Ties(p), counts)
    new_s = time.perf_counter() - start
    np.testing.assert_allclose(new_roc, old_roc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(new_prc, old_prc, rtol=0, atol=1e-12)
    print(
        f"\nbootstrap 1000 x 2000 rows, auROC + auPRC: sklearn loop {old_s:.2f} s, vectorised {new_s:.3f} s, "
        f"speedup {old_s / new_s:.0f}x"
    )
    assert new_s < old_s


def test_unstratified_resamples_with_one_class_are_nan() -> None:
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    counts = np.array([[1, 1, 1, 1], [2, 2, 0, 0], [0, 0, 4, 0]])
    roc, prc = ranking_counts(y, Ties(p), counts)
    assert roc[0] == pytest.approx(0.75) and math.isnan(roc[1]) and math.isnan(roc[2])
    assert prc[0] == pytest.approx(average_precision_score(y, p)) and math.isnan(prc[1])


def test_weighted_correlations_equal_scipy_on_the_gathered_resample() -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal(300), 1)
    y = 2 * x + rng.standard_normal(300)
    index = draw(rng, n=300, resamples=20)
    counts = counts_of(index, 300)
    pear = weighted_pearson(counts, x, y)
    spear = weighted_spearman(counts, Ties(x), Ties(y))
    for b, i in enumerate(index):
        assert pear[b] == pytest.approx(stats.pearsonr(x[i], y[i])[0], abs=1e-10)
        assert spear[b] == pytest.approx(stats.spearmanr(x[i], y[i])[0], abs=1e-10)


def test_binary_metrics_are_seeded_and_carry_intervals() -> None:
    y, p = binary_data(400)
    args = {"y_valid": y[:, None], "p_valid": p[:, None], "y_test": y[:, None], "p_test": p[:, None], "tasks": ["t"]}
    rows = table(kind_metrics("binary", bootstrap=200, seed=5, **args))
    assert rows[("t", "auroc")]["value"] == pytest.approx(roc_auc_score(y, p))
    assert rows[("t", "auprc")]["value"] == pytest.approx(average_precision_score(y, p))
    assert rows[("t", "auroc")]["lo"] < rows[("t", "auroc")]["value"] < rows[("t", "auroc")]["hi"]
    assert math.isnan(rows[("t", "threshold")]["lo"]) and rows[("t", "positives")]["value"] == y.sum()
    again = table(kind_metrics("binary", bootstrap=200, seed=5, **args))
    assert again[("t", "auroc")]["lo"] == rows[("t", "auroc")]["lo"]
    valid = table(kind_metrics("binary", bootstrap=200, seed=5, **args), "valid")
    assert valid[("t", PRIMARY["binary"])]["value"] == pytest.approx(roc_auc_score(y, p))


def test_multiclass_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 500)
    p = rng.random((500, 4)) + np.eye(4)[y] * 0.6
    p[:, 3] = 0  # class d is never predicted
    names = ["a", "b", "c", "d"]
    pred = p.argmax(1)
    rows = table(
        kind_metrics(
            "multiclass", y_valid=y, p_valid=p, y_test=y, p_test=p, tasks=["loc"], classes=names, bootstrap=100, seed=0
        )
    )
    assert rows[("loc", "accuracy")]["value"] == pytest.approx(accuracy_score(y, pred))
    assert rows[("loc", "macro_f1")]["value"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    assert rows[("loc", "mcc")]["value"] == pytest.approx(matthews_corrcoef(y, pred))
    precision = precision_score(y, pred, average=None, zero_division=0, labels=range(4))
    recall = recall_score(y, pred, average=None, zero_division=0, labels=range(4))
    for c, name in enumerate(names):
        assert rows[("loc", f"precision:{name}")]["value"] == pytest.approx(precision[c])
        assert rows[("loc", f"recall:{name}")]["value"] == pytest.approx(recall[c])
    assert rows[("loc", "accuracy")]["lo"] < rows[("loc", "accuracy")]["value"] < rows[("loc", "accuracy")]["hi"]
    confusion = confusion_table(kind="multiclass", y=y, p=p, classes=names)
    assert confusion["count"].sum() == 500 and len(confusion) == 16


def test_per_position_never_counts_masked_positions_and_resamples_sequences() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, (40, 30)).astype(np.int8)
    y[:, 20:] = -1  # padding
    p = rng.random((40, 30, 3)) + np.eye(3)[np.maximum(y, 0)] * 0.5
    rows = table(
        kind_metrics(
            "per_position",
            y_valid=y,
            p_valid=p,
            y_test=y,
            p_test=p,
            tasks=["ss"],
            classes=["H", "E", "C"],
            bootstrap=200,
            seed=0,
        )
    )
    keep = y >= 0
    q3 = accuracy_score(y[keep], p.argmax(2)[keep])
    assert rows[("ss", "q_accuracy")]["value"] == pytest.approx(q3)
    assert rows[("ss", "positions")]["value"] == keep.sum()
    assert rows[("ss", "macro_f1")]["value"] == pytest.approx(f1_score(y[keep], p.argmax(2)[keep], average="macro"))
    changed = p.copy()
    changed[:, 20:] = rng.random((40, 10, 3))  # what a model says on padding does not matter
    again = table(
        kind_metrics(
            "per_position",
            y_valid=y,
            p_valid=changed,
            y_test=y,
            p_test=changed,
            tasks=["ss"],
            classes=["H", "E", "C"],
            bootstrap=200,
            seed=0,
        )
    )
    assert again[("ss", "q_accuracy")] == rows[("ss", "q_accuracy")]
    assert rows[("ss", "q_accuracy")]["lo"] < q3 < rows[("ss", "q_accuracy")]["hi"]


def test_multilabel_uses_validation_thresholds_and_matches_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random((300, 5)) < 0.3).astype(int)
    p = y * 0.3 + rng.random((300, 5)) * 0.8
    y_valid, p_valid = y[:150], p[:150]
    rows = kind_metrics(
        "multilabel",
        y_valid=y_valid,
        p_valid=p_valid,
        y_test=y[150:],
        p_test=p[150:],
        tasks=list("ABCDE"),
        bootstrap=100,
        seed=0,
    )
    test = table(rows)
    cut = np.array([test[(label, "threshold")]["value"] for label in "ABCDE"])
    pred = (p[150:] >= cut).astype(int)
    yt = y[150:]
    assert test[(ALL_LABELS, "micro_f1")]["value"] == pytest.approx(f1_score(yt, pred, average="micro"))
    assert test[(ALL_LABELS, "macro_f1")]["value"] == pytest.approx(
        f1_score(yt, pred, average="macro", zero_division=0)
    )
    assert test[(ALL_LABELS, "jaccard")]["value"] == pytest.approx(
        jaccard_score(yt, pred, average="samples", zero_division=1)
    )
    assert test[(ALL_LABELS, "exact_match")]["value"] == pytest.approx(accuracy_score(yt, pred))
    assert test[("C", "mcc")]["value"] == pytest.approx(matthews_corrcoef(yt[:, 2], pred[:, 2]))
    assert table(rows, "valid")[("C", "threshold")]["value"] == test[("C", "threshold")]["value"]


def test_multilabel_thresholds_maximise_micro_f1_on_validation() -> None:
    """A rare label the scores barely predict: its own best-F1 threshold calls many rows
    positive, which costs micro-F1; the chosen thresholds call fewer and score higher, and
    no single label's threshold can be moved to raise micro-F1 further (checked by brute force)."""
    from genomicdl.metrics.multilabel import label_thresholds, micro_f1_thresholds

    rng = np.random.default_rng(8)
    y = np.c_[rng.random((400, 2)) < 0.4, rng.random(400) < 0.03].astype(int)
    r = rng.random(400)
    p = np.c_[y[:, :2] * 0.4 + rng.random((400, 2)) * 0.7, np.where(y[:, 2] == 1, 0.3 + 0.7 * r, r)]

    def micro(cut: np.ndarray) -> float:
        return f1_score(y, (p >= cut).astype(int), average="micro")

    own, chosen = label_thresholds(y, p), micro_f1_thresholds(y, p)
    assert (p[:, 2] >= own[2]).sum() > 3 * (p[:, 2] >= chosen[2]).sum()
    assert micro(chosen) > micro(own) + 0.02
    for j in range(3):
        for t in np.r_[np.sort(p[:, j])[::5], 2.0]:
            moved = chosen.copy()
            moved[j] = t
            assert micro(moved) <= micro(chosen) + 1e-9


def test_regression_masks_missing_labels_per_task() -> None:
    rng = np.random.default_rng(5)
    y = rng.standard_normal((200, 2)).astype(np.float32)
    p = y + 0.5 * rng.standard_normal((200, 2))
    y[:30, 1] = np.nan
    rows = table(
        kind_metrics("regression", y_valid=y, p_valid=p, y_test=y, p_test=p, tasks=["x", "z"], bootstrap=200, seed=0)
    )
    keep = ~np.isnan(y[:, 1])
    assert rows[("z", "pearson")]["value"] == pytest.approx(stats.pearsonr(y[keep, 1], p[keep, 1])[0])
    assert rows[("z", "spearman")]["value"] == pytest.approx(stats.spearmanr(y[keep, 1], p[keep, 1])[0])
    assert rows[("z", "r2")]["value"] == pytest.approx(r2_score(y[keep, 1], p[keep, 1]), abs=1e-6)
    assert rows[("z", "n")]["value"] == 170 and rows[("x", "n")]["value"] == 200
    assert rows[("z", "pearson")]["lo"] < rows[("z", "pearson")]["value"] < rows[("z", "pearson")]["hi"]


def test_mutation_effect_spearman_over_mutants() -> None:
    rng = np.random.default_rng(6)
    y = rng.standard_normal(500)
    p = y + rng.standard_normal(500)
    rows = table(
        kind_metrics(
            "mutation_effect",
            y_valid=y[:100],
            p_valid=p[:100],
            y_test=y,
            p_test=p,
            tasks=["fitness"],
            bootstrap=200,
            seed=0,
        )
    )
    value = rows[("fitness", "spearman")]
    assert value["value"] == pytest.approx(stats.spearmanr(y, p)[0]) and value["lo"] < value["value"] < value["hi"]


def test_primary_scorer_gives_one_column_per_primary_task() -> None:
    rng = np.random.default_rng(8)
    y = (rng.random((100, 3)) < 0.4).astype(int)
    p = rng.random((100, 3))
    scorer = primary_scorer("binary", y_valid=y, p_valid=p, y=y, p=p, tasks=["a", "b", "c"])
    assert scorer.tasks == ["a", "b", "c"] and scorer.metric == "auroc"
    out = scorer(np.ones((2, 100), dtype=int))
    assert out.shape == (2, 3) and out[0, 1] == pytest.approx(roc_auc_score(y[:, 1], p[:, 1]))


def test_bad_kinds_and_shapes_fail_clearly() -> None:
    y = np.zeros(5)
    with pytest.raises(ValueError, match="unknown target kind 'nope'"):
        kind_metrics("nope", y_valid=y, p_valid=y, y_test=y, p_test=y, tasks=["t"])
    with pytest.raises(ValueError, match="multiclass: labels of shape"):
        kind_metrics("multiclass", y_valid=y, p_valid=y, y_test=y, p_test=y, tasks=["t"], classes=["a", "b"])
    with pytest.raises(ValueError, match="outside the 2 classes"):
        kind_metrics(
            "multiclass",
            y_valid=y + 3,
            p_valid=np.ones((5, 2)),
            y_test=y,
            p_test=np.ones((5, 2)),
            tasks=["t"],
            classes=["a", "b"],
        )


def test_the_config_schema_lets_published_figures_name_every_metric() -> None:
    from pathlib import Path

    import yaml

    from genomicdl.metrics import METRIC_NAMES

    schema = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
    metric = schema["$defs"]["dataset"]["properties"]["published"]["items"]["properties"]["metric"]
    assert set(metric["enum"]) == set(METRIC_NAMES)
