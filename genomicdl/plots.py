"""Plots (matplotlib, headless): ROC and PR curves per dataset with every run overlaid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from genomicdl.evaluate import read_predictions
from genomicdl.files import atomic_output


def _save(fig: plt.Figure, path: str | Path) -> None:
    suffix = Path(path).suffix.lstrip(".") or "png"
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=suffix, dpi=110, bbox_inches="tight")
    plt.close(fig)


def roc_pr(dataset: str, runs: Mapping[str, str | Path], out: str | Path) -> None:
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
