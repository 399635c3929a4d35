"""The benchmark stage, for every target kind: every run's metrics in two tables
(benchmark.tsv: the primary ``score`` per run and task; metrics.tsv: every metric, long),
seed ensembles, statistics over seeds and tasks, selection of each dataset's configuration
on validation, paired comparisons against it, published figures beside it only, and a
Markdown summary in which the full test matrix is descriptive."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from genomicdl.core.files import write_text_atomic
from genomicdl.io.run_arrays import RunArrays, ensemble, load_arrays
from genomicdl.kinds import get
from genomicdl.metrics import PRIMARY, kind_metrics, primary_scorer
from genomicdl.metrics.resample import count_blocks, derived_seed, percentile

log = logging.getLogger(__name__)

RUN = ("dataset", "model", "balance", "seed")
CONFIG = ["dataset", "model", "balance"]
LONG_COLUMNS = (*RUN, "kind", "task", "split", "metric", "value", "lo", "hi")
BINARY_COLUMNS = (
    *("auroc", "auprc", "auroc_lo", "auroc_hi", "auprc_lo", "auprc_hi", "threshold"),
    *("accuracy", "f1", "mcc", "brier", "positives", "negatives", "low_positives"),
)
BENCHMARK_COLUMNS = (*RUN, "task", "kind", "metric", "score", "score_lo", "score_hi", "valid_score", *BINARY_COLUMNS)
ALL_TASKS = "(mean over tasks)"
ENSEMBLE = "ensemble"  # the seed of an ensemble row; the summary calls the configuration "<model> (ensemble)"
METRICS = ("score", "auprc")  # summarised per configuration; auprc for binary datasets only


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write a TSV atomically."""
    buf = io.StringIO()
    table.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    write_text_atomic(path, buf.getvalue())


def collect(metric_files: Sequence[str | Path]) -> pd.DataFrame:
    """Every run's long metrics.tsv in one table (seeds as text: ensembles are "ensemble")."""
    frames = []
    for path in metric_files:
        frame = pd.read_csv(path, sep="\t", dtype={"seed": str, "task": str})
        missing = [c for c in LONG_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: a run's metrics.tsv lacks columns {missing}")
        frames.append(frame[list(LONG_COLUMNS)])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LONG_COLUMNS)
    return table.sort_values([*RUN, "task", "split", "metric"], kind="stable").reset_index(drop=True)


def ensemble_metrics(
    arrays: Mapping[tuple[str, str, str, str], str | Path], *, bootstrap: int, min_positives: int
) -> pd.DataFrame:
    """Long metrics of each configuration's seed ensemble (mean of the seeds' predictions),
    for configurations with arrays of at least two seeds; seed "ensemble"."""
    by_config: dict[tuple[str, str, str], list[str | Path]] = {}
    for (dataset, model, balance, _), path in sorted(arrays.items()):
        by_config.setdefault((dataset, model, balance), []).append(path)
    rows = []
    for (dataset, model, balance), paths in by_config.items():
        if len(paths) < 2:
            continue
        try:
            run = ensemble([load_arrays(p) for p in paths])
        except ValueError as err:
            log.warning("%s %s %s: no seed ensemble (%s)", dataset, model, balance, err)
            continue
        metrics = kind_metrics(
            run.kind,
            **_split_arrays(run),
            tasks=run.tasks,
            classes=run.classes,
            bootstrap=bootstrap,
            seed=derived_seed(0, "ensemble", dataset, model, balance),
            min_positives=min_positives,
        )
        key = {"dataset": dataset, "model": model, "balance": balance, "seed": ENSEMBLE, "kind": run.kind}
        rows += [key | row for row in metrics]
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def _split_arrays(run: RunArrays) -> dict[str, np.ndarray]:
    return {"y_valid": run.y_valid, "p_valid": run.p_valid, "y_test": run.y_test, "p_test": run.p_test}


