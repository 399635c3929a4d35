"""Plots (matplotlib, headless): ROC/PR and calibration curves, benchmark points with
confidence intervals, training curves, class balance, GC distributions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from genomicdl.core.files import atomic_output
from genomicdl.io.run_arrays import read_predictions
from genomicdl.kinds import KINDS, get

Out = str | Path | Sequence[str | Path]  # one output file, or several formats of one figure


def _save(fig: plt.Figure, out: Out) -> None:
    """Save atomically, in the format of each path's suffix (PNG, SVG, ...)."""
    for path in [out] if isinstance(out, str | Path) else out:
        suffix = Path(path).suffix.lstrip(".") or "png"
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=suffix, dpi=110, bbox_inches="tight")
    plt.close(fig)


def roc_pr(dataset: str, runs: Mapping[str, str | Path], out: Out) -> None:
    """ROC and PR curves on the test split, one row of panels per task.

    ``runs`` maps a legend label (e.g. "deepbind / none") to a predictions file.
    """
    tables = {label: read_predictions(path) for label, path in runs.items()}
    first = next(iter(tables.values()))
    tasks = [c.removeprefix("label_") for c in first.columns if c.startswith("label_")]
    fig, axes = plt.subplots(len(tasks), 2, figsize=(10, 4.2 * len(tasks)), squeeze=False)
    for t, task in enumerate(tasks):
        ax_roc, ax_pr = axes[t]
        base = None
        for label, table in tables.items():
            test = table[table["split"] == "test"]
            y, p = test[f"label_{task}"].to_numpy(), test[f"score_{task}"].to_numpy()
            if y.min() == y.max():
                continue
            fpr, tpr, _ = roc_curve(y, p)
            precision, recall, _ = precision_recall_curve(y, p)
            auc = np.trapezoid(tpr, fpr)
            ap = float(np.sum(np.diff(recall[::-1]) * precision[::-1][1:]))
            ax_roc.plot(fpr, tpr, lw=1.4, label=f"{label} ({auc:.3f})")
            ax_pr.plot(recall, precision, lw=1.4, label=f"{label} ({ap:.3f})")
            base = y.mean()
        ax_roc.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
        if base is not None:
            ax_pr.axhline(base, ls="--", c="grey", lw=0.8)
        ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{dataset} / {task}: ROC")
        ax_pr.set(xlabel="recall", ylabel="precision", title=f"{dataset} / {task}: precision-recall", ylim=(0, 1.02))
        ax_roc.legend(fontsize=7, loc="lower right", title="auROC")
        ax_pr.legend(fontsize=7, loc="upper right", title="auPRC")
    fig.tight_layout()
    _save(fig, out)


def run_label(model: str, balance: str, seed: object | None = None) -> str:
    """Legend label of a run."""
    return f"{model} / {balance}" + (f" / seed {seed}" if seed is not None else "")


def labels_for(runs: Sequence[tuple[str, str, str]]) -> list[str]:
    """Legend labels for (model, balance, seed) runs; seeds shown only when several."""
    several = len({r[2] for r in runs}) > 1
    return [run_label(m, b, s if several else None) for m, b, s in runs]


