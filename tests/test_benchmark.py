"""The benchmark stage on per-run files built directly (no trained models): benchmark.tsv
and metrics.tsv for every kind, summaries over seeds and tasks, selection on validation,
paired comparisons, published figures and the Markdown summary."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from genomicdl.evaluation.benchmark import (
    ALL_TASKS,
    ENSEMBLE,
    Predictions,
    benchmark_table,
    collect,
    cross_validated,
    fill_single_seed_intervals,
    markdown,
    paired_comparisons,
    published_table,
    run_collect,
    run_summary,
    summarize,
)
from genomicdl.io.run_arrays import load_arrays, save_arrays
from genomicdl.metrics import kind_metrics, task_metrics

TASKS = ("A", "B")
RUN_KEYS = ("dataset", "model", "balance", "seed")


def write_run(
    root: Path, run: tuple[str, str, str, int], *, kind: str, tasks, classes=None, valid, test, bootstrap=50
) -> tuple[Path, Path]:
    """A run's metrics.tsv and arrays.npz, as the evaluate stage writes them."""
    folder = root.joinpath(*map(str, run))
    folder.mkdir(parents=True, exist_ok=True)
    (y_valid, p_valid), (y_test, p_test) = valid, test
    rows = kind_metrics(
        kind,
        y_valid=y_valid,
        p_valid=p_valid,
        y_test=y_test,
        p_test=p_test,
        tasks=tasks,
        classes=classes,
        bootstrap=bootstrap,
        seed=int(run[3]),
        min_positives=5,
    )
    frame = pd.DataFrame([dict(zip(RUN_KEYS, run)) | {"kind": kind} | row for row in rows])
    frame.to_csv(folder / "metrics.tsv", sep="\t", index=False)
    save_arrays(
        folder / "arrays.npz",
        kind=kind,
        tasks=list(tasks),
        classes=classes,
        y_valid=y_valid,
        p_valid=p_valid,
        y_test=y_test,
        p_test=p_test,
    )
    return folder / "metrics.tsv", folder / "arrays.npz"


def noisy(labels: np.ndarray, noise: float, seed: int) -> np.ndarray:
    """Scores that rank the positives higher, blurred by ``noise``."""
    rng = np.random.default_rng(seed)
    return labels + noise * rng.standard_normal(labels.shape)


@pytest.fixture
def labels() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((600, len(TASKS))) < 0.3).astype(int)