def benchmark_table(long: pd.DataFrame) -> pd.DataFrame:
    """One row per run and task that has the kind's primary metric: ``score`` (test) with its
    interval, ``valid_score`` and, for binary tasks, today's columns (empty otherwise)."""
    primary = long["metric"] == long["kind"].map(PRIMARY)
    keys = [*RUN, "task"]
    test = long[primary & (long["split"] == "test")].rename(
        columns={"value": "score", "lo": "score_lo", "hi": "score_hi"}
    )
    valid = long[primary & (long["split"] == "valid")].rename(columns={"value": "valid_score"})
    table = test[[*keys, "kind", "metric", "score", "score_lo", "score_hi"]].merge(
        valid[[*keys, "valid_score"]], on=keys, how="left"
    )
    binary = long[long["kind"].map(lambda k: get(k).ranked).astype(bool) & (long["split"] == "test")]
    wide = binary.pivot_table(index=keys, columns="metric", values="value", aggfunc="first")
    for metric in ("auroc", "auprc"):
        for side in ("lo", "hi"):
            part = binary[binary["metric"] == metric].set_index(keys)[side].rename(f"{metric}_{side}")
            wide = wide.join(part, how="outer")
    wide = wide.reindex(columns=BINARY_COLUMNS).reset_index()
    table = table.merge(wide, on=keys, how="left")
    table["low_positives"] = table["low_positives"].fillna(0).astype(float).astype(bool)
    return table[list(BENCHMARK_COLUMNS)].sort_values(keys, kind="stable").reset_index(drop=True)


def run_collect(
    metric_files: Sequence[str | Path],
    *,
    arrays: Mapping[tuple[str, str, str, str], str | Path],
    bootstrap: int,
    min_positives: int,
    out_table: str | Path,
    out_metrics: str | Path,
) -> pd.DataFrame:
    """The collect stage: results/metrics.tsv (long, ensembles included) and benchmark.tsv."""
    long = collect(metric_files)
    extra = ensemble_metrics(arrays, bootstrap=bootstrap, min_positives=min_positives)
    if len(extra):
        long = pd.concat([long, extra], ignore_index=True)
    table = benchmark_table(long)
    write_table(long, out_metrics)
    write_table(table, out_table)
    return table


def configurations(table: pd.DataFrame) -> pd.DataFrame:
    """The table with ensemble rows named as their own configuration, "<model> (ensemble)"."""
    out = table.copy()
    out["seed"] = out["seed"].astype(str)
    is_ens = out["seed"] == ENSEMBLE
    out.loc[is_ens, "model"] = out.loc[is_ens, "model"].astype(str) + f" ({ENSEMBLE})"
    return out


def base_model(model: str) -> str:
    """The trained model behind a configuration name."""
    return model.removesuffix(f" ({ENSEMBLE})")


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