def benchmark_points(summary: pd.DataFrame, dataset: str, out: Out) -> None:
    """Mean test score (the kind's primary metric; and auPRC for binary) over seeds, tasks
    averaged, with 95% CIs per model x balance; the configuration selected on validation
    is drawn darker."""
    from genomicdl.evaluation.benchmark import ALL_TASKS

    agg = summary[(summary["dataset"] == dataset) & (summary["task"] == ALL_TASKS)]
    agg = agg.sort_values(["model", "balance"], kind="stable")
    if agg.empty:  # every task of the dataset has too few test positives
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{dataset}: no task has enough test positives for a benchmark", ha="center")
        _save(fig, out)
        return
    primary = str(agg["metric"].iloc[0]) if "metric" in agg else "score"
    ranked = agg.get("kind", pd.Series()).isin([name for name in KINDS if get(name).ranked]).any()
    panels = [("score", primary)] + ([("auprc", "auprc")] if ranked else [])
    labels = [f"{m}\n{b}" for m, b in zip(agg["model"], agg["balance"])]
    selected = agg["selected"].to_numpy(dtype=bool) if "selected" in agg else np.zeros(len(agg), bool)
    fig, axes = plt.subplots(1, len(panels), figsize=(max(6, 1.3 * len(agg)) * 0.8 * len(panels), 4.2), squeeze=False)
    for ax, (column, name) in zip(axes[0], panels):
        mean = agg[f"{column}_mean"].to_numpy(dtype=float)
        lo, hi = agg[f"{column}_ci_lo"].to_numpy(dtype=float), agg[f"{column}_ci_hi"].to_numpy(dtype=float)
        err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
        x = np.arange(len(agg))
        ax.bar(x, mean, color=np.where(selected, "#3182bd", "#9ecae1"), edgecolor="#3182bd")
        ax.errorbar(x, mean, yerr=err, fmt="none", ecolor="black", capsize=4, lw=1)
        ax.set_xticks(x, labels, fontsize=8)
        low = min(np.nanmin(lo) if np.isfinite(lo).any() else np.inf, np.nanmin(mean))
        ax.set_ylim(low - 0.05 if low < 0 else max(0.0, low - 0.05), 1.0)  # correlations may be negative
        title = f"{dataset}: test {name} with 95% CI" + (" (dark: selected on validation)" if selected.any() else "")
        ax.set(ylabel=f"test {name} (mean over tasks)", title=title)
    fig.tight_layout()
    _save(fig, out)


def confusion(ax: plt.Axes, y: np.ndarray, p: np.ndarray, kind: str, classes: Sequence[str], title: str) -> None:
    """Row-normalised confusion matrix (true x predicted) of one run's test split."""
    from genomicdl.metrics import confusion_table

    table = confusion_table(kind=kind, y=y, p=p, classes=classes)
    c = len(classes)
    counts = table["count"].to_numpy(dtype=float).reshape(c, c)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(c):
        for j in range(c):
            ax.text(
                j,
                i,
                f"{share[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(c), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(c), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)


def scatter(ax: plt.Axes, y: np.ndarray, p: np.ndarray, title: str, most: int = 5000) -> None:
    """Predicted against measured values (all tasks pooled; at most ``most`` points)."""
    y, p = np.asarray(y, float).ravel(), np.asarray(p, float).ravel()
    keep = np.flatnonzero(np.isfinite(y) & np.isfinite(p))
    if len(keep) > most:
        keep = np.random.default_rng(0).choice(keep, most, replace=False)
    ax.scatter(y[keep], p[keep], s=4, alpha=0.4, color="#3182bd", linewidths=0)
    if len(keep) > 1:
        lo, hi = np.nanmin(y[keep]), np.nanmax(y[keep])
        ax.plot([lo, hi], [lo, hi], ls="--", c="grey", lw=0.8)
    ax.set(xlabel="measured", ylabel="predicted", title=title)


def predictions_plot(dataset: str, runs: Mapping[str, str | Path], out: Out) -> None:
    """One panel per run (arrays.npz): confusion matrix for multiclass and per_position,
    predicted against measured for regression and mutation_effect, ROC for binary and
    multilabel (first task or label)."""
    from genomicdl.io.run_arrays import load_arrays

    arrays = {label: load_arrays(path) for label, path in runs.items()}
    fig, axes = plt.subplots(1, max(1, len(arrays)), figsize=(4.4 * max(1, len(arrays)), 4.2), squeeze=False)
    for ax, (label, run) in zip(axes[0], arrays.items()):
        title = f"{dataset}: {label}"
        if get(run.kind).activation == "softmax":
            confusion(ax, run.y_test, run.p_test, run.kind, run.classes or [], title)
        elif get(run.kind).activation == "linear":
            scatter(ax, run.y_test, run.p_test, title)
        else:
            y, p = run.y_test[:, 0], run.p_test[:, 0]
            if y.min() != y.max():
                fpr, tpr, _ = roc_curve(y, p)
                ax.plot(fpr, tpr, lw=1.4)
            ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
            ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{title} ({run.tasks[0]})")
    fig.tight_layout()
    _save(fig, out)


def training_curves(runs: Mapping[str, str | Path], dataset: str, out: Out) -> None:
    """Training loss and the validation score per epoch (the kind's: auPRC, accuracy,
    per-position accuracy or Pearson), one line per run (history.csv files)."""
    fig, (ax_loss, ax_prc) = plt.subplots(1, 2, figsize=(11, 4))
    for label, path in runs.items():
        history = pd.read_csv(path)
        ax_loss.plot(history["epoch"], history["train_loss"], lw=1.3, label=label)
        ax_prc.plot(history["epoch"], history["valid_score"], lw=1.3, label=label)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title=f"{dataset}: training loss")
    ax_prc.set(xlabel="epoch", ylabel="validation score", title=f"{dataset}: validation score")
    if runs:
        ax_prc.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out)


