"""The evaluate stage: predictions of one trained model on the validation and test
splits, for every target kind; every metric (test, and the primary one on validation
for model choice) in a long table; the arrays the benchmark's paired bootstraps use."""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from genomicdl.core.files import atomic_output, write_text_atomic
from genomicdl.core.runner import CONSOLE
from genomicdl.core.seeds import stable_seed
from genomicdl.io.run_arrays import save_arrays
from genomicdl.io.store import Store
from genomicdl.kinds import get
from genomicdl.kinds.targets import Target
from genomicdl.metrics import kind_metrics
from genomicdl.training.inference import predict_rows

log = logging.getLogger(__name__)

RUN_KEYS = ("dataset", "model", "balance", "seed")
METRIC_COLUMNS = (*RUN_KEYS, "kind", "task", "split", "metric", "value", "lo", "hi")


def _labels(store: Store, rows: np.ndarray) -> np.ndarray:
    """Kind-shaped labels of ``rows`` (per-position labels read in store order)."""
    if not store.target.k.per_position:
        return store.labels[rows]
    order = np.argsort(rows, kind="stable")
    out = np.empty((len(rows), store.window), np.int8)
    out[order] = store.positions(rows[order])
    return out


def _strings(codes: np.ndarray, classes: list[str]) -> list[str]:
    """Per-position class rows as strings (one letter per class when all are letters)."""
    sep = "" if all(len(c) == 1 for c in classes) else " "
    names = np.array([*classes, "-"], dtype=object)
    return [sep.join(names[row].tolist()) for row in codes]


def score_columns(target: Target, y: np.ndarray, p: np.ndarray, lengths: np.ndarray) -> dict[str, Any]:
    """The label and score columns of the predictions table."""
    labels, cols = target.k.labels, {}
    if labels == "class":
        cols["label"] = [target.classes[i] for i in y]
        cols["predicted"] = [target.classes[i] for i in p.argmax(axis=1)]
        for i, c in enumerate(target.classes):
            cols[f"prob_{c}"] = np.round(p[:, i], 6)
    elif labels == "positions":
        pred = p.argmax(axis=-1)
        valid = np.arange(y.shape[1])[None, :] < lengths[:, None]
        masked = np.where(y >= 0, y, len(target.classes))
        cols["label"] = [s[:n] for s, n in zip(_strings(masked, list(target.classes)), lengths)]
        cols["predicted"] = [s[:n] for s, n in zip(_strings(np.where(valid, pred, len(target.classes)),
                                                             list(target.classes)), lengths)]  # fmt: skip
    else:
        names = target.classes if target.k.has_classes else target.tasks
        for i, task in enumerate(names):
            cols[f"label_{task}"] = y[:, i]
            cols[f"score_{task}"] = np.round(p[:, i], 6)
    return cols


def write_predictions(
    store: Store, rows: np.ndarray, split: np.ndarray, y: np.ndarray, p: np.ndarray, path: str
) -> None:
    """predictions.tsv.gz: one row per sequence (ids, coordinates, labels, scores)."""
    meta = {
        "split": split,
        "row": rows,
        "id": store.ids(rows),
        "chrom": [store.chroms[c] for c in store.column("chrom")[rows]],
        "start": store.column("start")[rows],
        "strand": np.array([".", "+", "-"])[store.column("strand")[rows]],
    }
    table = pd.DataFrame(meta)
    end = np.where(table["start"] >= 0, table["start"] + store.window, -1)
    table.insert(table.columns.get_loc("start") + 1, "end", end)
    table["length"] = store.lengths[rows]
    for name, values in score_columns(store.target, y, p, store.lengths[rows]).items():
        table[name] = values
    with atomic_output(path) as tmp, open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(table.to_csv(sep="\t", index=False).encode())