def _metric_stats(group: pd.DataFrame, metric: str, per_seed: np.ndarray, run_ci: bool) -> dict[str, float]:
    """mean, sd and CI of one metric; the run's own bootstrap CI when seeds do not spread."""
    mean, sd, lo, hi = _mean_ci(per_seed)
    lo_col, hi_col = (f"{metric}_lo", f"{metric}_hi")
    if run_ci and (len(per_seed) == 1 or _no_spread(sd)) and lo_col in group:
        lo, hi = float(group[lo_col].iloc[0]), float(group[hi_col].iloc[0])
    return {f"{metric}_mean": mean, f"{metric}_sd": sd, f"{metric}_ci_lo": lo, f"{metric}_ci_hi": hi}


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (x task): mean, sd and 95% CI across seeds of the test ``score``
    (and auPRC), and the mean validation score.

    Per-task rows, then one row per configuration averaged over the tasks with enough test
    positives (seed by seed, then across seeds). With one seed the CI is the run's
    bootstrap CI. Ensembles are configurations "<model> (ensemble)" with one "seed".
    """
    table = configurations(table)
    eligible = ~table["low_positives"].fillna(False).astype(bool)
    rows: list[dict[str, Any]] = []
    for keys, group in table.groupby([*CONFIG, "task"], sort=True):
        row = dict(zip([*CONFIG, "task"], keys)) | _kind_of(group)
        row |= {"seeds": int(group["seed"].nunique()), "low_positives": not bool(eligible[group.index].all())}
        row["valid_mean"] = float(group["valid_score"].astype(float).mean())
        for metric in METRICS:
            row |= _metric_stats(group, metric, group[metric].to_numpy(dtype=float), run_ci=True)
        rows.append(row)
    for keys, group in table[eligible].groupby(CONFIG, sort=True):
        tasks = int(group["task"].nunique())
        row = dict(zip(CONFIG, keys)) | _kind_of(group) | {"task": ALL_TASKS, "tasks": tasks}
        row |= {"seeds": int(group["seed"].nunique()), "low_positives": False}
        row["valid_mean"] = float(group.groupby("seed")["valid_score"].mean().mean())
        for metric in METRICS:
            per_seed = group.groupby("seed")[metric].mean().to_numpy(dtype=float)
            row |= _metric_stats(group, metric, per_seed, run_ci=tasks == 1)
            row[f"{metric}_median_over_tasks"] = float(group.groupby("task")[metric].mean().median())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["selected"] = False
    for dataset, (model, balance) in select(out).items():
        pick = (out["dataset"] == dataset) & (out["model"] == model) & (out["balance"] == balance)
        out.loc[pick & (out["task"] == ALL_TASKS), "selected"] = True
    return out.sort_values([*CONFIG, "task"], kind="stable").reset_index(drop=True)


def cross_validated(summary: pd.DataFrame, folds: Mapping[str, str]) -> pd.DataFrame:
    """The summary with one more row per cross-validated dataset and configuration (the
    fold datasets ``folds`` maps to their base name): the mean over folds of each fold's
    task-averaged test score (and validation score), its 95% CI across folds (the fold's
    own CI when only one ran), and the configuration selected on the folds' mean
    validation score. Configurations missing a fold are left out, so every row averages
    the same folds."""
    agg = summary[(summary["task"] == ALL_TASKS) & summary["dataset"].isin(list(folds))]
    if agg.empty:
        return summary
    agg = agg.assign(base=agg["dataset"].map(folds))
    rows: list[dict[str, Any]] = []
    for (base, model, balance), group in agg.groupby(["base", "model", "balance"], sort=True):
        ran = sorted(agg.loc[agg["base"] == base, "dataset"].unique())
        if sorted(group["dataset"]) != ran:
            continue
        row = {"dataset": base, "model": model, "balance": balance, "task": ALL_TASKS} | _kind_of(group)
        row |= {"folds": len(ran), "fold_datasets": ",".join(ran), "seeds": int(group["seeds"].min())}
        row |= {"tasks": int(group["tasks"].min()), "low_positives": False}
        row["valid_mean"] = float(group["valid_mean"].mean())
        for metric in METRICS:
            mean, sd, lo, hi = _mean_ci(group[f"{metric}_mean"].to_numpy(dtype=float))
            if len(group) == 1:
                lo, hi = float(group[f"{metric}_ci_lo"].iloc[0]), float(group[f"{metric}_ci_hi"].iloc[0])
            row |= {f"{metric}_mean": mean, f"{metric}_sd": sd, f"{metric}_ci_lo": lo, f"{metric}_ci_hi": hi}
        rows.append(row)
    if not rows:
        return summary
    extra = pd.DataFrame(rows)
    extra["selected"] = False
    for dataset, (model, balance) in select(extra).items():
        pick = (extra["dataset"] == dataset) & (extra["model"] == model) & (extra["balance"] == balance)
        extra.loc[pick, "selected"] = True
    out = pd.concat([summary, extra], ignore_index=True)
    return out.sort_values([*CONFIG, "task"], kind="stable").reset_index(drop=True)


def _kind_of(group: pd.DataFrame) -> dict[str, str]:
    return {"kind": str(group["kind"].iloc[0]), "metric": str(group["metric"].iloc[0])}


def select(summary: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Each dataset's configuration with the best mean VALIDATION score (per seed the mean
    over tasks, then the mean over seeds); the test split plays no part. Datasets with no
    validation score have no selection."""
    agg = summary[(summary["task"] == ALL_TASKS) & summary["valid_mean"].notna()]
    chosen = {}
    for dataset, group in agg.groupby("dataset", sort=True):
        top = group.sort_values(["valid_mean", "model", "balance"], ascending=[False, True, True], kind="stable")
        chosen[str(dataset)] = (str(top.iloc[0]["model"]), str(top.iloc[0]["balance"]))
    return chosen


