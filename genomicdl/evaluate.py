"""The evaluate stage: predictions of one trained model on the validation and test
splits, and per-task metrics on the test split (threshold chosen on validation)."""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genomicdl.encode import Store
from genomicdl.files import atomic_output, write_text_atomic
from genomicdl.metrics import task_metrics
from genomicdl.negatives import stable_seed

log = logging.getLogger(__name__)

RUN_KEYS = ("dataset", "model", "balance", "seed")


def predict_rows(model_path: str, family: str, store: Store, rows: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Scores of ``rows`` from a saved model of either family."""
    if family == "torch":
        import torch

        from genomicdl.train import Batcher, load_network, predict

        model, meta = load_network(model_path)
        dev = torch.device("cuda" if device != "cpu" and torch.cuda.is_available() else "cpu")
        model.to(dev)
        return predict(model, store, rows, Batcher(dev), bool(meta["rc_average"]))
    from genomicdl.train import load_baseline, predict_baseline

    model, _ = load_baseline(model_path)
    return predict_baseline(model, store, rows)


def evaluate_run(
    store_path: str,
    model_path: str,
    family: str,
    run: Mapping[str, Any],
    eval_cfg: Mapping[str, Any],
    out_predictions: str,
    out_metrics: str,
    device: str = "cpu",
) -> pd.DataFrame:
    """Write predictions (valid + test) and the test metrics of one run."""
    with Store(store_path) as store:
        valid, test = store.rows("valid"), store.rows("test")
        if len(test) == 0:
            raise ValueError(f"{store_path}: the test split is empty")
        rows = np.concatenate([valid, test])
        scores = predict_rows(model_path, family, store, rows, device)
        labels = store.labels[rows]
        tasks = store.tasks
        chroms = store.chroms
        meta = {
            "split": np.where(np.arange(len(rows)) < len(valid), "valid", "test"),
            "row": rows,
            "id": store.ids(rows),
            "chrom": [chroms[c] for c in store.column("chrom")[rows]],
            "start": store.column("start")[rows],
            "strand": np.array([".", "+", "-"])[store.column("strand")[rows]],
        }
    table = pd.DataFrame(meta)
    end = np.where(table["start"] >= 0, table["start"] + store.window, -1)
    table.insert(table.columns.get_loc("start") + 1, "end", end)
    for i, task in enumerate(tasks):
        table[f"label_{task}"] = labels[:, i]
        table[f"score_{task}"] = np.round(scores[:, i], 6)
    with (
        atomic_output(out_predictions) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
    ):
        gz.write(table.to_csv(sep="\t", index=False).encode())

    nv = len(valid)
    records = []
    for i, task in enumerate(tasks):
        m = task_metrics(
            labels[nv:, i],
            scores[nv:, i],
            labels[:nv, i],
            scores[:nv, i],
            int(eval_cfg["bootstrap"]),
            stable_seed("bootstrap", *run.values(), task) % 2**31,
            int(eval_cfg["min_positives"]),
        )
        records.append({**{k: run[k] for k in RUN_KEYS}, "task": task, **m})
        log.info("%s: test auROC %.4f, auPRC %.4f (%d positives)", task, m["auroc"], m["auprc"], m["positives"])
    metrics = pd.DataFrame(records)
    buf = io.StringIO()
    metrics.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    write_text_atomic(out_metrics, buf.getvalue())
    return metrics


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A predictions.tsv.gz table."""
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
