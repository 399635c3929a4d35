"""The benchmark stage: every run's metrics in one table, statistics over seeds and
tasks, paired comparisons against the best configuration, published figures beside
ours, and a compact Markdown summary."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from genomicdl.evaluate import read_predictions
from genomicdl.files import write_text_atomic
from genomicdl.negatives import stable_seed

BENCHMARK_COLUMNS = ("dataset", "model", "balance", "seed", "task", "auroc", "auprc")
CONFIG = ["dataset", "model", "balance"]
ALL_TASKS = "(mean over tasks)"
METRICS = ("auroc", "auprc")


def collect(metric_files: Sequence[str | Path]) -> pd.DataFrame:
    """Concatenate metrics.tsv files, one row per dataset x model x balance x seed x task."""
    frames = [pd.read_csv(f, sep="\t") for f in metric_files]
    table = pd.concat(frames, ignore_index=True)
    missing = [c for c in BENCHMARK_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"metrics files lack columns {missing}")
    return table.sort_values(list(BENCHMARK_COLUMNS[:5]), kind="stable").reset_index(drop=True)


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write a TSV atomically."""
    buf = io.StringIO()
    table.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    write_text_atomic(path, buf.getvalue())


def _mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, ci_lo, ci_hi) with a Student-t interval; NaN spread for one value."""
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return (math.nan,) * 4
    mean = float(values.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


def _no_spread(sd: float) -> bool:
    """Seeds that gave the same value (up to float rounding of the mean)."""
    return not math.isnan(sd) and sd < 1e-9


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x model x balance (x task): mean, sd and 95% CI across seeds.

    Per task rows, then one row per configuration averaged over the tasks with at least
    the minimum number of test positives (seed by seed, then across seeds), with the
    median over tasks beside it. With one seed the CI is that run's bootstrap CI.
    """
    rows: list[dict[str, Any]] = []
    eligible = ~table["low_positives"].astype(bool) if "low_positives" in table else pd.Series(True, table.index)
    for keys, group in table.groupby([*CONFIG, "task"], sort=True):
        row = dict(zip([*CONFIG, "task"], keys))
        row["seeds"] = int(group["seed"].nunique())
        row["low_positives"] = not bool(eligible[group.index].all())
        for metric in METRICS:
            mean, sd, lo, hi = _mean_ci(group[metric].to_numpy(dtype=float))
            if (row["seeds"] == 1 or _no_spread(sd)) and f"{metric}_lo" in group:  # no spread over seeds
                lo, hi = float(group[f"{metric}_lo"].iloc[0]), float(group[f"{metric}_hi"].iloc[0])
            row |= {f"{metric}_mean": mean, f"{metric}_sd": sd, f"{metric}_ci_lo": lo, f"{metric}_ci_hi": hi}
        rows.append(row)
    for keys, group in table[eligible].groupby(CONFIG, sort=True):
        row = dict(zip(CONFIG, keys)) | {
            "task": ALL_TASKS,
            "seeds": int(group["seed"].nunique()),
            "low_positives": False,
            "tasks": int(group["task"].nunique()),
        }
        for metric in METRICS:
            per_seed = group.groupby("seed")[metric].mean().to_numpy(dtype=float)
            mean, sd, lo, hi = _mean_ci(per_seed)
            per_task = group.groupby("task")[metric].mean()
            if (row["seeds"] == 1 or _no_spread(sd)) and row["tasks"] == 1 and f"{metric}_lo" in group:  # run's CI
                lo, hi = float(group[f"{metric}_lo"].iloc[0]), float(group[f"{metric}_hi"].iloc[0])
            row |= {
                f"{metric}_mean": mean,
                f"{metric}_sd": sd,
                f"{metric}_ci_lo": lo,
                f"{metric}_ci_hi": hi,
                f"{metric}_median_over_tasks": float(per_task.median()),
            }
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values([*CONFIG, "task"], kind="stable").reset_index(drop=True)


