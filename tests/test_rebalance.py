"""Class rebalancing: counts before and after each strategy, seeds, untouched hold-outs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_models import planted_store

from genomicdl.io.store import Store, StoreWriter
from genomicdl.kinds.targets import Target
from genomicdl.training.rebalance import STRATEGIES, load_index, positive_weights, rebalance, training_index


@pytest.fixture(scope="module")
def labels() -> np.ndarray:
    """1,000 rows, 2 tasks, about 12% / 5% positive (some rows positive for both)."""
    rng = np.random.default_rng(3)
    return np.column_stack([rng.random(1000) < 0.12, rng.random(1000) < 0.05]).astype(np.uint8)


def test_strategies_are_the_five() -> None:
    assert STRATEGIES == ("none", "class_weight", "undersample", "oversample", "focal")


@pytest.mark.parametrize("strategy", ["none", "focal", "class_weight"])
def test_every_row_once(labels: np.ndarray, strategy: str) -> None:
    rows = np.arange(5000, 6000)
    index, weight = training_index(labels, rows, strategy, seed=1)
    assert np.array_equal(index, rows)
    if strategy == "class_weight":
        pos = labels.sum(axis=0)
        assert np.allclose(weight, (len(labels) - pos) / pos)
        assert np.allclose(weight, positive_weights(labels))
    else:
        assert np.array_equal(weight, np.ones(2, np.float32))


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
def test_undersample_keeps_positives_and_draws_negatives(labels: np.ndarray, ratio: float) -> None:
    rows = np.arange(1000) * 7  # row numbers are not positions
    positive = labels.any(axis=1)
    index, weight = training_index(labels, rows, "undersample", seed=5, ratio=ratio)
    assert np.array_equal(weight, np.ones(2, np.float32))
    assert len(np.unique(index)) == len(index)  # no repeats
    kept = np.isin(rows, index)
    assert kept[positive].all()  # every positive (any task) kept
    n_pos = int(positive.sum())
    assert kept[~positive].sum() == min(int((~positive).sum()), math.ceil(ratio * n_pos))
    assert np.array_equal(index, np.sort(index))


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_oversample_repeats_positives(labels: np.ndarray, ratio: float) -> None:
    rows = np.arange(1000)
    positive = labels.any(axis=1)
    index, _ = training_index(labels, rows, "oversample", seed=5, ratio=ratio)
    times = np.bincount(index, minlength=1000)
    assert (times[~positive] == 1).all()  # each negative once
    assert (times[positive] >= 1).all()  # each positive at least once
    assert times[positive].sum() == math.ceil(int((~positive).sum()) / ratio)


@pytest.mark.parametrize("strategy", ["undersample", "oversample"])
def test_samplers_are_seeded(labels: np.ndarray, strategy: str) -> None:
    rows = np.arange(1000)
    first, _ = training_index(labels, rows, strategy, seed=11)
    again, _ = training_index(labels, rows, strategy, seed=11)
    other, _ = training_index(labels, rows, strategy, seed=12)
    big, _ = training_index(labels, rows, strategy, seed=2**40)  # any seed size
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert len(big) == len(first)


def test_one_class_only_is_left_alone() -> None:
    negatives = np.zeros((50, 1), np.uint8)
    for strategy in STRATEGIES:
        index, weight = training_index(negatives, np.arange(50), strategy, seed=0)
        assert np.array_equal(index, np.arange(50)) and weight.tolist() == [1.0]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown balance strategy 'smote'"):
        training_index(np.zeros((3, 1)), np.arange(3), "smote", 0)
    with pytest.raises(ValueError, match="ratio must be positive"):
        training_index(np.zeros((3, 1)), np.arange(3), "undersample", 0, ratio=0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_rebalance_writes_training_rows_and_counts(tmp_path: Path, strategy: str) -> None:
    store = planted_store(tmp_path / "s.h5", n=600, window=30, n_tasks=2, positive_rate=0.1)
    index_path, counts_path = tmp_path / "index.npz", tmp_path / "counts.tsv"
    summary = rebalance(store, strategy, 3, 1.0, index_path, counts_path)
    index, weight, name = load_index(index_path)
    assert name == strategy and summary["rows_after"] == len(index)
    with Store(store) as opened:
        train, labels = opened.rows("train"), opened.labels
        held_out = np.concatenate([opened.rows("valid"), opened.rows("test")])
    assert np.isin(index, train).all() and not np.isin(held_out, index).any()  # hold-outs untouched
    counts = pd.read_csv(counts_path, sep="\t")
    before = counts[counts["stage"] == "before"].set_index("task")
    after = counts[counts["stage"] == "after"].set_index("task")
    for t, task in enumerate(["task0", "task1"]):
        assert before.loc[task, "positives"] == labels[train, t].sum()
        assert before.loc[task, "negatives"] == len(train) - labels[train, t].sum()
        assert after.loc[task, "positives"] == labels[index, t].sum()
        assert after.loc[task, "negatives"] == len(index) - labels[index, t].sum()
        assert after.loc[task, "pos_weight"] == pytest.approx(float(weight[t]), rel=1e-3)
    if strategy == "undersample":
        assert len(index) < len(train)
    elif strategy == "oversample":
        assert len(index) > len(train)
    else:
        assert np.array_equal(index, train)


def test_empty_training_split_is_an_error(tmp_path: Path) -> None:
    writer = StoreWriter(tmp_path / "s.h5", window=10, target=Target("binary", ("t",)), chroms=["chr1"])
    n = 5
    writer.append(np.zeros((n, 10), np.uint8), labels=np.zeros((n, 1), np.uint8), split=np.full(n, 2, np.uint8))
    writer.close()
    with pytest.raises(ValueError, match="training split is empty"):
        rebalance(tmp_path / "s.h5", "none", 1, 1.0, tmp_path / "i.npz", tmp_path / "c.tsv")
    assert not (tmp_path / "i.npz").exists()