class Predictions:
    """Each run's arrays (by dataset, configuration model, balance, seed), loaded once; an
    ensemble configuration's arrays are the mean of its seeds'."""

    def __init__(self, files: Mapping[tuple[str, str, str, str], str | Path]) -> None:
        self.files = {(str(d), str(m), str(b), str(s)): p for (d, m, b, s), p in files.items()}
        self.cache: dict[tuple[str, str, str, str], RunArrays] = {}

    def seeds(self, dataset: str, model: str, balance: str) -> list[str]:
        """The seeds with arrays ("ensemble" for an ensemble configuration with ≥2 seeds)."""
        found = sorted(s for d, m, b, s in self.files if (d, m, b) == (dataset, base_model(model), balance))
        if model != base_model(model):
            return [ENSEMBLE] if len(found) > 1 else []
        return found

    def get(self, dataset: str, model: str, balance: str, seed: str) -> RunArrays:
        key = (dataset, model, balance, seed)
        if key not in self.cache:
            if seed == ENSEMBLE:
                seeds = self.seeds(dataset, base_model(model), balance)
                self.cache[key] = ensemble([self.get(dataset, base_model(model), balance, s) for s in seeds])
            else:
                self.cache[key] = load_arrays(self.files[key])
        return self.cache[key]


def _scorer(run: RunArrays, metric: str | None = None):
    return primary_scorer(
        run.kind,
        y_valid=run.y_valid,
        p_valid=run.p_valid,
        y=run.y_test,
        p=run.p_test,
        tasks=run.tasks,
        classes=run.classes,
        metric=metric,
    )


def task_mean_bootstrap(
    run: RunArrays, tasks: Sequence[str], n_boot: int, seed: int, metric: str | None = None
) -> tuple[float, float]:
    """95% bootstrap interval of the mean over ``tasks`` of the primary metric (or
    ``metric``) on one run's test rows: every resample draws the same rows for all tasks,
    and a task the resample leaves undefined (one class) is left out of that mean."""
    scorer = _scorer(run, metric)
    cols = [i for i, t in enumerate(scorer.tasks) if t in set(tasks)]
    if not cols or n_boot < 1:
        return math.nan, math.nan
    means = []
    for counts in count_blocks(n=scorer.n, resamples=n_boot, seed=seed):
        block = scorer(counts)[:, cols]
        ok = np.isfinite(block).any(axis=1)
        out = np.full(len(block), math.nan)
        out[ok] = np.nanmean(block[ok], axis=1)
        means.append(out)
    return percentile(np.concatenate(means))


def fill_single_seed_intervals(
    summary: pd.DataFrame, table: pd.DataFrame, predictions: Predictions, n_boot: int
) -> pd.DataFrame:
    """With one seed, or seeds that all give the same result (a deterministic model), the
    task-averaged rows have no spread across seeds: give them the bootstrap interval of
    the task mean over the (first) run's test rows instead."""
    table = configurations(table)
    eligible = table[~table["low_positives"].fillna(False).astype(bool)]
    out = summary.copy()
    for i, row in out[out["task"] == ALL_TASKS].iterrows():
        if row.get("tasks", 1) < 2 or n_boot < 1:
            continue  # one task: its run's own bootstrap CI is already there
        seeds = predictions.seeds(str(row["dataset"]), str(row["model"]), str(row["balance"]))
        if not seeds:
            continue
        key = (str(row["dataset"]), str(row["model"]), str(row["balance"]), seeds[0])
        run = predictions.get(*key)
        mine = eligible[(eligible[CONFIG] == pd.Series(dict(zip(CONFIG, key[:3])))).all(axis=1)]
        tasks = sorted(mine["task"].unique())
        for metric, name in (("score", None), ("auprc", "auprc")):
            flat = row["seeds"] == 1 or _no_spread(row[f"{metric}_sd"])
            if not flat or (name == "auprc" and not get(run.kind).ranked):
                continue
            lo, hi = task_mean_bootstrap(run, tasks, n_boot, derived_seed(0, "task_mean", *key), name)
            out.loc[i, [f"{metric}_ci_lo", f"{metric}_ci_hi"]] = [lo, hi]
    return out