def task_mean_bootstrap(
    frame: pd.DataFrame, tasks: Sequence[str], n_boot: int, seed: int
) -> dict[str, tuple[float, float]]:
    """95% bootstrap intervals of the mean over ``tasks`` of auROC and auPRC on one run's
    test predictions: every resample draws the same rows for all tasks (tasks share
    windows), and a task whose resample holds one class only is left out of that mean."""
    test = frame[frame["split"] == "test"]
    labels = np.stack([test[f"label_{t}"].to_numpy() for t in tasks], axis=1)
    scores = np.stack([test[f"score_{t}"].to_numpy() for t in tasks], axis=1)
    n = len(test)
    rng = np.random.default_rng(seed % 2**32)
    means = {metric: np.full(n_boot, np.nan) for metric in METRICS}
    for i in range(n_boot):
        idx = rng.integers(0, n, n)
        y, p = labels[idx], scores[idx]
        ok = [j for j in range(len(tasks)) if 0 < y[:, j].sum() < n]
        if ok:
            means["auroc"][i] = np.mean([roc_auc_score(y[:, j], p[:, j]) for j in ok])
            means["auprc"][i] = np.mean([average_precision_score(y[:, j], p[:, j]) for j in ok])
    out = {}
    for metric, values in means.items():
        values = values[~np.isnan(values)]
        out[metric] = tuple(float(q) for q in np.quantile(values, [0.025, 0.975])) if len(values) else (math.nan,) * 2
    return out


def fill_single_seed_intervals(
    summary: pd.DataFrame, table: pd.DataFrame, predictions: Mapping[tuple, str | Path], n_boot: int
) -> pd.DataFrame:
    """With one seed, or seeds that all give the same result (a deterministic model), the
    task-averaged rows have no spread across seeds: give them the bootstrap interval of
    the task mean over the (first) run's test rows instead."""
    eligible = table[~table["low_positives"].astype(bool)] if "low_positives" in table else table
    out = summary.copy()
    flat = (out["seeds"] == 1) | out["auroc_sd"].map(_no_spread) | out["auprc_sd"].map(_no_spread)
    for i, row in out[(out["task"] == ALL_TASKS) & flat].iterrows():
        if row.get("tasks", 1) < 2 or n_boot < 1:
            continue  # one task: its run's own bootstrap CI is already there
        runs = eligible[
            (eligible["dataset"] == row["dataset"])
            & (eligible["model"] == row["model"])
            & (eligible["balance"] == row["balance"])
        ]
        seed = int(runs["seed"].min())
        key = (str(row["dataset"]), str(row["model"]), str(row["balance"]), seed)
        if key not in predictions:
            continue
        ci = task_mean_bootstrap(
            read_predictions(predictions[key]), sorted(runs["task"].unique()), n_boot, stable_seed("task_mean", *key)
        )
        for metric, (lo, hi) in ci.items():
            if row["seeds"] == 1 or _no_spread(row[f"{metric}_sd"]):  # as summarize decides per metric
                out.loc[i, [f"{metric}_ci_lo", f"{metric}_ci_hi"]] = [lo, hi]
    return out


def best_configs(summary: pd.DataFrame, metric: str = "auroc") -> dict[str, tuple[str, str]]:
    """The (model, balance) with the highest task-averaged mean, per dataset."""
    agg = summary[summary["task"] == ALL_TASKS]
    best = {}
    for dataset, group in agg.groupby("dataset"):
        top = group.sort_values(f"{metric}_mean", ascending=False, kind="stable").iloc[0]
        best[str(dataset)] = (str(top["model"]), str(top["balance"]))
    return best


