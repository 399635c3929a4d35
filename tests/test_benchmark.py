"""The benchmark statistics: per-run metrics, summaries over seeds and tasks, paired
comparisons, published figures and the Markdown summary, on predictions whose answers
are known."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from genomicdl.benchmark import (
    ALL_TASKS,
    fill_single_seed_intervals,
    markdown,
    paired_comparisons,
    published_table,
    summarize,
    task_mean_bootstrap,
)
from genomicdl.metrics import task_metrics

TASKS = ("A", "B")


def predictions(path: Path, labels: np.ndarray, scores: np.ndarray) -> Path:
    """A predictions.tsv.gz of test rows (as evaluate writes it)."""
    n = len(labels)
    frame = pd.DataFrame({"split": "test", "row": np.arange(n), "id": [f"r{i}" for i in range(n)]})
    for j, task in enumerate(TASKS):
        frame[f"label_{task}"] = labels[:, j]
        frame[f"score_{task}"] = scores[:, j]
    frame.to_csv(path, sep="\t", index=False)
    return path


def noisy(labels: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """Scores that rank the positives higher, blurred by ``noise``."""
    rng = np.random.default_rng(seed)
    return labels + noise * rng.standard_normal(labels.shape)


@pytest.fixture
def labels() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((600, len(TASKS))) < 0.3).astype(int)


def metrics_rows(model: str, seed: int, values: dict[str, tuple[float, float]], low: frozenset = frozenset()) -> list:
    return [
        {
            "dataset": "d",
            "model": model,
            "balance": "none",
            "seed": seed,
            "task": task,
            "auroc": auroc,
            "auprc": auprc,
            "auroc_lo": auroc - 0.02,
            "auroc_hi": auroc + 0.02,
            "auprc_lo": auprc - 0.03,
            "auprc_hi": auprc + 0.03,
            "low_positives": task in low,
        }
        for task, (auroc, auprc) in values.items()
    ]


def test_task_metrics_choose_the_threshold_on_validation_and_flag_few_positives() -> None:
    y_valid, p_valid = np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.6, 0.7])
    y_test, p_test = np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.55, 0.3, 0.58, 0.9])
    m = task_metrics(y_test, p_test, y_valid, p_valid, bootstrap=50, seed=1, min_positives=3)
    assert m["threshold"] == pytest.approx(0.6)  # the validation split's best-F1 cut, not the test's
    assert m["accuracy"] == pytest.approx(0.8) and m["f1"] == pytest.approx(2 / 3)  # 0.58 falls below it
    assert m["brier"] == pytest.approx(np.mean((p_test - y_test) ** 2))
    assert m["auroc"] == pytest.approx(roc_auc_score(y_test, p_test))
    assert m["positives"] == 2 and m["negatives"] == 3 and m["low_positives"]
    assert m["auroc_lo"] <= m["auroc"] <= m["auroc_hi"]
    again = task_metrics(y_test, p_test, y_valid, p_valid, bootstrap=50, seed=1, min_positives=3)
    assert again["auroc_lo"] == m["auroc_lo"]  # seeded bootstrap


def test_summary_over_seeds_and_tasks_leaves_out_low_positive_tasks() -> None:
    rows = []
    for seed, (a, b, c) in enumerate([(0.80, 0.70, 0.1), (0.84, 0.74, 0.9), (0.82, 0.78, 0.5)], start=1):
        rows += metrics_rows("cnn", seed, {"A": (a, a - 0.1), "B": (b, b - 0.1), "C": (c, c)}, frozenset({"C"}))
    summary = summarize(pd.DataFrame(rows))
    per_task = summary.set_index("task")
    a = np.array([0.80, 0.84, 0.82])
    half = stats.t.ppf(0.975, 2) * a.std(ddof=1) / math.sqrt(3)
    assert per_task.loc["A", "auroc_mean"] == pytest.approx(a.mean())
    assert per_task.loc["A", "auroc_sd"] == pytest.approx(a.std(ddof=1))
    assert per_task.loc["A", "auroc_ci_lo"] == pytest.approx(a.mean() - half)
    assert per_task.loc["C", "low_positives"]
    agg = per_task.loc[ALL_TASKS]
    per_seed = (a + np.array([0.70, 0.74, 0.78])) / 2  # C is left out of the mean over tasks
    assert agg["tasks"] == 2 and agg["auroc_mean"] == pytest.approx(per_seed.mean())
    assert agg["auroc_median_over_tasks"] == pytest.approx(np.median([a.mean(), 0.74]))
    text = markdown(summary, paired_comparisons(pd.DataFrame(rows), summary, {}), published_table(summary, {}))
    assert "## d" in text and "Left out of the means (too few test positives): C." in text


def test_one_seed_takes_bootstrap_intervals(labels: np.ndarray, tmp_path: Path) -> None:
    scores = noisy(labels, 0.8, 1)
    values = {t: (roc_auc_score(labels[:, j], scores[:, j]), 0.5) for j, t in enumerate(TASKS)}
    table = pd.DataFrame(metrics_rows("cnn", 1, values))
    summary = summarize(table)
    # one task row: the run's own bootstrap CI; the task mean: a joint bootstrap of both tasks
    assert summary.set_index("task").loc["A", "auroc_ci_lo"] == pytest.approx(values["A"][0] - 0.02)
    assert math.isnan(summary.set_index("task").loc[ALL_TASKS, "auroc_ci_lo"])
    files = {("d", "cnn", "none", 1): predictions(tmp_path / "p.tsv.gz", labels, scores)}
    filled = fill_single_seed_intervals(summary, table, files, n_boot=200).set_index("task").loc[ALL_TASKS]
    mean = np.mean([v[0] for v in values.values()])
    assert filled["auroc_ci_lo"] < mean < filled["auroc_ci_hi"] and filled["auroc_ci_hi"] - filled["auroc_ci_lo"] < 0.1
    direct = task_mean_bootstrap(pd.read_csv(files[("d", "cnn", "none", 1)], sep="\t"), TASKS, 200, 0)
    assert direct == task_mean_bootstrap(pd.read_csv(files[("d", "cnn", "none", 1)], sep="\t"), TASKS, 200, 0)


def test_paired_comparison_tells_better_from_indistinguishable(labels: np.ndarray, tmp_path: Path) -> None:
    good, same, bad = noisy(labels, 0.5, 1), noisy(labels, 0.5, 1), noisy(labels, 3.0, 2)
    files, rows = {}, []
    for model, scores in (("good", good), ("same", same), ("bad", bad)):
        files[("d", model, "none", 1)] = predictions(tmp_path / f"{model}.tsv.gz", labels, scores)
        values = {t: (roc_auc_score(labels[:, j], scores[:, j]), 0.5) for j, t in enumerate(TASKS)}
        rows += metrics_rows(model, 1, values)
    table = pd.DataFrame(rows)
    summary = summarize(table)
    comparisons = paired_comparisons(table, summary, files, n_boot=300).set_index("model")
    assert set(comparisons["best_model"]) == {"good"} or set(comparisons["best_model"]) == {"same"}
    assert comparisons.loc["bad", "verdict"] == "best better" and comparisons.loc["bad", "p_value"] < 0.01
    assert comparisons.loc["bad", "ci_lo"] > 0 and comparisons.loc["bad", "pairs"] == len(TASKS)
    other = "same" if "same" in comparisons.index else "good"
    assert comparisons.loc[other, "verdict"] == "not distinguishable"
    assert comparisons.loc[other, "difference"] == pytest.approx(0) and comparisons.loc[other, "p_value"] == 1


def test_published_figures_are_placed_against_our_interval() -> None:
    table = pd.DataFrame(metrics_rows("cnn", 1, {"A": (0.90, 0.6)}))
    summary = summarize(table)  # one task: the run's CI, 0.88-0.92
    published = {
        "d": [
            {"metric": "auroc", "value": 0.95, "source": "paper 1", "model": "X"},
            {"metric": "auroc", "value": 0.91, "source": "paper 2"},
            {"metric": "auroc", "value": 0.80, "source": "paper 3"},
        ]
    }
    out = published_table(summary, published)
    assert list(out["verdict"]) == ["ours below", "inside our CI", "ours above"]
    assert list(out["difference"]) == pytest.approx([-0.05, -0.01, 0.10])
    assert "| auroc | X | 0.950 | 0.900 [0.880, 0.920] | -0.050 | ours below | paper 1 |" in markdown(
        summary, paired_comparisons(table, summary, {}), out
    )


def test_identical_seeds_take_the_bootstrap_interval(labels: np.ndarray, tmp_path: Path) -> None:
    """A deterministic model gives every seed the same numbers: no spread across seeds."""
    scores = noisy(labels, 0.8, 1)
    values = {t: (roc_auc_score(labels[:, j], scores[:, j]), 0.5) for j, t in enumerate(TASKS)}
    # the same values, up to float rounding (a mean of equal floats need not equal them)
    again = {t: (a * (1 + 1e-15), b) for t, (a, b) in values.items()}
    table = pd.DataFrame(metrics_rows("logreg", 1, values) + metrics_rows("logreg", 2, again))
    files = {("d", "logreg", "none", s): predictions(tmp_path / f"p{s}.tsv.gz", labels, scores) for s in (1, 2)}
    summary = fill_single_seed_intervals(summarize(table), table, files, n_boot=200).set_index("task")
    assert summary.loc["A", "auroc_sd"] < 1e-9
    assert summary.loc["A", "auroc_ci_lo"] == pytest.approx(values["A"][0] - 0.02)  # the run's bootstrap CI
    agg = summary.loc[ALL_TASKS]
    assert agg["auroc_ci_lo"] < agg["auroc_mean"] < agg["auroc_ci_hi"]