def _pairs(predictions: Predictions, dataset: str, a: tuple[str, str], b: tuple[str, str]) -> list[tuple]:
    """(run a, run b) pairs on the same test rows: common seeds, or every seed of one side
    against the other's ensemble."""
    sa, sb = predictions.seeds(dataset, *a), predictions.seeds(dataset, *b)
    if ENSEMBLE in sa or ENSEMBLE in sb:
        keys = [(x, y) for x in sa for y in sb]
    else:
        keys = [(s, s) for s in sa if s in sb]
    return [(predictions.get(dataset, *a, x), predictions.get(dataset, *b, y)) for x, y in keys]


def paired_difference(pairs: list[tuple], tasks: set[str], n_boot: int, seed: int) -> dict[str, float]:
    """Mean over pairs and tasks of (a - b) on the primary metric, with a paired bootstrap
    (each resample draws the same test rows for both runs of every pair)."""
    scorers = [(_scorer(a), _scorer(b)) for a, b in pairs]
    n = scorers[0][0].n
    if any(sa.n != n or sb.n != n for sa, sb in scorers):
        raise ValueError("paired runs do not share their test rows")
    cols = [i for i, t in enumerate(scorers[0][0].tasks) if t in tasks]

    def diff(counts: np.ndarray) -> np.ndarray:
        d = np.concatenate([(sa(counts) - sb(counts))[:, cols] for sa, sb in scorers], axis=1)
        ok = np.isfinite(d).any(axis=1)
        out = np.full(len(d), math.nan)
        out[ok] = np.nanmean(d[ok], axis=1)
        return out

    observed = float(diff(np.ones((1, n), dtype=np.int64))[0])
    diffs = np.concatenate([diff(c) for c in count_blocks(n=n, resamples=n_boot, seed=seed)])
    diffs = diffs[np.isfinite(diffs)]
    lo, hi = percentile(diffs)
    tail = min(int((diffs <= 0).sum()), int((diffs >= 0).sum()))
    p = min(1.0, 2 * (tail + 1) / (len(diffs) + 1)) if len(diffs) else math.nan
    return {"difference": observed, "ci_lo": lo, "ci_hi": hi, "p_value": p}


COMPARISON_COLUMNS = [
    *("dataset", "metric", "best_model", "best_balance", "model", "balance", "pairs"),
    *("difference", "ci_lo", "ci_hi", "p_value", "verdict"),
]


TASK_COMPARISON_COLUMNS = [*COMPARISON_COLUMNS[:2], "task", *COMPARISON_COLUMNS[2:]]