def paired_comparisons(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    predictions: Mapping[tuple, str | Path],
    n_boot: int = 1000,
    seed: int = 0,
    metric: str = "auroc",
) -> pd.DataFrame:
    """The best configuration of each dataset against every other one.

    Paired bootstrap over the shared test rows: each resample draws the same rows for
    both configurations, computes the metric difference per (seed, task) on eligible
    tasks and averages it. The 95% interval of that mean difference decides: "better"
    (the interval excludes 0) or "not distinguishable". ``predictions`` maps
    (dataset, model, balance, seed) to a predictions file.
    """
    score = roc_auc_score if metric == "auroc" else average_precision_score
    eligible = table[~table["low_positives"].astype(bool)] if "low_positives" in table else table
    rows = []
    for dataset, (b_model, b_balance) in best_configs(summary, metric).items():
        data = eligible[eligible["dataset"] == dataset]
        tasks = sorted(data["task"].unique())
        seeds = sorted(data["seed"].unique())
        cache: dict[tuple, pd.DataFrame] = {}

        def test_of(model: str, balance: str, s: int, cache: dict = cache, dataset: str = dataset) -> pd.DataFrame:
            key = (dataset, model, balance, s)
            if key not in cache:
                frame = read_predictions(predictions[key])
                cache[key] = frame[frame["split"] == "test"].sort_values("row").reset_index(drop=True)
            return cache[key]

        for (model, balance), _ in data.groupby(["model", "balance"]):
            if (model, balance) == (b_model, b_balance):
                continue
            pairs = []
            for s in seeds:
                if (dataset, model, balance, s) not in predictions or (
                    dataset,
                    b_model,
                    b_balance,
                    s,
                ) not in predictions:
                    continue
                a, b = test_of(b_model, b_balance, s), test_of(model, balance, s)
                for task in tasks:
                    pairs.append(
                        (a[f"label_{task}"].to_numpy(), a[f"score_{task}"].to_numpy(), b[f"score_{task}"].to_numpy())
                    )
            if not pairs:
                continue
            observed = np.mean([score(y, pa) - score(y, pb) for y, pa, pb in pairs])
            rng = np.random.default_rng(stable_seed("paired", seed, dataset, model, balance) % 2**32)
            n = len(pairs[0][0])
            diffs = np.empty(n_boot)
            for i in range(n_boot):
                idx = rng.integers(0, n, n)
                vals = [score(y[idx], pa[idx]) - score(y[idx], pb[idx]) for y, pa, pb in pairs if 0 < y[idx].sum() < n]
                diffs[i] = np.mean(vals) if vals else np.nan
            diffs = diffs[~np.isnan(diffs)]
            lo, hi = np.quantile(diffs, [0.025, 0.975]) if len(diffs) else (math.nan, math.nan)
            tail = min(int((diffs <= 0).sum()), int((diffs >= 0).sum()))
            p = min(1.0, 2 * (tail + 1) / (len(diffs) + 1)) if len(diffs) else math.nan
            rows.append(
                {
                    "dataset": dataset,
                    "metric": metric,
                    "best_model": b_model,
                    "best_balance": b_balance,
                    "model": model,
                    "balance": balance,
                    "pairs": len(pairs),
                    "difference": float(observed),
                    "ci_lo": float(lo),
                    "ci_hi": float(hi),
                    "p_value": float(p),
                    "verdict": "best better" if lo > 0 else ("best worse" if hi < 0 else "not distinguishable"),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "metric",
            "best_model",
            "best_balance",
            "model",
            "balance",
            "pairs",
            "difference",
            "ci_lo",
            "ci_hi",
            "p_value",
            "verdict",
        ],
    )


def published_table(summary: pd.DataFrame, published: Mapping[str, Sequence[Mapping[str, Any]]]) -> pd.DataFrame:
    """Published figures beside our best configuration's, with the difference and whether
    the published value is below, inside or above our 95% interval."""
    rows = []
    for dataset, entries in published.items():
        for entry in entries:
            metric, task = entry["metric"], entry.get("task")
            ours = summary[(summary["dataset"] == dataset) & (summary["task"] == (task or ALL_TASKS))]
            if ours.empty:
                continue
            top = ours.sort_values(f"{metric}_mean", ascending=False, kind="stable").iloc[0]
            mean, lo, hi = top[f"{metric}_mean"], top[f"{metric}_ci_lo"], top[f"{metric}_ci_hi"]
            value = float(entry["value"])
            if not math.isnan(lo) and value < lo:
                verdict = "ours above"
            elif not math.isnan(hi) and value > hi:
                verdict = "ours below"
            elif math.isnan(lo):
                verdict = "ours above" if mean > value else "ours below"
            else:
                verdict = "inside our CI"
            rows.append(
                {
                    "dataset": dataset,
                    "task": task or ALL_TASKS,
                    "metric": metric,
                    "published": value,
                    "published_model": entry.get("model", ""),
                    "source": entry["source"],
                    "our_model": top["model"],
                    "our_balance": top["balance"],
                    "ours": mean,
                    "ours_ci_lo": lo,
                    "ours_ci_hi": hi,
                    "difference": mean - value,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "task",
            "metric",
            "published",
            "published_model",
            "source",
            "our_model",
            "our_balance",
            "ours",
            "ours_ci_lo",
            "ours_ci_hi",
            "difference",
            "verdict",
        ],
    )