def _scale(target: Target, y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regression with count losses is scored on the log1p scale (documented)."""
    if target.k.labels == "values" and target.loss in ("poisson", "log1p_mse", "multinomial"):
        return np.log1p(np.clip(y, 0, None)), np.log1p(np.clip(p, 0, None))
    return y, p


def scored(
    target: Target, y: np.ndarray, p: np.ndarray, *, signal: bool, nv: int, keep: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[list[str], ...]:  # fmt: skip
    """(tasks, y, p, extra metric rows) that the metrics see. Signal stores (bins of
    bigWig tracks) are scored per track on log1p window totals over the windows the mask
    ``keep``s, with the field's profile and count metrics on test beside them and the
    unmasked log-count correlations once (genomicdl.evaluation.signal_eval.held_out_rows)."""
    if not signal:
        y, p = _scale(target, y, p)
        return list(target.tasks), y, p, []
    from genomicdl.evaluation.signal_eval import held_out_rows, log_totals
    from genomicdl.kinds.signal_layout import layout

    keep = np.ones(len(y), bool) if keep is None else keep
    tracks, _ = layout(target.tasks)
    test_keep = keep[nv:]
    extra = held_out_rows(
        y[nv:][test_keep], p[nv:][test_keep], target.tasks, counts_model=target.loss == "multinomial", seed=seed,
        unmasked=(y[nv:], p[nv:]),
    )  # fmt: skip
    return list(tracks), log_totals(y[keep], target.tasks), log_totals(p[keep], target.tasks), extra


def threshold_notices(kind: str, tasks: list[str], y_valid: np.ndarray, *, store: str, dataset: str) -> list[str]:
    """One line per binary or multilabel task whose validation rows lack a class: its F1
    threshold cannot be chosen on validation, and accuracy, F1 and MCC fall back to 0.5."""
    if get(kind).labels != "flags":
        return []
    notices = []
    for t, task in enumerate(tasks):
        y = np.asarray(y_valid)[:, t]
        positives = int(np.nansum(y))
        if 0 < positives < len(y):
            continue
        notices.append(
            f"{store}: task {task!r} has {len(y)} validation rows, {positives} positive: the F1 threshold cannot "
            "be chosen on validation, so accuracy, F1 and MCC use 0.5; give the validation split both classes "
            f"(config key datasets.{dataset}.split.valid)"
        )
    return notices


def evaluate_run(
    *,
    store: str,
    model: str,
    family: str,
    run: Mapping[str, Any],
    settings: Mapping[str, Any],
    out_predictions: str,
    out_metrics: str,
    out_arrays: str,
    device: str = "auto",
) -> pd.DataFrame:
    """Write predictions (valid + test), arrays and every metric of one run."""
    with Store(store) as st:
        valid, test = st.rows("valid"), st.rows("test")
        if family == "torch":  # a fine-tuned run leaves out the test rows its leakage guard dropped
            from genomicdl.training.finetune import excluded_test_rows

            test = np.setdiff1d(test, excluded_test_rows(model))
        if len(test) == 0:
            raise ValueError(f"{store}: the test split is empty")
        rows = np.concatenate([valid, test])
        scores = predict_rows(model, family, st, rows, device)
        labels = _labels(st, rows)
        split = np.where(np.arange(len(rows)) < len(valid), "valid", "test")
        write_predictions(st, rows, split, labels, scores, out_predictions)
        target, signal = st.target, st.attr("signal") is not None
        keep = st.mask[rows] == 0  # signal stores: windows the mask leaves out are not scored
    seed = stable_seed("bootstrap", *(run[k] for k in RUN_KEYS)) % 2**31
    tasks, y, p, extra = scored(target, labels, scores, signal=signal, nv=len(valid), keep=keep, seed=seed)
    nv = int(keep[: len(valid)].sum()) if signal else len(valid)
    for notice in threshold_notices(target.kind, tasks, y[:nv], store=store, dataset=run["dataset"]):
        log.warning("%s", notice, extra=CONSOLE)
    classes = list(target.classes) or None
    save_arrays(out_arrays, kind=target.kind, tasks=tasks, classes=classes,
                y_valid=y[:nv], p_valid=p[:nv], y_test=y[nv:], p_test=p[nv:])  # fmt: skip
    rows_out = kind_metrics(
        target.kind, y_valid=y[:nv], p_valid=p[:nv], y_test=y[nv:], p_test=p[nv:], tasks=tasks, classes=classes,
        bootstrap=int(settings["bootstrap"]), seed=seed, min_positives=int(settings["min_positives"]),
    )  # fmt: skip
    metrics = pd.DataFrame([{**{k: run[k] for k in RUN_KEYS}, "kind": target.kind, **r} for r in rows_out + extra])
    metrics = metrics.reindex(columns=METRIC_COLUMNS)
    primary = metrics[(metrics["split"] == "test") & (metrics["metric"] == target.primary)]
    for _, r in primary.iterrows():
        log.info("%s: test %s %.4f [%.4f, %.4f]", r["task"], r["metric"], r["value"], r["lo"], r["hi"])
    buf = io.StringIO()
    metrics.to_csv(buf, sep="\t", index=False, float_format="%.6g")
    write_text_atomic(out_metrics, buf.getvalue())
    return metrics