def _panel_tasks(tasks: list[str]) -> list[str]:
    """One panel per task; a signal target's ``<track>:<bin>`` tasks (same rows in every
    bin) get one panel per track, its first bin (2,000 per-base panels took minutes)."""
    from genomicdl.kinds.signal_layout import layout

    tracks, bins = layout(tasks)
    return tasks if bins == 1 else [tasks[i * bins] for i in range(len(tracks))]


def class_balance(counts: Mapping[str, str | Path], dataset: str, out: Out) -> None:
    """Positives and negatives per task in the training index, before and after each
    rebalancing strategy (counts.tsv files keyed by strategy)."""
    frames = []
    for strategy, path in counts.items():
        table = pd.read_csv(path, sep="\t")
        table["strategy"] = strategy
        frames.append(table)
    table = pd.concat(frames)
    tasks = _panel_tasks(list(dict.fromkeys(table["task"])))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        sub = table[table["task"] == task]
        before = sub[sub["stage"] == "before"].iloc[0]
        after = sub[sub["stage"] == "after"]
        names = ["before", *after["strategy"]]
        pos = [before["positives"], *after["positives"]]
        neg = [before["negatives"], *after["negatives"]]
        x = np.arange(len(names))
        ax.bar(x, neg, color="#bdbdbd", label="negatives")
        ax.bar(x, pos, bottom=neg, color="#e6550d", label="positives")
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set(title=f"{dataset} / {task}", ylabel="training rows")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)


def gc_distribution(gc_table: str | Path, dataset: str, out: Out) -> None:
    """GC content of positive and negative windows per split (the preprocess GC table)."""
    table = pd.read_csv(gc_table, sep="\t")
    splits = [
        s for s in ("train", "valid", "test") if table.loc[table["split"] == s, ["positives", "negatives"]].sum().sum()
    ]
    fig, axes = plt.subplots(1, len(splits), figsize=(4.2 * len(splits), 3.5), squeeze=False)
    for ax, split in zip(axes[0], splits):
        sub = table[table["split"] == split]
        centre = (sub["gc_bin_low"] + sub["gc_bin_high"]) / 2
        for column, colour in (("positives", "#e6550d"), ("negatives", "#3182bd")):
            values = sub[column].to_numpy(dtype=float)
            ax.step(centre, values / max(values.sum(), 1), where="mid", color=colour, label=column)
        ax.set(xlabel="GC fraction", ylabel="fraction of windows", title=f"{dataset}: {split}")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)


def calibration(runs: Mapping[str, str | Path], dataset: str, out: Out, bins: int = 10) -> None:
    """Reliability diagram on the test split: observed positive rate per score bin."""
    tables = {label: read_predictions(path) for label, path in runs.items()}
    first = next(iter(tables.values()))
    tasks = [c.removeprefix("label_") for c in first.columns if c.startswith("label_")]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.3 * len(tasks), 4), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for ax, task in zip(axes[0], tasks):
        for label, table in tables.items():
            test = table[table["split"] == "test"]
            y, p = test[f"label_{task}"].to_numpy(), test[f"score_{task}"].to_numpy()
            which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
            counts = np.bincount(which, minlength=bins)
            ok = counts > 0
            mean_p = np.bincount(which, weights=p, minlength=bins)[ok] / counts[ok]
            rate = np.bincount(which, weights=y, minlength=bins)[ok] / counts[ok]
            ax.plot(mean_p, rate, marker="o", ms=3, lw=1.2, label=label)
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
        ax.set(
            xlabel="predicted probability",
            ylabel="observed positive rate",
            title=f"{dataset} / {task}",
            xlim=(0, 1),
            ylim=(0, 1),
        )
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out)