def _fmt(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isnan(lo):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def markdown(summary: pd.DataFrame, comparisons: pd.DataFrame, published: pd.DataFrame) -> str:
    """A compact Markdown summary: one table per dataset, verdicts, published figures."""
    lines = [
        "# Benchmark summary",
        "",
        "Test-split auROC and auPRC: mean over seeds of the mean over tasks with enough test positives, "
        "95% CI across seeds (with one seed, or identical seeds: bootstrap CI over the test rows). "
        "Verdict (auROC; auPRC in comparisons.tsv): paired bootstrap of the best configuration against each other one.",
        "",
    ]
    agg = summary[summary["task"] == ALL_TASKS]
    for dataset, group in agg.groupby("dataset", sort=True):
        lines += [
            f"## {dataset}",
            "",
            "| model | balance | seeds | auROC | auPRC | vs best |",
            "|---|---|---|---|---|---|",
        ]
        comp = comparisons[(comparisons["dataset"] == dataset) & (comparisons["metric"] == "auroc")]
        for _, row in group.sort_values("auroc_mean", ascending=False, kind="stable").iterrows():
            hit = comp[(comp["model"] == row["model"]) & (comp["balance"] == row["balance"])]
            if hit.empty:
                verdict = "**best**"
            else:
                c = hit.iloc[0]
                word = {"best better": "below best", "best worse": "above best"}.get(c["verdict"], "indistinguishable")
                verdict = f"{word} (Δ {-c['difference']:+.3f}, p = {c['p_value']:.3g})"
            lines.append(
                f"| {row['model']} | {row['balance']} | {row['seeds']} | "
                f"{_fmt(row['auroc_mean'], row['auroc_ci_lo'], row['auroc_ci_hi'])} | "
                f"{_fmt(row['auprc_mean'], row['auprc_ci_lo'], row['auprc_ci_hi'])} | {verdict} |"
            )
        low = summary[(summary["dataset"] == dataset) & summary["low_positives"].astype(bool)]["task"].unique()
        if len(low):
            lines.append(f"\nLeft out of the means (too few test positives): {', '.join(sorted(low))}.")
        pub = published[published["dataset"] == dataset]
        if not pub.empty:
            lines += [
                "",
                "| published | model | value | ours (best) | difference | verdict | source |",
                "|---|---|---|---|---|---|---|",
            ]
            for _, row in pub.iterrows():
                what = row["metric"] if row["task"] == ALL_TASKS else f"{row['metric']} ({row['task']})"
                lines.append(
                    f"| {what} | {row['published_model']} | {row['published']:.3f} | "
                    f"{_fmt(row['ours'], row['ours_ci_lo'], row['ours_ci_hi'])} | "
                    f"{row['difference']:+.3f} | {row['verdict']} | {row['source']} |"
                )
        lines.append("")
    return "\n".join(lines)


def run_summary(
    table_path: str | Path,
    runs: Sequence[Sequence[Any]],
    prediction_files: Sequence[str | Path],
    published: Mapping[str, Sequence[Mapping[str, Any]]],
    n_boot: int,
    out_summary: str | Path,
    out_comparisons: str | Path,
    out_published: str | Path,
    out_markdown: str | Path,
) -> pd.DataFrame:
    """The summarize stage: statistics, comparisons, published figures and Markdown."""
    table = pd.read_csv(table_path, sep="\t")
    predictions = {(str(d), str(m), str(b), int(s)): path for (d, m, b, s), path in zip(runs, prediction_files)}
    summary = fill_single_seed_intervals(summarize(table), table, predictions, n_boot)
    comparisons = pd.concat(
        [paired_comparisons(table, summary, predictions, n_boot=n_boot, metric=metric) for metric in METRICS],
        ignore_index=True,
    )
    pub = published_table(summary, published)
    write_table(summary, out_summary)
    write_table(comparisons, out_comparisons)
    write_table(pub, out_published)
    write_text_atomic(out_markdown, markdown(summary, comparisons, pub))
    return summary