def bench_rows(model: str, seed: int, values: dict[str, tuple[float, float]], low=frozenset(), valid=None) -> list:
    """benchmark.tsv rows of a binary run (auroc is the score)."""
    return [
        {"dataset": "d", "model": model, "balance": "none", "seed": str(seed), "task": task, "kind": "binary"}
        | {"metric": "auroc", "score": auroc, "score_lo": auroc - 0.02, "score_hi": auroc + 0.02}
        | {"valid_score": auroc if valid is None else valid, "auroc": auroc, "auprc": auprc}
        | {"auprc_lo": auprc - 0.03, "auprc_hi": auprc + 0.03, "low_positives": task in low}
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


def test_collect_writes_a_score_for_every_kind_and_binary_columns_for_binary(labels, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    files = [
        write_run(
            tmp_path,
            ("bin", "cnn", "none", 1),
            kind="binary",
            tasks=TASKS,
            valid=(labels, noisy(labels, 0.8, 2)),
            test=(labels, noisy(labels, 0.8, 3)),
        )[0]
    ]
    y = rng.integers(0, 3, 300)
    p = rng.random((300, 3)) + 0.5 * np.eye(3)[y]
    files.append(
        write_run(
            tmp_path,
            ("loc", "cnn", "none", 1),
            kind="multiclass",
            tasks=["where"],
            classes=["a", "b", "c"],
            valid=(y, p),
            test=(y, p),
        )[0]
    )
    r = rng.standard_normal((200, 2))
    files.append(
        write_run(
            tmp_path,
            ("expr", "cnn", "none", 1),
            kind="regression",
            tasks=["u", "v"],
            valid=(r, r + rng.standard_normal(r.shape)),
            test=(r, r + rng.standard_normal(r.shape)),
        )[0]
    )
    table = benchmark_table(collect(files)).set_index(["dataset", "task"])
    assert (
        table.loc[("bin", "A"), "metric"] == "auroc"
        and table.loc[("bin", "A"), "score"] == table.loc[("bin", "A"), "auroc"]
    )
    assert not math.isnan(table.loc[("bin", "A"), "auprc_lo"]) and not math.isnan(
        table.loc[("bin", "A"), "valid_score"]
    )
    assert table.loc[("loc", "where"), "metric"] == "accuracy" and math.isnan(table.loc[("loc", "where"), "auroc"])
    assert table.loc[("loc", "where"), "score"] == pytest.approx(np.mean(p.argmax(1) == y))
    assert list(table.loc["expr"].index) == ["u", "v"] and set(table.loc["expr", "metric"]) == {"pearson"}
    assert table.loc[("loc", "where"), "score_lo"] < table.loc[("loc", "where"), "score"]


def test_summary_over_seeds_and_tasks_leaves_out_low_positive_tasks() -> None:
    rows = []
    for seed, (a, b, c) in enumerate([(0.80, 0.70, 0.1), (0.84, 0.74, 0.9), (0.82, 0.78, 0.5)], start=1):
        rows += bench_rows("cnn", seed, {"A": (a, a - 0.1), "B": (b, b - 0.1), "C": (c, c)}, frozenset({"C"}))
    summary = summarize(pd.DataFrame(rows))
    per_task = summary.set_index("task")
    a = np.array([0.80, 0.84, 0.82])
    half = stats.t.ppf(0.975, 2) * a.std(ddof=1) / math.sqrt(3)
    assert per_task.loc["A", "score_mean"] == pytest.approx(a.mean())
    assert per_task.loc["A", "score_sd"] == pytest.approx(a.std(ddof=1))
    assert per_task.loc["A", "score_ci_lo"] == pytest.approx(a.mean() - half)
    assert per_task.loc["C", "low_positives"]
    agg = per_task.loc[ALL_TASKS]
    per_seed = (a + np.array([0.70, 0.74, 0.78])) / 2  # C is left out of the mean over tasks
    assert agg["tasks"] == 2 and agg["score_mean"] == pytest.approx(per_seed.mean()) and agg["selected"]
    assert agg["score_median_over_tasks"] == pytest.approx(np.median([a.mean(), 0.74]))
    table = pd.DataFrame(rows)
    text = markdown(summary, paired_comparisons(table, summary, Predictions({})), published_table(summary, {}))
    assert "## d" in text and "Left out of the means (too few test positives): C." in text


def test_folds_are_averaged_with_an_interval_across_folds_and_selected_on_validation() -> None:
    """Three folds of "loc": the row over folds is the mean of the folds' scores with a
    Student-t interval across them; selection reads validation only; a configuration
    that missed a fold gets no row over folds."""
    rows = []
    tests = {"deep": [0.70, 0.74, 0.72], "simple": [0.80, 0.81, 0.79]}  # simple is better on test ...
    valids = {"deep": [0.75, 0.76, 0.77], "simple": [0.60, 0.61, 0.62]}  # ... deep on validation
    for model in tests:
        for k in range(3):
            fold = bench_rows(model, 1, {"A": (tests[model][k], 0.5)}, valid=valids[model][k])
            rows += [r | {"dataset": f"loc_fold{k}"} for r in fold]
    rows += [r | {"dataset": "loc_fold0"} for r in bench_rows("partial", 1, {"A": (0.99, 0.5)}, valid=0.99)]
    folds = {f"loc_fold{k}": "loc" for k in range(3)}
    summary = cross_validated(summarize(pd.DataFrame(rows)), folds)
    over = summary[summary["dataset"] == "loc"].set_index("model")
    assert set(over.index) == {"deep", "simple"}  # "partial" ran one fold of three
    deep = np.array(tests["deep"])
    half = stats.t.ppf(0.975, 2) * deep.std(ddof=1) / math.sqrt(3)
    assert over.loc["deep", "score_mean"] == pytest.approx(deep.mean())
    assert over.loc["deep", "score_ci_lo"] == pytest.approx(deep.mean() - half)
    assert over.loc["deep", "score_ci_hi"] == pytest.approx(deep.mean() + half)
    assert over.loc["deep", "folds"] == 3 and over.loc["deep", "valid_mean"] == pytest.approx(0.76)
    assert over.loc["deep", "selected"] and not over.loc["simple", "selected"]
    published = {"loc": [{"metric": "auroc", "value": 0.9, "source": "paper"}]}
    pub = published_table(summary, published)
    assert pub.iloc[0]["our_model"] == "deep" and pub.iloc[0]["ours"] == pytest.approx(deep.mean())
    text = markdown(summary, paired_comparisons(pd.DataFrame(rows), summary, Predictions({})), pub)
    assert "## loc\n" in text and "mean over 3 folds (loc_fold0, loc_fold1, loc_fold2)" in text


def test_one_seed_takes_bootstrap_intervals(labels: np.ndarray, tmp_path: Path) -> None:
    scores = noisy(labels, 0.8, 1)
    metrics, arrays = write_run(
        tmp_path, ("d", "cnn", "none", 1), kind="binary", tasks=TASKS, valid=(labels, scores), test=(labels, scores)
    )
    table = benchmark_table(collect([metrics]))
    summary = summarize(table)
    # one task row: the run's own bootstrap CI; the task mean: a joint bootstrap of both tasks
    assert summary.set_index("task").loc["A", "score_ci_lo"] == table.set_index("task").loc["A", "score_lo"]
    assert math.isnan(summary.set_index("task").loc[ALL_TASKS, "score_ci_lo"])
    predictions = Predictions({("d", "cnn", "none", "1"): arrays})
    filled = fill_single_seed_intervals(summary, table, predictions, n_boot=200).set_index("task").loc[ALL_TASKS]
    mean = np.mean([roc_auc_score(labels[:, j], scores[:, j]) for j in range(2)])
    assert filled["score_mean"] == pytest.approx(mean)
    assert filled["score_ci_lo"] < mean < filled["score_ci_hi"] and filled["score_ci_hi"] - filled["score_ci_lo"] < 0.1
    assert filled["auprc_ci_lo"] < filled["auprc_mean"] < filled["auprc_ci_hi"]


def test_paired_comparison_tells_better_from_indistinguishable(labels: np.ndarray, tmp_path: Path) -> None:
    good, bad = noisy(labels, 0.5, 1), noisy(labels, 3.0, 2)
    files, arrays = [], {}
    for model, scores, valid_scores in (("good", good, noisy(labels, 0.4, 5)), ("same", good, good), ("bad", bad, bad)):
        run = ("d", model, "none", 1)
        m, a = write_run(tmp_path, run, kind="binary", tasks=TASKS, valid=(labels, valid_scores), test=(labels, scores))
        files.append(m)
        arrays[("d", model, "none", "1")] = a
    table = benchmark_table(collect(files))
    summary = summarize(table)
    comparisons = paired_comparisons(table, summary, Predictions(arrays), n_boot=300).set_index("model")
    assert set(comparisons["best_model"]) == {"good"}  # best on validation
    assert comparisons.loc["bad", "verdict"] == "best better" and comparisons.loc["bad", "p_value"] < 0.01
    assert comparisons.loc["bad", "ci_lo"] > 0 and comparisons.loc["bad", "pairs"] == 1
    assert comparisons.loc["same", "verdict"] == "not distinguishable"
    assert comparisons.loc["same", "difference"] == pytest.approx(0) and comparisons.loc["same", "p_value"] == 1


def test_selection_is_on_validation_never_on_test(labels: np.ndarray, tmp_path: Path) -> None:
    """A configuration planted best on test but not on validation is not chosen."""
    honest = noisy(labels, 0.8, 1)
    lucky_test = noisy(labels, 0.3, 2)  # far better on test ...
    lucky_valid = noisy(labels, 2.5, 3)  # ... but poor on validation
    files, arrays = [], {}
    for model, valid, test in (("honest", honest, honest), ("lucky", lucky_valid, lucky_test)):
        for seed in (1, 2):
            run = ("d", model, "none", seed)
            m, a = write_run(tmp_path, run, kind="binary", tasks=TASKS, valid=(labels, valid), test=(labels, test))
            files.append(m)
            arrays[("d", model, "none", str(seed))] = a
    out = {name: tmp_path / f"{name}.tsv" for name in ("table", "metrics", "summary", "comparisons", "published")}
    run_collect(files, arrays={}, bootstrap=50, min_positives=5, out_table=out["table"], out_metrics=out["metrics"])
    published = {
        "d": [{"metric": "auroc", "value": 0.5, "source": "paper"}, {"metric": "mcc", "value": 0.9, "source": "p"}]
    }
    summary = run_summary(
        table_path=out["table"],
        metrics_path=out["metrics"],
        runs=list(arrays),
        arrays_files=list(arrays.values()),
        published=published,
        n_boot=100,
        out_summary=out["summary"],
        out_comparisons=out["comparisons"],
        out_published=out["published"],
        out_markdown=tmp_path / "benchmark.md",
    )
    agg = summary[summary["task"] == ALL_TASKS].set_index("model")
    assert agg.loc["lucky", "score_mean"] > agg.loc["honest", "score_mean"]  # best on test
    assert agg.loc["honest", "selected"] and not agg.loc["lucky", "selected"]
    pub = pd.read_csv(out["published"], sep="\t")
    assert set(pub["our_model"]) == {"honest"} and list(pub["metric"]) == ["auroc", "mcc"]
    assert pub.iloc[0]["ours"] == pytest.approx(agg.loc["honest", "score_mean"])
    text = (tmp_path / "benchmark.md").read_text()
    assert "**Selected on validation:** honest / none" in text and "descriptive, not used for selection" in text


def test_seed_ensembles_are_their_own_rows(labels: np.ndarray, tmp_path: Path) -> None:
    files, arrays = [], {}
    for seed in (1, 2, 3):
        scores = noisy(labels, 1.5, seed)
        m, a = write_run(
            tmp_path,
            ("d", "cnn", "none", seed),
            kind="binary",
            tasks=TASKS,
            valid=(labels, scores),
            test=(labels, scores),
        )
        files.append(m)
        arrays[("d", "cnn", "none", str(seed))] = a
    out_table, out_metrics = tmp_path / "benchmark.tsv", tmp_path / "metrics.tsv"
    table = run_collect(
        files, arrays=arrays, bootstrap=50, min_positives=5, out_table=out_table, out_metrics=out_metrics
    )
    ens = table[table["seed"] == ENSEMBLE].set_index("task")
    mean = np.mean([load_arrays(a).p_test for a in arrays.values()], axis=0)
    assert ens.loc["A", "model"] == "cnn" and ens.loc["A", "score"] == pytest.approx(
        roc_auc_score(labels[:, 0], mean[:, 0])
    )
    assert ens.loc["A", "score"] > table[(table["seed"] != ENSEMBLE) & (table["task"] == "A")]["score"].max()
    summary = summarize(pd.read_csv(out_table, sep="\t", dtype={"seed": str}))
    assert "cnn (ensemble)" in set(summary["model"])
    comparisons = paired_comparisons(table, summary, Predictions(arrays), n_boot=100)
    assert set(comparisons["best_model"]) == {"cnn (ensemble)"} and comparisons.iloc[0]["pairs"] == 3


def test_published_figures_are_placed_against_our_interval() -> None:
    table = pd.DataFrame(bench_rows("cnn", 1, {"A": (0.90, 0.6)}))
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
        summary, paired_comparisons(table, summary, Predictions({})), out
    )


def test_identical_seeds_take_the_bootstrap_interval(labels: np.ndarray, tmp_path: Path) -> None:
    """A deterministic model gives every seed the same numbers: no spread across seeds."""
    scores = noisy(labels, 0.8, 1)
    files, arrays = [], {}
    for seed in (1, 2):
        m, a = write_run(
            tmp_path,
            ("d", "logreg", "none", seed),
            kind="binary",
            tasks=TASKS,
            valid=(labels, scores),
            test=(labels, scores),
        )
        files.append(m)
        arrays[("d", "logreg", "none", str(seed))] = a
    table = benchmark_table(collect(files))
    summary = fill_single_seed_intervals(summarize(table), table, Predictions(arrays), n_boot=200)
    per_task = summary[summary["model"] == "logreg"].set_index("task")
    assert per_task.loc["A", "score_sd"] < 1e-9
    assert per_task.loc["A", "score_ci_lo"] == table[table["task"] == "A"]["score_lo"].iloc[0]
    agg = per_task.loc[ALL_TASKS]
    assert agg["score_ci_lo"] < agg["score_mean"] < agg["score_ci_hi"]


def test_other_kinds_run_through_the_summary(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    y = rng.integers(0, 3, 300)
    files, arrays = [], {}
    for model, blur in (("cnn", 0.8), ("kmer", 2.0)):
        p = rng.random((300, 3)) + blur * 0 + np.eye(3)[y] * (1.5 / blur)
        m, a = write_run(
            tmp_path,
            ("loc", model, "none", 1),
            kind="multiclass",
            tasks=["where"],
            classes=["a", "b", "c"],
            valid=(y, p),
            test=(y, p),
        )
        files.append(m)
        arrays[("loc", model, "none", "1")] = a
    table = benchmark_table(collect(files))
    summary = summarize(table)
    comparisons = paired_comparisons(table, summary, Predictions(arrays), n_boot=100)
    assert list(comparisons["metric"]) == ["accuracy"] and comparisons.iloc[0]["best_model"] == "cnn"
    pub = published_table(summary, {"loc": [{"metric": "macro_f1", "value": 0.5, "source": "s"}]}, collect(files))
    assert pub.iloc[0]["our_model"] == "cnn" and pub.iloc[0]["ours"] > 0.5
    assert "primary metric accuracy" in markdown(summary, comparisons, pub)


def test_plots_for_every_kind(labels: np.ndarray, tmp_path: Path) -> None:
    from genomicdl.plots import evaluation as plots
    rng = np.random.default_rng(3)
    y = rng.integers(-1, 3, (20, 15)).astype(np.int8)
    p = rng.random((20, 15, 3))
    runs = {
        "per_position": write_run(
            tmp_path,
            ("ss", "cnn", "none", 1),
            kind="per_position",
            tasks=["ss"],
            classes=["H", "E", "C"],
            valid=(y, p),
            test=(y, p),
        )[1],
        "regression": write_run(
            tmp_path,
            ("e", "cnn", "none", 1),
            kind="regression",
            tasks=["u"],
            valid=(p[:, 0, :1], p[:, 1, :1]),
            test=(p[:, 0, :1], p[:, 1, :1]),
        )[1],
        "binary": write_run(
            tmp_path,
            ("b", "cnn", "none", 1),
            kind="binary",
            tasks=TASKS,
            valid=(labels, noisy(labels, 1, 1)),
            test=(labels, noisy(labels, 1, 1)),
        )[1],
    }
    plots.predictions_plot("mixed", runs, [tmp_path / "p.png", tmp_path / "p.svg"])
    assert (tmp_path / "p.png").stat().st_size > 1000 and (tmp_path / "p.svg").exists()
    table = pd.DataFrame(bench_rows("cnn", 1, {"A": (0.9, 0.6)}) + bench_rows("lr", 1, {"A": (0.8, 0.5)}))
    plots.benchmark_points(summarize(table), "d", tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_paired_comparison_per_task(labels: np.ndarray, tmp_path: Path) -> None:
    """per_task: one row per task; a model bad on task B only is below the selected one on
    B and not distinguishable on A."""
    good = noisy(labels, 0.5, 1)
    half = good.copy()
    half[:, 1] = noisy(labels, 3.0, 2)[:, 1]  # task B ruined, task A identical
    files, arrays = [], {}
    for model, scores in (("good", good), ("half", half)):
        run = ("d", model, "none", 1)
        m, a = write_run(tmp_path, run, kind="binary", tasks=TASKS, valid=(labels, scores), test=(labels, scores))
        files.append(m)
        arrays[("d", model, "none", "1")] = a
    table = benchmark_table(collect(files))
    summary = summarize(table)
    per_task = paired_comparisons(table, summary, Predictions(arrays), n_boot=300, per_task=True).set_index("task")
    assert list(per_task.index) == ["A", "B"] and set(per_task["model"]) == {"half"}
    assert per_task.loc["A", "difference"] == pytest.approx(0) and per_task.loc["A", "verdict"] == "not distinguishable"
    assert per_task.loc["B", "verdict"] == "best better" and per_task.loc["B", "ci_lo"] > 0
    overall = paired_comparisons(table, summary, Predictions(arrays), n_boot=50)
    text = markdown(summary, overall, published_table(summary, {}), per_task.reset_index())
    assert "| B | half / none |" in text