def paired_comparisons(
    table: pd.DataFrame, summary: pd.DataFrame, predictions: Predictions, n_boot: int = 1000, seed: int = 0,
    per_task: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """The configuration selected on validation against every other one of its dataset:
    paired bootstrap of the mean difference in the primary metric over (seed, task) pairs
    on the shared test rows; "best better"/"best worse" when the 95% interval excludes 0,
    else "not distinguishable". ``per_task``: one row per task of a dataset with several
    tasks instead (column ``task``; e.g. each track of a signal dataset)."""
    table = configurations(table)
    eligible = table[~table["low_positives"].fillna(False).astype(bool)]
    rows = []
    for dataset, best in select(summary).items():
        data = eligible[eligible["dataset"] == dataset]
        tasks, metric = set(data["task"]), str(data["metric"].iloc[0]) if len(data) else ""
        if not per_task:
            groups = [("", tasks)]
        else:  # one row per task, for datasets of several tasks
            groups = [(t, {t}) for t in sorted(tasks)] if len(tasks) > 1 else []
        for (model, balance), _ in data.groupby(["model", "balance"]):
            if (model, balance) == best:
                continue
            pairs = _pairs(predictions, dataset, best, (model, balance))
            if not pairs:
                continue
            for task, chosen in groups:
                key = ("paired", dataset, model, balance) + ((task,) if per_task else ())
                result = paired_difference(pairs, chosen, n_boot, derived_seed(seed, *key))
                lo, hi = result["ci_lo"], result["ci_hi"]
                verdict = "best better" if lo > 0 else ("best worse" if hi < 0 else "not distinguishable")
                rows.append(
                    {"dataset": dataset, "metric": metric, "best_model": best[0], "best_balance": best[1]}
                    | ({"task": task} if per_task else {})
                    | {"model": model, "balance": balance, "pairs": len(pairs), **result, "verdict": verdict}
                )
    return pd.DataFrame(rows, columns=TASK_COMPARISON_COLUMNS if per_task else COMPARISON_COLUMNS)


def metric_estimate(long: pd.DataFrame, config: tuple[str, str, str], metric: str, task: str | None) -> tuple:
    """(mean, ci_lo, ci_hi) on test of any metric for one configuration: per seed the mean
    over ``task`` or over the tasks with enough positives, then over seeds."""
    runs = configurations(long)
    runs = runs[(runs[CONFIG] == pd.Series(dict(zip(CONFIG, config)))).all(axis=1) & (runs["split"] == "test")]
    low = set(runs.loc[(runs["metric"] == "low_positives") & (runs["value"] > 0), "task"])
    rows = runs[(runs["metric"] == metric) & (runs["task"] == task if task else ~runs["task"].isin(low))]
    if rows.empty:
        return math.nan, math.nan, math.nan
    mean, sd, lo, hi = _mean_ci(rows.groupby("seed")["value"].mean().to_numpy(dtype=float))
    if len(rows) == 1 or (rows["task"].nunique() == 1 and _no_spread(sd)):
        lo, hi = float(rows["lo"].iloc[0]), float(rows["hi"].iloc[0])
    return mean, lo, hi


PUBLISHED_COLUMNS = [
    *("dataset", "task", "metric", "published", "published_model", "source", "our_model", "our_balance"),
    *("ours", "ours_ci_lo", "ours_ci_hi", "difference", "verdict"),
]


def _ours(summary: pd.DataFrame, long: pd.DataFrame, top: pd.Series, metric: str, task: str | None) -> tuple:
    """Our figure for a published entry: the summary's score/auPRC, else from metrics.tsv."""
    row = summary[(summary[CONFIG] == top[CONFIG]).all(axis=1) & (summary["task"] == (task or ALL_TASKS))]
    for column, name in (("score", str(top["metric"])), ("auprc", "auprc")):
        if metric == name and not row.empty and not math.isnan(row.iloc[0][f"{column}_mean"]):
            r = row.iloc[0]
            return r[f"{column}_mean"], r[f"{column}_ci_lo"], r[f"{column}_ci_hi"]
    return metric_estimate(long, tuple(top[CONFIG]), metric, task)


def _verdict(value: float, mean: float, lo: float, hi: float) -> str:
    if not math.isnan(lo) and value < lo:
        return "ours above"
    if not math.isnan(hi) and value > hi:
        return "ours below"
    if math.isnan(lo):
        return "ours above" if mean > value else "ours below"
    return "inside our CI"


def published_table(
    summary: pd.DataFrame, published: Mapping[str, Sequence[Mapping[str, Any]]], long: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Published figures beside the configuration selected on validation (and only it):
    the difference, and whether the published value is below, inside or above our 95%
    interval. Any metric in metrics.tsv may be named (``long``)."""
    long = long if long is not None else pd.DataFrame(columns=LONG_COLUMNS)
    rows = []
    for dataset, entries in published.items():
        chosen = summary[(summary["dataset"] == dataset) & summary["selected"]]
        if chosen.empty:
            continue
        top = chosen.iloc[0]
        for entry in entries:
            metric, task, value = entry["metric"], entry.get("task"), float(entry["value"])
            mean, lo, hi = _ours(summary, long, top, metric, task)
            if math.isnan(mean):
                continue
            rows.append(
                {"dataset": dataset, "task": task or ALL_TASKS, "metric": metric, "published": value}
                | {"published_model": entry.get("model", ""), "source": entry["source"]}
                | {"our_model": top["model"], "our_balance": top["balance"], "ours": mean}
                | {"ours_ci_lo": lo, "ours_ci_hi": hi, "difference": mean - value}
                | {"verdict": _verdict(value, mean, lo, hi)}
            )
    return pd.DataFrame(rows, columns=PUBLISHED_COLUMNS)


def _fmt(mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isnan(lo):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


INTRO = """# Benchmark summary

Selection on validation: for each dataset, the configuration (model x balance) with the best
validation score of the kind's primary metric (per seed the mean over tasks with enough
positives, then the mean over seeds) is selected; its test score is reported, and only it is
compared with published figures. The test split plays no part in the choice.

The table of all configurations is descriptive: test scores (mean over seeds of the mean over
tasks, 95% CI across seeds; with one seed or identical seeds the bootstrap CI over the test
rows). Its last column is a paired bootstrap of the selected configuration against each other
one. Ensembles ("<model> (ensemble)") average the seeds' predictions.
"""


def _matrix(group: pd.DataFrame, comp: pd.DataFrame, metric: str, binary: bool) -> list[str]:
    """The descriptive table of every configuration's test score."""
    head = f"| model | balance | seeds | validation {metric} | test {metric} |" + (" test auprc |" if binary else "")
    lines = ["### All configurations on test (descriptive, not used for selection)", "", head + " vs selected |"]
    lines.append("|---" * (7 if binary else 6) + "|")
    for _, row in group.sort_values("score_mean", ascending=False, kind="stable").iterrows():
        hit = comp[(comp["model"] == row["model"]) & (comp["balance"] == row["balance"])]
        if row["selected"]:
            verdict = "**selected**"
        elif hit.empty:
            verdict = "not compared"
        else:
            c = hit.iloc[0]
            word = {"best better": "below", "best worse": "above"}.get(c["verdict"], "indistinguishable")
            verdict = f"{word} (Δ {-c['difference']:+.3f}, p = {c['p_value']:.3g})"
        cells = [row["model"], row["balance"], row["seeds"], f"{row['valid_mean']:.3f}"]
        cells.append(_fmt(row["score_mean"], row["score_ci_lo"], row["score_ci_hi"]))
        if binary:
            cells.append(_fmt(row["auprc_mean"], row["auprc_ci_lo"], row["auprc_ci_hi"]))
        lines.append("| " + " | ".join(str(c) for c in [*cells, verdict]) + " |")
    return lines


def _published_lines(pub: pd.DataFrame) -> list[str]:
    lines = [
        "",
        "| published | model | value | ours (selected) | difference | verdict | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in pub.iterrows():
        what = row["metric"] if row["task"] == ALL_TASKS else f"{row['metric']} ({row['task']})"
        lines.append(
            f"| {what} | {row['published_model']} | {row['published']:.3f} | "
            f"{_fmt(row['ours'], row['ours_ci_lo'], row['ours_ci_hi'])} | "
            f"{row['difference']:+.3f} | {row['verdict']} | {row['source']} |"
        )
    return lines


def _task_lines(comp: pd.DataFrame) -> list[str]:
    """Per task: the selected configuration against each other one (paired CI)."""
    lines = ["", "| task | vs | difference (selected - other) [95% paired CI] | p | verdict |", "|---|---|---|---|---|"]
    for _, row in comp.iterrows():
        lines.append(
            f"| {row['task']} | {row['model']} / {row['balance']} | {row['difference']:+.3f} "
            f"[{row['ci_lo']:+.3f}, {row['ci_hi']:+.3f}] | {row['p_value']:.3g} | {row['verdict']} |"
        )
    return lines


def markdown(
    summary: pd.DataFrame, comparisons: pd.DataFrame, published: pd.DataFrame, per_task: pd.DataFrame | None = None
) -> str:
    """The Markdown summary: per dataset the selected configuration, the descriptive test
    matrix with paired verdicts (and per task, when given), and published figures beside
    the selected one."""
    lines = [INTRO]
    agg = summary[summary["task"] == ALL_TASKS]
    for dataset, group in agg.groupby("dataset", sort=True):
        kind, metric = str(group["kind"].iloc[0]), str(group["metric"].iloc[0])
        lines += [f"## {dataset}", "", f"Target kind {kind}; primary metric {metric}.", ""]
        if "folds" in group and group["folds"].notna().any():
            n, folds = int(group["folds"].max()), group["fold_datasets"].dropna().iloc[0].replace(",", ", ")
            lines += [
                f"Cross-validated: each figure is the mean over {n} folds ({folds}); the 95% interval is",
                "across folds, the selection on the folds' mean validation score.",
                "",
            ]
        chosen = group[group["selected"]]
        if chosen.empty:
            lines += ["No configuration has a validation score: none selected.", ""]
        else:
            top = chosen.iloc[0]
            test = _fmt(top["score_mean"], top["score_ci_lo"], top["score_ci_hi"])
            lines += [
                f"**Selected on validation:** {top['model']} / {top['balance']} (validation {metric} "
                f"{top['valid_mean']:.3f}); test {metric} {test}.",
                "",
            ]
        comp = comparisons[comparisons["dataset"] == dataset]
        lines += _matrix(group, comp, metric, get(kind).ranked)
        if per_task is not None and (per_task["dataset"] == dataset).any():
            lines += _task_lines(per_task[per_task["dataset"] == dataset])
        low = summary[(summary["dataset"] == dataset) & summary["low_positives"].astype(bool)]["task"].unique()
        if len(low):
            lines.append(f"\nLeft out of the means (too few test positives): {', '.join(sorted(low))}.")
        pub = published[published["dataset"] == dataset]
        if not pub.empty:
            lines += _published_lines(pub)
        lines.append("")
    return "\n".join(lines)


def run_summary(
    *,
    table_path: str | Path,
    metrics_path: str | Path,
    runs: Sequence[Sequence[Any]],
    arrays_files: Sequence[str | Path],
    published: Mapping[str, Sequence[Mapping[str, Any]]],
    n_boot: int,
    folds: Mapping[str, str] | None = None,
    out_summary: str | Path,
    out_comparisons: str | Path,
    out_published: str | Path,
    out_markdown: str | Path,
    out_task_comparisons: str | Path | None = None,
) -> pd.DataFrame:
    """The summarize stage: statistics, selection, comparisons (and per task, to
    ``out_task_comparisons``), published figures, Markdown. ``folds`` maps each
    cross-validation fold's dataset to its base name (rows over folds)."""
    table = pd.read_csv(table_path, sep="\t", dtype={"seed": str, "task": str})
    long = pd.read_csv(metrics_path, sep="\t", dtype={"seed": str, "task": str})
    predictions = Predictions({tuple(map(str, run)): path for run, path in zip(runs, arrays_files)})
    summary = fill_single_seed_intervals(summarize(table), table, predictions, n_boot)
    summary = cross_validated(summary, folds or {})
    comparisons = paired_comparisons(table, summary, predictions, n_boot=n_boot)
    pub = published_table(summary, published, long)
    write_table(summary, out_summary)
    write_table(comparisons, out_comparisons)
    per_task = pd.DataFrame(columns=TASK_COMPARISON_COLUMNS)
    if out_task_comparisons is not None:
        per_task = paired_comparisons(table, summary, predictions, n_boot=n_boot, per_task=True)
        write_table(per_task, out_task_comparisons)
    write_table(pub, out_published)
    write_text_atomic(out_markdown, markdown(summary, comparisons, pub, per_task))
    return summary
