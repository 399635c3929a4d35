"""Classical baselines (scikit-learn): features of a bounded, seeded subsample of the
training rows, a fit, safe model files (no pickle), predictions of every kind."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from genomicdl import models as registry
from genomicdl.core.files import write_json_atomic
from genomicdl.core.seeds import stable_seed
from genomicdl.io.store import Store
from genomicdl.models.baselines import serial
from genomicdl.training.checkpoints import versions
from genomicdl.training.rebalance import load_index

log = logging.getLogger(__name__)


def subsample(index: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` rows of ``index``, drawn with a seeded generator, sorted."""
    if len(index) <= limit:
        return index
    rng = np.random.default_rng(stable_seed("subsample", seed))
    return np.sort(rng.choice(index, size=limit, replace=False))


def feature_batches(model: Any, store: Store, rows: np.ndarray, batch: int = 4096) -> Iterator[tuple[np.ndarray, ...]]:
    """(rows, features[, position labels]) of sorted ``rows``, batch by batch."""
    per_position = getattr(model, "per_position", False)
    for batch_rows, codes, *extra in store.batches(rows, batch, with_positions=per_position):
        lengths = store.lengths[batch_rows]
        yield (batch_rows, model.features(codes, lengths), *extra)


def _training_data(model: Any, store: Store, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and kind-shaped labels of ``rows`` (per position: one row per residue)."""
    xs, ys = [], []
    for batch_rows, x, *extra in feature_batches(model, store, rows):
        xs.append(x)
        if extra:
            lengths = store.lengths[batch_rows]
            valid = np.arange(extra[0].shape[1])[None, :] < lengths[:, None]
            ys.append(extra[0][valid].astype(np.int64))
        else:
            ys.append(store.labels[batch_rows])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if getattr(model, "per_position", False):
        keep = y >= 0
        x, y = x[keep], y[keep]
    return x, y


def train_baseline(
    *,
    store: str,
    index: str,
    model: str,
    params: Mapping[str, Any],
    train: Mapping[str, Any],
    seed: int,
    double_stranded: bool,
    out_model: str,
    out_stats: str,
) -> dict[str, Any]:
    """Fit a scikit-learn baseline on a bounded subsample of the training index."""
    t0 = time.time()
    rows_index, weights, strategy = load_index(index)
    with Store(store) as st:
        rows_index = rows_index[st.mask[rows_index] == 0]  # a signal store's masked windows (signal_mask)
        rows = subsample(rows_index, int(train["max_train_samples"]), seed)
        if len(rows) < len(rows_index):
            log.info("baseline trains on a seeded subsample of %d of %d rows", len(rows), len(rows_index))
        estimator = registry.build_baseline(
            model, target=st.target, alphabet=st.alphabet, double_stranded=double_stranded, seed=seed,
            params=dict(params),
        )  # fmt: skip
        x, y = _training_data(estimator, st, rows)
        if strategy == "focal":
            log.info("focal loss has no classical counterpart: %s trains unweighted, as under balance none", model)
        log.info("model %s: %d rows x %d features; %s target; balance %s", model, *x.shape, st.kind, strategy)
        if getattr(estimator, "chooses_on_validation", False):  # e.g. the signal ridge's alpha
            valid = st.rows("valid")
            estimator.validation = _training_data(estimator, st, valid[st.mask[valid] == 0])
        estimator.fit(x, y, weights)
        n_params = estimator.parameter_count()
        log.info("model %s: %d fitted parameters", model, n_params)
        meta = {
            "model": model, "family": "sklearn", "params": dict(params), "target": st.target.to_json(),
            "tasks": st.tasks, "window": st.window, "alphabet": st.alphabet, "double_stranded": double_stranded,
            "seed": seed, "balance": strategy, "parameters": n_params, "versions": versions(),
        }  # fmt: skip
    serial.save_baseline(estimator, out_model, meta)
    stats = {
        "model": model,
        "kind": meta["target"]["kind"],
        "device": "cpu",
        "balance": strategy,
        "train_rows": len(rows),
        "features": int(x.shape[1]),
        "parameters": n_params,
        "seconds": round(time.time() - t0, 2),
    }
    write_json_atomic(out_stats, stats)
    return stats


def load_baseline(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """A fitted baseline and its description, from its model file (no code is run)."""
    return serial.load_baseline(path)


def predict_baseline(model: Any, store: Store, rows: np.ndarray) -> np.ndarray:
    """Predictions for ``rows`` (any order; unique), in the kind's shape."""
    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    target = store.target
    out = np.zeros(target.k.prediction_shape(len(rows), store.window, target.outputs), np.float32)
    for batch_rows, x, *_ in feature_batches(model, store, ordered):
        at = order[np.searchsorted(ordered, batch_rows)]
        p = model.predict(x)
        if target.k.per_position:
            lengths = store.lengths[batch_rows]
            valid = np.arange(store.window)[None, :] < lengths[:, None]
            block = np.zeros((len(batch_rows), store.window, target.outputs), np.float32)
            block[valid] = p
            out[at] = block
        else:
            out[at] = p
    return out
